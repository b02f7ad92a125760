//! A write request as admission sees it: what is written, where, how, and the objects
//! before and after. Built by the write path under the store's lock, then read (and, for
//! mutations, changed) without it.

use serde_json::{Map, Value};

/// The admission operation of a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
        }
    }

    /// The kind of the request's `options`.
    pub fn options_kind(self) -> &'static str {
        match self {
            Operation::Create => "CreateOptions",
            Operation::Update => "UpdateOptions",
            Operation::Delete => "DeleteOptions",
        }
    }
}

/// Group, version and a name (a kind or a resource).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gvn {
    pub group: String,
    pub version: String,
    pub name: String,
}

/// Everything matching and the review need.
#[derive(Clone, Debug)]
pub struct Attributes {
    /// The resource as requested (`deployments` for `deployments/scale`).
    pub resource: Gvn,
    /// `""` for the main resource, else `status`, `scale`, ….
    pub sub_resource: String,
    /// The kind of `object`/`oldObject` (`autoscaling/v1 Scale` for `…/scale`).
    pub kind: Gvn,
    /// The resource is namespaced (namespaces themselves are not).
    pub namespaced: bool,
    pub namespace: String,
    pub name: String,
    pub operation: Operation,
    /// The object being written; `None` for deletions.
    pub object: Option<Value>,
    /// The stored object; `None` for creations.
    pub old_object: Option<Value>,
    /// The labels of the object's namespace (namespaced objects only).
    pub namespace_labels: Option<Map<String, Value>>,
    /// The other versions this group serves the same resource (and kind) at: what
    /// `matchPolicy: Equivalent` may convert to (conversion is only `apiVersion`: every
    /// served version of a resource shares one stored shape here).
    pub other_versions: Vec<String>,
    pub dry_run: bool,
    /// The write's options (`CreateOptions`, `UpdateOptions`, `DeleteOptions`).
    pub options: Value,
}

impl Attributes {
    /// The labels of the request's namespace, for `namespaceSelector`; a Namespace is
    /// matched by its own labels.
    pub fn labels_for_namespace_selector(&self) -> Option<Map<String, Value>> {
        if self.resource.group.is_empty() && self.resource.name == "namespaces" {
            let object = self.object.as_ref().or(self.old_object.as_ref());
            return Some(labels_of(object));
        }
        if !self.namespaced {
            return None;
        }
        Some(self.namespace_labels.clone().unwrap_or_default())
    }
}

/// `metadata.labels`, empty when there are none.
pub fn labels_of(object: Option<&Value>) -> Map<String, Value> {
    object
        .and_then(|o| o.pointer("/metadata/labels"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}
