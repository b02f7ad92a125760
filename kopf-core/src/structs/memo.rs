//! kopf's `memo`: per-object memory shared by every handler of the object (changing
//! handlers, event handlers, daemons, timers, indexers), as JSON by key or as typed slots;
//! and the operator-wide memo, typed values given to the operator once.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

type Slots = HashMap<TypeId, Arc<dyn Any + Send + Sync>>;

/// Per-object memory shared by all handlers of that object (in memory only, lost on restart).
#[derive(Clone, Default)]
pub struct Memo {
    values: Arc<Mutex<Map<String, Value>>>,
    slots: Arc<Mutex<Slots>>,
}

impl fmt::Debug for Memo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Memo")
            .field("values", &*self.lock())
            .finish()
    }
}

impl Memo {
    pub fn new() -> Self {
        Memo::default()
    }

    /// Locks the map; a panicking handler does not poison it for others.
    pub fn lock(&self) -> MutexGuard<'_, Map<String, Value>> {
        self.values
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
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

    /// The value under a key, deserialized; `None` when absent or of another shape.
    pub fn get_as<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.get(key).and_then(|v| serde_json::from_value(v).ok())
    }

    /// Stores any serializable value under a key.
    pub fn set_as(&self, key: impl Into<String>, value: &impl Serialize) {
        self.set(key, serde_json::to_value(value).unwrap_or(Value::Null));
    }

    /// The object's slot of type `T` (created with `T::default()` on first use), shared by
    /// every handler of the object: typed memory without keys or JSON.
    pub fn slot<T: Default + Send + 'static>(&self) -> Arc<Mutex<T>> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let entry = slots
            .entry(TypeId::of::<Mutex<T>>())
            .or_insert_with(|| Arc::new(Mutex::new(T::default())));
        match entry.clone().downcast::<Mutex<T>>() {
            Ok(slot) => slot,
            // Unreachable: the slot was stored under its own type's id.
            Err(_) => Arc::new(Mutex::new(T::default())),
        }
    }
}

/// The operator-wide memo: typed values given to the operator once (a database pool, a
/// configuration), which every handler can take as `kopf::OperatorMemo<T>`.
#[derive(Clone, Default)]
pub struct Memos(Arc<Slots>);

impl Memos {
    /// Adds (or replaces) the value of its type.
    pub fn with<T: Send + Sync + 'static>(self, value: T) -> Self {
        let mut slots: Slots = (*self.0).clone();
        slots.insert(TypeId::of::<T>(), Arc::new(value));
        Memos(Arc::new(slots))
    }

    /// The value of this type, if the operator was given one.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.0
            .get(&TypeId::of::<T>())
            .and_then(|value| value.clone().downcast::<T>().ok())
    }
}

impl fmt::Debug for Memos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Memos({} values)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn memos_keep_json_values_typed_slots_and_operator_values() {
        let memo = Memo::new();
        memo.set_as("count", &3_u32);
        assert_eq!(memo.get_as::<u32>("count"), Some(3));
        assert_eq!(memo.get("count"), Some(json!(3)));
        let clone = memo.clone();
        clone
            .slot::<Vec<String>>()
            .lock()
            .unwrap()
            .push("seen".into());
        assert_eq!(*memo.slot::<Vec<String>>().lock().unwrap(), vec!["seen"]);
        let memos = Memos::default().with(42_u64).with("pool".to_string());
        assert_eq!(memos.get::<u64>().as_deref(), Some(&42));
        assert_eq!(
            memos.get::<String>().as_deref().map(String::as_str),
            Some("pool")
        );
        assert!(memos.get::<i32>().is_none());
    }
}
