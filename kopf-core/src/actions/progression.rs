//! Progression: the handlers' progress within one cause — loaded from the object, updated
//! per outcome, and written back (or purged once the cause is done) in kopf's format,
//! wherever `settings.persistence.progress_storage` keeps it.

use crate::settings::ProgressStorage;
use crate::storage::progress::HandlerState;
use crate::structs::body::Body;
use crate::structs::patch::Patch;
use jiff::Timestamp;
use serde_json::Value;

/// The progress of one cause's handlers, in the handlers' order.
pub struct Progress {
    pub states: Vec<(String, HandlerState)>,
    /// Changed in this cycle and not yet written.
    dirty: Vec<bool>,
    /// Handlers whose records a mid-cycle flush wrote (on the server, not on the cycle's body).
    written: Vec<String>,
    /// Where the records are kept, and the object they were loaded from.
    storage: ProgressStorage,
    body: Body,
}

impl Progress {
    /// The stored records of these handlers; records of another purpose belong to a
    /// superseded cause, so those handlers start afresh.
    pub fn load(
        storage: &ProgressStorage,
        body: &Body,
        purpose: &str,
        ids: &[&str],
        now: Timestamp,
    ) -> Self {
        let mut states = Vec::with_capacity(ids.len());
        let mut dirty = Vec::with_capacity(ids.len());
        for id in ids {
            let stored = storage.fetch(id, body.raw());
            match stored.filter(|s| s.purpose.as_deref() == Some(purpose)) {
                Some(state) => {
                    states.push((id.to_string(), state));
                    dirty.push(false);
                }
                None => {
                    states.push((id.to_string(), HandlerState::new(purpose, now)));
                    dirty.push(true);
                }
            }
        }
        Progress {
            states,
            dirty,
            written: Vec::new(),
            storage: storage.clone(),
            body: body.clone(),
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
        patch.edit(|patch| {
            for ((id, state), changed) in self.states.iter().zip(&self.dirty) {
                if *changed {
                    self.storage.store(id, state, self.body.raw(), patch);
                }
            }
        });
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
                self.written.push(id.clone());
            }
        }
    }

    /// Where the records are kept.
    pub fn storage(&self) -> &ProgressStorage {
        &self.storage
    }

    /// Records of others (the sub-handlers') that reached the server in this mid-cycle
    /// patch: purging them must null them, as those the object had.
    pub fn mark_sent(&mut self, sent: &Value) {
        let subrefs: Vec<String> = self
            .states
            .iter()
            .flat_map(|(_, state)| state.subrefs.iter().cloned())
            .collect();
        for id in subrefs {
            if self.storage.fetch(&id, sent).is_some() && !self.written.contains(&id) {
                self.written.push(id);
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
        patch.edit(|patch| {
            for id in all_ids {
                let written = self.written.iter().any(|w| w == id);
                // Written and purged in one cycle, but not yet sent: never sent.
                self.storage.purge(id, body.raw(), patch, written);
            }
        });
    }
}
