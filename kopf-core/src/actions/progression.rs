//! Progression: the handlers' progress within one cause — loaded from the object, updated
//! per outcome, and written back (or purged once the cause is done) in kopf's format.

use crate::storage::progress::{self, HandlerState, PREFIX};
use crate::structs::body::Body;
use crate::structs::patch::Patch;
use jiff::Timestamp;
use serde_json::{Value, json};

/// The progress of one cause's handlers, in the handlers' order.
pub struct Progress {
    pub states: Vec<(String, HandlerState)>,
    /// Changed in this cycle and not yet written.
    dirty: Vec<bool>,
    /// Records written by a mid-cycle flush (on the server, not on the cycle's body).
    written: Vec<String>,
}

impl Progress {
    /// The stored records of these handlers; records of another purpose belong to a
    /// superseded cause, so those handlers start afresh.
    pub fn load(body: &Body, purpose: &str, ids: &[&str], now: Timestamp) -> Self {
        let mut states = Vec::with_capacity(ids.len());
        let mut dirty = Vec::with_capacity(ids.len());
        for (id, stored) in progress::load_states(body.raw(), PREFIX, ids) {
            match stored.filter(|s| s.purpose.as_deref() == Some(purpose)) {
                Some(state) => {
                    states.push((id, state));
                    dirty.push(false);
                }
                None => {
                    states.push((id, HandlerState::new(purpose, now)));
                    dirty.push(true);
                }
            }
        }
        Progress {
            states,
            dirty,
            written: Vec::new(),
        }
    }

    pub fn state(&self, index: usize) -> &HandlerState {
        &self.states[index].1
    }

    pub fn update(&mut self, index: usize, state: HandlerState) {
        self.states[index].1 = state;
        self.dirty[index] = true;
    }

    pub fn is_finished(&self) -> bool {
        self.states.iter().all(|(_, s)| s.is_finished())
    }

    /// How many handlers succeeded and how many failed for good.
    pub fn counts(&self) -> (usize, usize) {
        let succeeded = self.states.iter().filter(|(_, s)| s.success).count();
        let failed = self.states.iter().filter(|(_, s)| s.failure).count();
        (succeeded, failed)
    }

    /// Puts the records that changed in this cycle into the patch.
    pub fn record(&self, patch: &Patch) {
        for ((id, state), changed) in self.states.iter().zip(&self.dirty) {
            if *changed {
                let key = progress::annotation_key(PREFIX, id);
                patch.set_keys(
                    &["metadata", "annotations", &key],
                    Value::String(state.to_json()),
                );
            }
        }
    }

    /// Puts every record into the patch, changed in this cycle or not.
    pub fn record_all(&mut self, patch: &Patch) {
        self.dirty.iter_mut().for_each(|d| *d = true);
        self.record(patch);
    }

    /// The records just recorded reached the server.
    pub fn mark_written(&mut self) {
        for ((id, _), changed) in self.states.iter().zip(self.dirty.iter_mut()) {
            if std::mem::take(changed) {
                self.written.push(progress::annotation_key(PREFIX, id));
            }
        }
    }

    /// Records of others (sub-handlers') that reached the server in this mid-cycle patch:
    /// purging them must null them, as those the object had.
    pub fn mark_sent(&mut self, sent: &Value) {
        let Some(annotations) = sent
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
        else {
            return;
        };
        for (key, value) in annotations {
            if !value.is_null() && !self.written.contains(key) {
                self.written.push(key.clone());
            }
        }
    }

    /// The seconds until the soonest unfinished handler may run (zero when one may run
    /// now); `None` when all are finished.
    pub fn delay(&self, now: Timestamp) -> Option<f64> {
        self.states
            .iter()
            .filter(|(_, s)| !s.is_finished())
            .map(|(_, s)| match s.delayed {
                Some(until) if until > now => until.duration_since(now).as_secs_f64().max(0.0),
                _ => 0.0,
            })
            .fold(None, |min: Option<f64>, d| {
                Some(min.map_or(d, |m| m.min(d)))
            })
    }

    /// Nulls every record of `all_ids` that the object carries or that this cycle wrote.
    pub fn purge<'a>(&self, body: &Body, all_ids: impl Iterator<Item = &'a str>, patch: &Patch) {
        let mut annotations = patch
            .snapshot()
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for id in all_ids {
            let key = progress::annotation_key(PREFIX, id);
            if body.annotation(&key).is_some() || self.written.contains(&key) {
                annotations.insert(key, Value::Null);
            } else {
                // Written and purged in one cycle: never sent.
                annotations.shift_remove(&key);
            }
        }
        if annotations.is_empty() {
            return;
        }
        let mut snapshot = patch.take();
        if let Some(meta) = snapshot.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("annotations".into(), Value::Object(annotations));
        } else if let Some(root) = snapshot.as_object_mut() {
            root.insert("metadata".into(), json!({ "annotations": annotations }));
        }
        patch.merge(snapshot);
    }
}
