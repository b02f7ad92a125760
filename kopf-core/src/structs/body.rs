//! The object as the API server sent it, shared cheaply between handlers.

use serde_json::Value;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

static NULL: Value = Value::Null;

/// A Kubernetes object body. Displays as compact one-line JSON.
#[derive(Clone, PartialEq)]
pub struct Body(Arc<Value>);

impl Body {
    pub fn new(value: Value) -> Self {
        Body(Arc::new(value))
    }

    pub fn raw(&self) -> &Value {
        &self.0
    }

    /// Looks up a dotted path (`spec.field`); `Null` where absent.
    pub fn path(&self, dotted: &str) -> &Value {
        lookup(&self.0, dotted.split('.'))
    }

    pub fn metadata(&self) -> &Value {
        self.0.get("metadata").unwrap_or(&NULL)
    }
    pub fn spec(&self) -> &Value {
        self.0.get("spec").unwrap_or(&NULL)
    }
    pub fn status(&self) -> &Value {
        self.0.get("status").unwrap_or(&NULL)
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

impl Deref for Body {
    type Target = Value;
    fn deref(&self) -> &Value {
        &self.0
    }
}

impl fmt::Display for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl From<Value> for Body {
    fn from(value: Value) -> Self {
        Body::new(value)
    }
}
