//! The merge-patch accumulator that handlers write into; applied after the cycle.

use serde_json::{Map, Value};
use std::sync::{Arc, Mutex, MutexGuard};

/// A JSON merge-patch (RFC 7386) being built by handlers and the framework.
///
/// Clones share the same patch, so a handler's writes reach the framework.
#[derive(Clone, Default, Debug)]
pub struct Patch(Arc<Mutex<Value>>);

impl Patch {
    pub fn new() -> Self {
        Patch(Arc::new(Mutex::new(Value::Object(Map::new()))))
    }

    fn lock(&self) -> MutexGuard<'_, Value> {
        // A panicking handler must not poison the patch for the framework.
        self.0.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    /// Sets a dotted path (`status.phase`) to a value; `Value::Null` deletes the key on the server.
    pub fn set(&self, dotted: &str, value: Value) {
        let mut guard = self.lock();
        let keys: Vec<&str> = dotted.split('.').collect();
        set_path(&mut guard, &keys, value);
    }

    /// Sets a path given as separate keys (for keys that contain dots, like annotations).
    pub fn set_keys(&self, keys: &[&str], value: Value) {
        let mut guard = self.lock();
        set_path(&mut guard, keys, value);
    }

    /// Marks a dotted path for deletion (sets it to `null`).
    pub fn remove(&self, dotted: &str) {
        self.set(dotted, Value::Null);
    }

    /// Merges a whole patch document into this one (later values win; nested objects merge).
    pub fn merge(&self, other: Value) {
        let mut guard = self.lock();
        merge_into(&mut guard, other);
    }

    /// Edits the patch document in place.
    pub fn edit<R>(&self, change: impl FnOnce(&mut Value) -> R) -> R {
        change(&mut self.lock())
    }

    /// The patch as it is now.
    pub fn snapshot(&self) -> Value {
        self.lock().clone()
    }

    /// Takes the accumulated patch out, leaving an empty one.
    pub fn take(&self) -> Value {
        std::mem::replace(&mut *self.lock(), Value::Object(Map::new()))
    }

    pub fn is_empty(&self) -> bool {
        match &*self.lock() {
            Value::Object(map) => map.is_empty(),
            Value::Null => true,
            _ => false,
        }
    }
}

fn set_path(target: &mut Value, keys: &[&str], value: Value) {
    let Some((last, parents)) = keys.split_last() else {
        *target = value;
        return;
    };
    let mut node = target;
    for key in parents {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        node = node
            .as_object_mut()
            .map(|map| {
                map.entry(key.to_string())
                    .or_insert_with(|| Value::Object(Map::new()))
            })
            .expect("node was just made an object");
    }
    if !node.is_object() {
        *node = Value::Object(Map::new());
    }
    if let Some(map) = node.as_object_mut() {
        map.insert(last.to_string(), value);
    }
}

/// Merges `patch` into `target` as a patch-of-patches: nulls are kept (they mean "delete").
pub fn merge_into(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(existing), Value::Object(incoming)) => {
            for (key, value) in incoming {
                match existing.get_mut(&key) {
                    Some(slot) if slot.is_object() && value.is_object() => merge_into(slot, value),
                    _ => {
                        existing.insert(key, value);
                    }
                }
            }
        }
        (target, patch) => *target = patch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_builds_nested_objects_and_keeps_nulls() {
        let patch = Patch::new();
        patch.set("status.phase", json!("Ready"));
        patch.set_keys(
            &["metadata", "annotations", "kopf.zalando.org/x"],
            Value::Null,
        );
        assert_eq!(
            patch.snapshot(),
            json!({"status": {"phase": "Ready"}, "metadata": {"annotations": {"kopf.zalando.org/x": null}}})
        );
    }

    #[test]
    fn merge_combines_nested_objects() {
        let patch = Patch::new();
        patch.merge(json!({"status": {"a": 1}}));
        patch.merge(json!({"status": {"b": 2}, "spec": {"x": null}}));
        assert_eq!(
            patch.snapshot(),
            json!({"status": {"a": 1, "b": 2}, "spec": {"x": null}})
        );
        assert!(!patch.is_empty());
        patch.take();
        assert!(patch.is_empty());
    }
}
