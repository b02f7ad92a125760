//! Handler filters: `labels`, `annotations`, `field`/`value`, `old`/`new` and `when`, and
//! kopf's two matching steps (pre-matching on the body, then on the change).

use crate::structs::body::{Body, lookup};
use crate::structs::diff::Diff;
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::sync::Arc;

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
/// What a filter callback looks at: the object and, for label, annotation and field
/// filters, the value filtered (`None` when absent); for changing handlers, the change.
pub struct FilterInput<'a> {
    pub body: &'a Body,
    pub value: Option<&'a Value>,
    pub change: Option<Change<'a>>,
}

/// The change a changing handler is matched against: the old and new essences, the diff.
#[derive(Clone, Copy)]
pub struct Change<'a> {
    pub old: Option<&'a Value>,
    pub new: Option<&'a Value>,
    pub diff: &'a Diff,
}

/// A filter callback of any shape, ready to call (`when = …`, combinators, callbacks with
/// injected arguments: see `kopf::filters`).
#[derive(Clone)]
pub struct Check(pub Arc<dyn Fn(&FilterInput<'_>) -> bool + Send + Sync>);

impl Check {
    pub fn matches(&self, input: &FilterInput<'_>) -> bool {
        (self.0)(input)
    }
}

/// A filter on one label or annotation.
#[derive(Clone)]
pub enum MetaFilter {
    Equals(String),
    Present,
    Absent,
    /// Called with the value (or `None` when the key is absent).
    Callback(MetaPredicate),
    /// Called with injected arguments (the value as `kopf::FilterValue`).
    Check(Check),
}

impl MetaFilter {
    pub fn callback(f: impl Fn(Option<&str>) -> bool + Send + Sync + 'static) -> Self {
        MetaFilter::Callback(Arc::new(f))
    }

    pub fn matches(&self, actual: Option<&str>, body: &Body) -> bool {
        match self {
            MetaFilter::Equals(expected) => actual == Some(expected.as_str()),
            MetaFilter::Present => actual.is_some(),
            MetaFilter::Absent => actual.is_none(),
            MetaFilter::Callback(f) => f(actual),
            MetaFilter::Check(check) => {
                let value = actual.map(|a| Value::String(a.to_string()));
                check.matches(&FilterInput {
                    body,
                    value: value.as_ref(),
                    change: None,
                })
            }
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
    /// Called with injected arguments (the value as `kopf::FilterValue`).
    Check(Check),
}

impl ValueFilter {
    pub fn callback(f: impl Fn(Option<&Value>) -> bool + Send + Sync + 'static) -> Self {
        ValueFilter::Callback(Arc::new(f))
    }

    /// Any serializable value to compare with (`value = "x"`, `value = 42`).
    pub fn equals(value: impl Serialize) -> Self {
        ValueFilter::Equals(serde_json::to_value(value).unwrap_or(Value::Null))
    }

    pub fn matches(&self, actual: Option<&Value>, body: &Body) -> bool {
        match self {
            ValueFilter::Equals(expected) => actual == Some(expected),
            ValueFilter::Present => actual.is_some(),
            ValueFilter::Absent => actual.is_none(),
            ValueFilter::Callback(f) => f(actual),
            ValueFilter::Check(check) => check.matches(&FilterInput {
                body,
                value: actual,
                change: None,
            }),
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
    /// `when=`: a predicate over the object, checked last.
    pub when: Option<Check>,
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
    /// A `when=` predicate over the body.
    pub fn when(f: impl Fn(&Body) -> bool + Send + Sync + 'static) -> Check {
        Check(Arc::new(move |input| f(input.body)))
    }
}

impl Filters {
    /// kopf's pre-matching: labels, annotations, the field's `value`, and `when`.
    pub fn prematch(&self, field: Option<&[String]>, body: &Body) -> bool {
        self.prematch_in(field, body, None)
    }

    /// Pre-matching with the change at hand (changing handlers): `when` callbacks can take
    /// `Old`, `New` and `Diff` too.
    pub fn prematch_in(
        &self,
        field: Option<&[String]>,
        body: &Body,
        change: Option<Change<'_>>,
    ) -> bool {
        let meta_ok = |filters: &[(String, MetaFilter)], map: &Value| {
            filters
                .iter()
                .all(|(key, filter)| filter.matches(map.get(key).and_then(Value::as_str), body))
        };
        if !meta_ok(&self.labels, body.labels()) || !meta_ok(&self.annotations, body.annotations())
        {
            return false;
        }
        if let (Some(field), Some(filter)) = (field, &self.value)
            && !filter.matches(resolve(Some(body.raw()), field), body)
        {
            return false;
        }
        match &self.when {
            Some(when) => when.matches(&FilterInput {
                body,
                value: None,
                change,
            }),
            None => true,
        }
    }

    /// The change's part of matching, with `field=`: the field changed (when the handler
    /// needs a change), and `old`/`new` match.
    pub fn match_change(
        &self,
        body: &Body,
        field: &[String],
        needs_change: bool,
        old: Option<&Value>,
        new: Option<&Value>,
    ) -> bool {
        let old = resolve(old, field);
        let new = resolve(new, field);
        (!needs_change || old != new)
            && self.old.as_ref().is_none_or(|f| f.matches(old, body))
            && self.new.as_ref().is_none_or(|f| f.matches(new, body))
    }
}

/// The value at a field path; `None` when absent (or `null`).
pub fn resolve<'a>(root: Option<&'a Value>, field: &[String]) -> Option<&'a Value> {
    root.map(|root| lookup(root, field.iter().map(String::as_str)))
        .filter(|v| !v.is_null())
}

/// `spec.field` as its keys.
pub fn split_field(dotted: &str) -> Vec<String> {
    dotted.split('.').map(str::to_string).collect()
}
