//! The in-memory store: objects, the global resourceVersion, and the watch history.
//!
//! Everything lives behind one mutex held only for short, non-blocking sections; watchers
//! copy the events they need out of the history and send them after releasing it.

use crate::persistence::WriteBatch;
use crate::registry::Registry;
use bytes::Bytes;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

/// One change, serialised once for all watchers.
#[derive(Debug)]
pub struct Event {
    pub rv: u64,
    /// `group/plural`.
    pub key: String,
    pub namespace: String,
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub kind: &'static str,
    pub object: Arc<Value>,
    /// The previous state (for selector transitions).
    pub old: Option<Arc<Value>>,
    /// `{"type":…,"object":…}\n`.
    pub line: Bytes,
}

/// Renders a watch event line.
pub fn event_line(kind: &str, object: &Value) -> Bytes {
    let mut line = Vec::with_capacity(256);
    line.extend_from_slice(EVENT_HEAD);
    line.extend_from_slice(kind.as_bytes());
    line.extend_from_slice(EVENT_OBJECT);
    // Serialising a `Value` cannot fail.
    let _ = serde_json::to_writer(&mut line, object);
    line.extend_from_slice(EVENT_TAIL);
    Bytes::from(line)
}

const EVENT_HEAD: &[u8] = b"{\"type\":\"";
const EVENT_OBJECT: &[u8] = b"\",\"object\":";
const EVENT_TAIL: &[u8] = b"}\n";

/// The object's JSON inside an event line made by [`event_line`] (no copy).
pub fn object_json(kind: &str, line: &Bytes) -> Bytes {
    let start = EVENT_HEAD.len() + kind.len() + EVENT_OBJECT.len();
    line.slice(start..line.len() - EVENT_TAIL.len())
}

/// `(namespace, name)`; namespace is empty for cluster-scoped objects.
pub type ObjKey = (String, String);

#[derive(Debug)]
pub struct State {
    /// The global counter: the last resourceVersion assigned.
    pub rv: u64,
    pub registry: Registry,
    /// Objects by `group/plural`, then `(namespace, name)`.
    pub objects: HashMap<String, BTreeMap<ObjKey, Arc<Value>>>,
    /// Events with rv greater than `floor`, in rv order.
    pub history: VecDeque<Arc<Event>>,
    /// Events up to this version are gone from history: watchers behind it get 410.
    pub floor: u64,
    /// The version at the last compaction: new watches from it or older get 410.
    pub compacted: u64,
    pub history_cap: usize,
    /// Writes since the last `take_batch`, for persistence.
    batch: WriteBatch,
    /// The version of the last batch taken: every version up to it is queued for the disk.
    queued_rv: u64,
    /// Set once any stored object has `ownerReferences`: garbage collection is needed.
    pub has_owner_references: bool,
    /// Durable storage, when configured; commits are queued under the lock.
    pub persistence: Option<crate::persistence::Persistence>,
    /// Events pushed out of the history, to be freed once the lock is released (freeing an
    /// object's tree is a write's cost, not everyone's wait).
    pub evicted: Vec<Arc<Event>>,
}

impl State {
    pub fn new(registry: Registry, history_cap: usize) -> Self {
        State {
            rv: 0,
            registry,
            objects: HashMap::new(),
            history: VecDeque::new(),
            floor: 0,
            compacted: 0,
            history_cap: history_cap.max(1),
            batch: WriteBatch::default(),
            queued_rv: 0,
            persistence: None,
            has_owner_references: false,
            evicted: Vec::new(),
        }
    }

    pub fn get(&self, key: &str, namespace: &str, name: &str) -> Option<Arc<Value>> {
        self.objects
            .get(key)?
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }

    /// All objects of a resource, optionally in one namespace, in namespace/name order.
    pub fn list(&self, key: &str, namespace: Option<&str>) -> Vec<Arc<Value>> {
        let Some(map) = self.objects.get(key) else {
            return Vec::new();
        };
        match namespace {
            Some(ns) => map
                .range((ns.to_string(), String::new())..)
                .take_while(|((n, _), _)| n == ns)
                .map(|(_, v)| v.clone())
                .collect(),
            None => map.values().cloned().collect(),
        }
    }

    /// Stores `object` at a new resourceVersion and records the event.
    pub fn put(
        &mut self,
        key: &str,
        namespace: &str,
        name: &str,
        mut object: Value,
        kind: &'static str,
    ) -> Arc<Value> {
        self.rv += 1;
        set_rv(&mut object, self.rv);
        if object.pointer("/metadata/ownerReferences").is_some() {
            self.has_owner_references = true;
        }
        let line = event_line(kind, &object);
        let object = Arc::new(object);
        let old = self
            .objects
            .entry(key.to_string())
            .or_default()
            .insert((namespace.to_string(), name.to_string()), object.clone());
        if self.persistence.is_some() {
            let json = object_json(kind, &line);
            self.batch
                .puts
                .push((storage_id(key, namespace, name), json));
        }
        self.record(key, namespace, kind, object.clone(), old, line);
        object
    }

    /// Removes an object at a new resourceVersion; returns its last state (with that rv).
    pub fn remove(&mut self, key: &str, namespace: &str, name: &str) -> Option<Arc<Value>> {
        let old = self
            .objects
            .get_mut(key)?
            .remove(&(namespace.to_string(), name.to_string()))?;
        self.rv += 1;
        let mut last = (*old).clone();
        set_rv(&mut last, self.rv);
        let line = event_line("DELETED", &last);
        let last = Arc::new(last);
        self.batch.deletes.push(storage_id(key, namespace, name));
        self.record(key, namespace, "DELETED", last.clone(), Some(old), line);
        Some(last)
    }

    fn record(
        &mut self,
        key: &str,
        namespace: &str,
        kind: &'static str,
        object: Arc<Value>,
        old: Option<Arc<Value>>,
        line: Bytes,
    ) {
        self.history.push_back(Arc::new(Event {
            rv: self.rv,
            key: key.to_string(),
            namespace: namespace.to_string(),
            kind,
            object,
            old,
            line,
        }));
        while self.history.len() > self.history_cap {
            if let Some(dropped) = self.history.pop_front() {
                self.floor = dropped.rv;
                // Writers outside `Shared::write` do not take them: keep the pile small.
                if self.evicted.len() >= 1024 {
                    self.evicted.clear();
                }
                self.evicted.push(dropped);
            }
        }
    }

    /// Drops all history: watches from any version before now get 410.
    pub fn compact(&mut self) {
        self.history.clear();
        self.floor = self.rv;
        self.compacted = self.rv;
        // Lists from now on report a version above the compaction, so watching from them works.
        self.rv += 1;
    }

    /// Whether a new watch may start from `rv` (else 410).
    pub fn can_resume_from(&self, rv: u64) -> bool {
        rv >= self.floor && (self.compacted == 0 || rv > self.compacted)
    }

    /// Events after `rv` (all of them are retained when `rv >= floor`).
    pub fn events_after(&self, rv: u64) -> impl Iterator<Item = &Arc<Event>> {
        let start = self.history.partition_point(|e| e.rv <= rv);
        self.history.range(start..)
    }

    /// The writes since the last call, for persistence, at the current version. Also a
    /// batch without changes when only the counter moved (a compaction): once it is durable,
    /// every version up to now may be published.
    pub fn take_batch(&mut self) -> Option<WriteBatch> {
        let empty = self.batch.puts.is_empty() && self.batch.deletes.is_empty();
        if empty && self.rv <= self.queued_rv {
            return None;
        }
        self.queued_rv = self.rv;
        let mut batch = std::mem::take(&mut self.batch);
        batch.resource_version = self.rv;
        Some(batch)
    }

    /// Loads an object from persistence (no event, no rv bump).
    pub fn load(&mut self, id: &str, object: Value) {
        if let Some((key, namespace, name)) = parse_storage_id(id) {
            if object.pointer("/metadata/ownerReferences").is_some() {
                self.has_owner_references = true;
            }
            self.objects
                .entry(key)
                .or_default()
                .insert((namespace, name), Arc::new(object));
        }
    }

    /// Every uid currently stored (for garbage collection).
    pub fn all_uids(&self) -> std::collections::HashSet<String> {
        self.objects
            .values()
            .flat_map(|m| m.values())
            .filter_map(|o| {
                o.pointer("/metadata/uid")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .collect()
    }
}

pub fn set_rv(object: &mut Value, rv: u64) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
    }
}

/// The persistence key of an object: `group/plural/namespace/name`.
pub fn storage_id(key: &str, namespace: &str, name: &str) -> String {
    format!("{key}/{namespace}/{name}")
}

fn parse_storage_id(id: &str) -> Option<(String, String, String)> {
    let mut parts = id.splitn(4, '/');
    let group = parts.next()?;
    let plural = parts.next()?;
    let namespace = parts.next()?;
    let name = parts.next()?;
    Some((
        format!("{group}/{plural}"),
        namespace.to_string(),
        name.to_string(),
    ))
}
