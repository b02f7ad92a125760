//! The static form of a handler that `#[kopf::on::*]` emits into a linker-collected slice.

use crate::intents::causes::{
    ActivityCause, ChangingCause, IndexingCause, SpawningCause, WatchingCause,
};
use crate::intents::families::{AdmissionOptions, HandlerKind, SpawningOptions};
use crate::intents::filters::Filters;
use crate::intents::webhooks::AdmissionCause;
use crate::invocation::guard::BoxFuture;
use crate::invocation::outcome::{Outcome, RetryPolicy};
use crate::structs::resource::Selector;
use serde::Serialize;
use serde_json::Value;
use std::fmt;

/// Every `#[kopf::on::*]` handler linked into the binary; read by `Registry::linked()`.
#[linkme::distributed_slice]
pub static KOPF_HANDLERS: [HandlerDescriptor];

/// Where a handler attribute was written: handlers run in declaration order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub file: &'static str,
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A handler as the attribute macro declares it: const-constructible, with lazy parts as fn pointers.
pub struct HandlerDescriptor {
    pub kind: HandlerKind,
    /// The function's bare name (the default id).
    pub fn_name: &'static str,
    /// The function's module path: handlers of one function under several attributes
    /// run once per cause.
    pub module: &'static str,
    /// `id = "…"`, when given.
    pub id: Option<&'static str>,
    pub selector: fn() -> Selector,
    /// `field = "spec.x"`, dotted.
    pub field: Option<&'static str>,
    pub policy: RetryPolicy,
    pub param: fn() -> Option<Value>,
    pub filters: fn() -> Filters,
    /// The family's own part: its invoker and options.
    pub family: FamilyDescriptor,
    pub location: Location,
}

/// What differs between families: the invoker's cause type and the family's options.
pub enum FamilyDescriptor {
    Changing {
        invoke: fn(ChangingCause) -> BoxFuture<'static, Outcome>,
        optional: bool,
        deleted: bool,
    },
    Watching {
        invoke: fn(WatchingCause) -> BoxFuture<'static, Outcome>,
    },
    Spawning {
        invoke: fn(SpawningCause) -> BoxFuture<'static, Outcome>,
        options: SpawningOptions,
    },
    Indexing {
        invoke: fn(IndexingCause) -> BoxFuture<'static, Outcome>,
    },
    Activity {
        invoke: fn(ActivityCause) -> BoxFuture<'static, Outcome>,
    },
    Admission {
        invoke: fn(AdmissionCause) -> BoxFuture<'static, Outcome>,
        options: AdmissionOptions,
    },
}

/// The selector of a Rust resource type (`#[kopf::on::create(MyResource)]`).
#[doc(hidden)]
pub fn selector_of<K: kube::Resource<DynamicType = ()>>() -> Selector {
    Selector {
        group: Some(K::group(&()).into_owned()),
        version: Some(K::version(&()).into_owned()),
        name: K::plural(&()).into_owned(),
    }
}

/// What an activity handler "selects": nothing (activities are about the operator).
#[doc(hidden)]
pub fn no_selector() -> Selector {
    Selector {
        group: None,
        version: None,
        name: String::new(),
    }
}

/// The selector of string parts, checked at compile time by the macro.
#[doc(hidden)]
pub fn selector_from_parts(parts: &[&str]) -> Selector {
    Selector::from_parts(parts).unwrap_or_else(|_| no_selector())
}

/// The `param = …` value as JSON.
#[doc(hidden)]
pub fn param_value(value: impl Serialize) -> Option<Value> {
    serde_json::to_value(value).ok()
}
