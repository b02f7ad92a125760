//! The object as the API server sent it, shared cheaply between handlers.

use serde_json::Value;
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};

static NULL: Value = Value::Null;

/// A Kubernetes object body. Displays as compact one-line JSON.
///
/// Either parsed, or compact JSON text parsed at the first access: a state kept long and
/// read rarely (the object as daemons and timers last saw it) costs its text, not a tree.
#[derive(Clone)]
pub struct Body(Arc<Inner>);

struct Inner {
    text: Option<Arc<str>>,
    parsed: OnceLock<Value>,
}

impl Body {
    pub fn new(value: Value) -> Self {
        Body(Arc::new(Inner {
            text: None,
            parsed: OnceLock::from(value),
        }))
    }

    /// A body of compact JSON text, parsed when first read (`Null` if it is not JSON).
    pub fn from_text(text: Arc<str>) -> Self {
        Body(Arc::new(Inner {
            text: Some(text),
            parsed: OnceLock::new(),
        }))
    }

    /// This body as compact JSON text, for keeping.
    pub fn to_text(&self) -> Arc<str> {
        match &self.0.text {
            Some(text) => text.clone(),
            None => self.raw().to_string().into(),
        }
    }

    pub fn raw(&self) -> &Value {
        self.0.parsed.get_or_init(|| {
            self.0
                .text
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok())
                .unwrap_or(Value::Null)
        })
    }

    /// Looks up a dotted path (`spec.field`); `Null` where absent.
    pub fn path(&self, dotted: &str) -> &Value {
        lookup(self.raw(), dotted.split('.'))
    }

    pub fn metadata(&self) -> &Value {
        self.raw().get("metadata").unwrap_or(&NULL)
    }
    pub fn spec(&self) -> &Value {
        self.raw().get("spec").unwrap_or(&NULL)
    }
    pub fn status(&self) -> &Value {
        self.raw().get("status").unwrap_or(&NULL)
    }
    pub fn name(&self) -> Option<&str> {
        self.metadata().get("name").and_then(Value::as_str)
    }
    pub fn namespace(&self) -> Option<&str> {
        self.metadata().get("namespace").and_then(Value::as_str)
    }
    pub fn uid(&self) -> Option<&str> {
        self.metadata().get("uid").and_then(Value::as_str)
    }
    pub fn resource_version(&self) -> Option<&str> {
        self.metadata()
            .get("resourceVersion")
            .and_then(Value::as_str)
    }
    pub fn labels(&self) -> &Value {
        self.metadata().get("labels").unwrap_or(&NULL)
    }
    pub fn annotations(&self) -> &Value {
        self.metadata().get("annotations").unwrap_or(&NULL)
    }
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations().get(key).and_then(Value::as_str)
    }
    pub fn finalizers(&self) -> Vec<&str> {
        self.metadata()
            .get("finalizers")
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }
    pub fn deletion_timestamp(&self) -> Option<&str> {
        self.metadata()
            .get("deletionTimestamp")
            .and_then(Value::as_str)
    }
}

/// Walks `keys` into nested objects; `Null` where any step is missing.
pub fn lookup<'a, 'k>(mut value: &'a Value, keys: impl IntoIterator<Item = &'k str>) -> &'a Value {
    for key in keys {
        match value.get(key) {
            Some(next) => value = next,
            None => return &NULL,
        }
    }
    value
}

impl PartialEq for Body {
    fn eq(&self, other: &Body) -> bool {
        self.raw() == other.raw()
    }
}

impl Deref for Body {
    type Target = Value;
    fn deref(&self) -> &Value {
        self.raw()
    }
}

impl fmt::Display for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.raw(), f)
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.raw(), f)
    }
}

impl From<Value> for Body {
    fn from(value: Value) -> Self {
        Body::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_body_kept_as_text_reads_as_the_parsed_one() {
        let parsed = Body::new(json!({"metadata": {"name": "x"}, "spec": {"a": [1, 2]}}));
        let kept = Body::from_text(parsed.to_text());
        assert_eq!(kept.name(), Some("x"));
        assert_eq!(kept.path("spec.a"), &json!([1, 2]));
        assert_eq!(kept, parsed);
        assert_eq!(kept.to_string(), parsed.to_string());
        assert_eq!(Body::from_text("not json".into()).raw(), &Value::Null);
    }
}
