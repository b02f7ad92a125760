//! kopf's in-memory indices: what index handlers returned per object, looked up by key
//! from any handler, and whether every indexed resource has been listed once.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use tokio::sync::Notify;

/// The JSON member by which [`Keyed`] entries are recognised.
const KEYED: &str = "$kopf/keyed";

/// kopf's dict of key → value with keys of any serializable shape (tuples, numbers), as
/// index functions return it: `Keyed::from([((namespace, name), true)])`.
#[derive(Clone, Debug, PartialEq)]
pub struct Keyed<K, V>(pub Vec<(K, V)>);

impl<K, V, const N: usize> From<[(K, V); N]> for Keyed<K, V> {
    fn from(entries: [(K, V); N]) -> Self {
        Keyed(entries.into())
    }
}

impl<K, V> FromIterator<(K, V)> for Keyed<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(entries: I) -> Self {
        Keyed(entries.into_iter().collect())
    }
}

impl<K: Serialize, V: Serialize> Serialize for Keyed<K, V> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(KEYED, &self.0)?;
        map.end()
    }
}

/// One index: values by key, each value contributed by one object.
#[derive(Default)]
struct Store {
    /// Key (as compact JSON, `null` for keyless values) → (object uid, value).
    by_key: BTreeMap<String, Vec<(String, Value)>>,
    /// Object uid → the keys it contributed to.
    by_object: HashMap<String, Vec<String>>,
}

/// A handle on one index, as handlers receive it: always current.
#[derive(Clone, Default)]
pub struct Index(Arc<RwLock<Store>>);

impl Index {
    fn read(&self) -> RwLockReadGuard<'_, Store> {
        self.0.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Store> {
        self.0.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The values under a key (any serializable key: a string, a tuple, `()` for keyless).
    pub fn get(&self, key: impl Serialize) -> Vec<Value> {
        let key = serde_json::to_string(&key).unwrap_or_default();
        self.read()
            .by_key
            .get(&key)
            .map(|values| values.iter().map(|(_, v)| v.clone()).collect())
            .unwrap_or_default()
    }

    /// The values under a key, deserialized; values of another shape are skipped.
    pub fn get_as<T: DeserializeOwned>(&self, key: impl Serialize) -> Vec<T> {
        self.get(key)
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect()
    }

    /// Every key, as JSON.
    pub fn keys(&self) -> Vec<Value> {
        self.read()
            .by_key
            .keys()
            .filter_map(|k| serde_json::from_str(k).ok())
            .collect()
    }

    /// Every key with its values, keys as JSON.
    pub fn items(&self) -> Vec<(Value, Vec<Value>)> {
        self.read()
            .by_key
            .iter()
            .filter_map(|(key, values)| {
                let key = serde_json::from_str(key).ok()?;
                Some((key, values.iter().map(|(_, v)| v.clone()).collect()))
            })
            .collect()
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.read().by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Replaces what one object contributes: kopf's dict of key → value for a JSON
    /// object, a keyless value for anything else, nothing for `null`.
    pub fn replace(&self, uid: &str, returned: Option<Value>) {
        let entries: Vec<(String, Value)> = match returned {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(mut map)) if map.len() == 1 && map.contains_key(KEYED) => {
                let pairs = map.remove(KEYED).unwrap_or_default();
                pairs
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|pair| match pair.as_array().map(Vec::as_slice) {
                        Some([key, value]) => Some((
                            serde_json::to_string(key).unwrap_or_default(),
                            value.clone(),
                        )),
                        _ => None,
                    })
                    .collect()
            }
            Some(Value::Object(map)) => map
                .into_iter()
                .map(|(k, v)| (serde_json::to_string(&k).unwrap_or_default(), v))
                .collect(),
            Some(value) => vec![("null".to_string(), value)],
        };
        let mut store = self.write();
        if let Some(keys) = store.by_object.remove(uid) {
            for key in keys {
                if let Some(values) = store.by_key.get_mut(&key) {
                    values.retain(|(owner, _)| owner != uid);
                    if values.is_empty() {
                        store.by_key.remove(&key);
                    }
                }
            }
        }
        if entries.is_empty() {
            return;
        }
        let keys = entries.iter().map(|(k, _)| k.clone()).collect();
        for (key, value) in entries {
            store
                .by_key
                .entry(key)
                .or_default()
                .push((uid.to_string(), value));
        }
        store.by_object.insert(uid.to_string(), keys);
    }
}

/// Every index of the operator, by the index handler's id, and their readiness.
#[derive(Clone, Default)]
pub struct Indices(Arc<IndicesInner>);

impl std::fmt::Debug for Indices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Indices")
    }
}

#[derive(Default)]
struct IndicesInner {
    indices: RwLock<HashMap<String, Index>>,
    /// Indexed resources whose first listing has not been fully delivered yet.
    unlisted: AtomicUsize,
    /// Objects of first listings delivered but not indexed yet.
    pending: AtomicUsize,
    ready: Notify,
}

impl Indices {
    /// The index of this id (created empty on first use).
    pub fn index(&self, id: &str) -> Index {
        if let Some(index) = self
            .0
            .indices
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
        {
            return index.clone();
        }
        let mut indices = self.0.indices.write().unwrap_or_else(|p| p.into_inner());
        indices.entry(id.to_string()).or_default().clone()
    }

    /// Whether an index of this id exists.
    pub fn has(&self, id: &str) -> bool {
        self.0
            .indices
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(id)
    }

    /// Expects the first listing of this many indexed resources.
    pub fn expect_listings(&self, resources: usize) {
        self.0.unlisted.fetch_add(resources, Ordering::AcqRel);
    }

    /// An object of a first listing is on its way to its indexer.
    pub fn listed_object(&self) {
        self.0.pending.fetch_add(1, Ordering::AcqRel);
    }

    /// That object has been indexed.
    pub fn indexed_object(&self) {
        self.0.pending.fetch_sub(1, Ordering::AcqRel);
        self.0.ready.notify_waiters();
    }

    /// An indexed resource's first listing has been fully delivered.
    pub fn listing_done(&self) {
        self.0.unlisted.fetch_sub(1, Ordering::AcqRel);
        self.0.ready.notify_waiters();
    }

    pub fn is_ready(&self) -> bool {
        self.0.unlisted.load(Ordering::Acquire) == 0 && self.0.pending.load(Ordering::Acquire) == 0
    }

    /// Resolves once every indexed resource has been listed and its objects indexed.
    pub async fn ready(&self) {
        loop {
            let notified = self.0.ready.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_ready() {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_contribute_keyed_and_keyless_values_and_take_them_back() {
        let index = Index::default();
        index.replace("a", Some(json!({"ns1": "pod-a"})));
        index.replace("b", Some(json!({"ns1": "pod-b", "ns2": "pod-b"})));
        index.replace("c", Some(json!("loose")));
        assert_eq!(index.get("ns1"), vec![json!("pod-a"), json!("pod-b")]);
        assert_eq!(index.get_as::<String>("ns2"), vec!["pod-b".to_string()]);
        assert_eq!(index.get(()), vec![json!("loose")]);
        index.replace("b", Some(json!({"ns2": "pod-b"})));
        assert_eq!(index.get("ns1"), vec![json!("pod-a")]);
        index.replace("a", None);
        assert!(index.get("ns1").is_empty());
        assert_eq!(index.len(), 2);
    }

    #[test]
    fn keyed_entries_take_keys_of_any_shape() {
        let index = Index::default();
        let keyed = Keyed::from([(("default", "pod-a"), true), (("other", "pod-b"), false)]);
        index.replace("a", serde_json::to_value(&keyed).ok());
        assert_eq!(index.get(("default", "pod-a")), vec![json!(true)]);
        assert_eq!(index.get_as::<bool>(("other", "pod-b")), vec![false]);
        assert_eq!(
            index.keys(),
            vec![json!(["default", "pod-a"]), json!(["other", "pod-b"])]
        );
    }
}
