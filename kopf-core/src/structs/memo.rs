//! kopf's `memo`: per-object memory shared by every handler of the object.

use serde_json::{Map, Value};
use std::sync::{Arc, Mutex, MutexGuard};

/// Per-object memory shared by all handlers of that object (in memory only, lost on restart).
#[derive(Clone, Debug, Default)]
pub struct Memo(Arc<Mutex<Map<String, Value>>>);

impl Memo {
    pub fn new() -> Self {
        Memo::default()
    }

    /// Locks the map; a panicking handler does not poison it for others.
    pub fn lock(&self) -> MutexGuard<'_, Map<String, Value>> {
        self.0.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    pub fn get(&self, key: &str) -> Option<Value> {
        self.lock().get(key).cloned()
    }

    pub fn set(&self, key: impl Into<String>, value: Value) {
        self.lock().insert(key.into(), value);
    }

    pub fn remove(&self, key: &str) -> Option<Value> {
        self.lock().remove(key)
    }
}
