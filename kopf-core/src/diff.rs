//! Diffs between essences, in kopf's format: `(op, field, old, new)` items.
//!
//! OWNER: helper "core-logic" implements the functions; the types are shared.

use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiffOp {
    Add,
    Change,
    Remove,
}

/// One change: `field` is the key path (empty = the root); `None` = absent.
#[derive(Clone, Debug, PartialEq)]
pub struct DiffItem {
    pub op: DiffOp,
    pub field: Vec<String>,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

/// An ordered list of changes (added keys, removed keys, then common keys, recursively).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diff(pub Vec<DiffItem>);
