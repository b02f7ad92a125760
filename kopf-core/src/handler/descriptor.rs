//! The static form of a handler that `#[kopf::on::*]` emits into a linker-collected slice,
//! and the filters (`labels`, `annotations`, `value`, `old`, `new`, `when`) it carries.

use super::cause::Cause;
use super::invoke::BoxFuture;
use super::outcome::{Outcome, RetryPolicy};
use crate::Body;
use crate::registry::HandlerKind;
use crate::resource::Selector;
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::sync::Arc;

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
    /// `id = "…"`, when given.
    pub id: Option<&'static str>,
    pub selector: fn() -> Selector,
    /// `field = "spec.x"`, dotted.
    pub field: Option<&'static str>,
    pub policy: RetryPolicy,
    pub optional: bool,
    pub deleted: bool,
    pub param: fn() -> Option<Value>,
    pub filters: fn() -> Filters,
    pub invoke: fn(Cause) -> BoxFuture<'static, Outcome>,
    pub location: Location,
}

/// The marker type of [`PRESENT`] and [`ABSENT`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Marker {
    Present,
    Absent,
}

/// The key (or field) must exist, with any value.
pub const PRESENT: Marker = Marker::Present;
/// The key (or field) must not exist.
pub const ABSENT: Marker = Marker::Absent;

/// A predicate over a label's or annotation's value (`None` when absent).
pub type MetaPredicate = Arc<dyn Fn(Option<&str>) -> bool + Send + Sync>;
/// A predicate over a field's value (`None` when absent).
pub type ValuePredicate = Arc<dyn Fn(Option<&Value>) -> bool + Send + Sync>;
/// A predicate over the whole body (`when=`).
pub type WhenPredicate = Arc<dyn Fn(&Body) -> bool + Send + Sync>;

/// A filter on one label or annotation.
#[derive(Clone)]
pub enum MetaFilter {
    Equals(String),
    Present,
    Absent,
    /// Called with the value (or `None` when the key is absent).
    Callback(MetaPredicate),
}

impl MetaFilter {
    pub fn callback(f: impl Fn(Option<&str>) -> bool + Send + Sync + 'static) -> Self {
        MetaFilter::Callback(Arc::new(f))
    }

    pub fn matches(&self, actual: Option<&str>) -> bool {
        match self {
            MetaFilter::Equals(expected) => actual == Some(expected.as_str()),
            MetaFilter::Present => actual.is_some(),
            MetaFilter::Absent => actual.is_none(),
            MetaFilter::Callback(f) => f(actual),
        }
    }
}

impl From<Marker> for MetaFilter {
    fn from(marker: Marker) -> Self {
        match marker {
            Marker::Present => MetaFilter::Present,
            Marker::Absent => MetaFilter::Absent,
        }
    }
}

impl From<&str> for MetaFilter {
    fn from(value: &str) -> Self {
        MetaFilter::Equals(value.to_string())
    }
}

impl From<String> for MetaFilter {
    fn from(value: String) -> Self {
        MetaFilter::Equals(value)
    }
}

/// A filter on a field's value (`value=`, `old=`, `new=`).
#[derive(Clone)]
pub enum ValueFilter {
    Equals(Value),
    Present,
    Absent,
    /// Called with the value (or `None` when the field is absent).
    Callback(ValuePredicate),
}

impl ValueFilter {
    pub fn callback(f: impl Fn(Option<&Value>) -> bool + Send + Sync + 'static) -> Self {
        ValueFilter::Callback(Arc::new(f))
    }

    /// Any serializable value to compare with (`value = "x"`, `value = 42`).
    pub fn equals(value: impl Serialize) -> Self {
        ValueFilter::Equals(serde_json::to_value(value).unwrap_or(Value::Null))
    }

    pub fn matches(&self, actual: Option<&Value>) -> bool {
        match self {
            ValueFilter::Equals(expected) => actual == Some(expected),
            ValueFilter::Present => actual.is_some(),
            ValueFilter::Absent => actual.is_none(),
            ValueFilter::Callback(f) => f(actual),
        }
    }
}

impl From<Marker> for ValueFilter {
    fn from(marker: Marker) -> Self {
        match marker {
            Marker::Present => ValueFilter::Present,
            Marker::Absent => ValueFilter::Absent,
        }
    }
}

/// All filters of one handler; empty filters let everything through.
#[derive(Clone, Default)]
pub struct Filters {
    pub labels: Vec<(String, MetaFilter)>,
    pub annotations: Vec<(String, MetaFilter)>,
    pub value: Option<ValueFilter>,
    pub old: Option<ValueFilter>,
    pub new: Option<ValueFilter>,
    /// `when=`: a predicate over the body, checked last.
    pub when: Option<WhenPredicate>,
}

impl fmt::Debug for Filters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Filters")
            .field(
                "labels",
                &self.labels.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field(
                "annotations",
                &self.annotations.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("value", &self.value.is_some())
            .field("old", &self.old.is_some())
            .field("new", &self.new.is_some())
            .field("when", &self.when.is_some())
            .finish()
    }
}

impl Filters {
    pub fn when(
        f: impl Fn(&Body) -> bool + Send + Sync + 'static,
    ) -> Arc<dyn Fn(&Body) -> bool + Send + Sync> {
        Arc::new(f)
    }
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

/// The selector of string parts, checked at compile time by the macro.
#[doc(hidden)]
pub fn selector_from_parts(parts: &[&str]) -> Selector {
    Selector::from_parts(parts).unwrap_or_else(|_| Selector {
        group: None,
        version: None,
        name: String::new(),
    })
}

/// The `param = …` value as JSON.
#[doc(hidden)]
pub fn param_value(value: impl Serialize) -> Option<Value> {
    serde_json::to_value(value).ok()
}
