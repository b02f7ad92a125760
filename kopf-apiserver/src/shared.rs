//! What the request handlers, the watches and the server's lifecycle share: the state
//! under its lock, the wake-up channels, the faults and the test hooks. Apart from the
//! server so that handlers and watches need not import the server that calls them.

use crate::config::ServerConfig;
use crate::faults::Faults;
use crate::status::ApiError;
use crate::store::State;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use tokio::sync::watch;

/// One request as the server saw it (test hook).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub content_type: String,
    pub body: String,
}

/// What request handlers and watches share.
pub struct Shared {
    pub(crate) state: Mutex<State>,
    /// The latest resourceVersion; every write wakes the watchers.
    pub changed: watch::Sender<u64>,
    /// Bumped to end all watch streams abruptly.
    pub drops: watch::Sender<u64>,
    pub shutdown: watch::Sender<bool>,
    pub faults: Faults,
    pub config: ServerConfig,
    pub token: Option<String>,
    pub addr: SocketAddr,
    pub(crate) counts: Mutex<BTreeMap<String, u64>>,
    pub(crate) recording: AtomicBool,
    pub(crate) recorded: Mutex<Vec<RecordedRequest>>,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs a write under the lock, wakes the watchers, and waits until it is durable.
    pub async fn write<T>(
        &self,
        f: impl FnOnce(&mut State) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let (result, commit, rv) = {
            let mut state = self.lock();
            let result = f(&mut state);
            let commit = state
                .take_batch()
                .and_then(|batch| state.persistence.as_ref().map(|p| p.commit(batch)));
            (result, commit, state.rv)
        };
        self.changed.send_replace(rv);
        if let Some(commit) = commit {
            commit
                .await
                .map_err(|e| ApiError::internal(e.to_string()))?;
        }
        result
    }

    pub fn count(&self, verb: &str) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        *counts.entry(verb.to_string()).or_default() += 1;
    }

    pub fn recording(&self) -> bool {
        self.recording.load(Ordering::Relaxed)
    }

    pub fn record(&self, request: RecordedRequest) {
        self.recorded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(request);
    }

    /// No watch faults configured: skip per-event checks.
    pub fn faults_quiet(&self) -> bool {
        let config = self.faults.get();
        config.watch_drop_after.is_none()
            && (config.watch_drop_ratio.is_nan() || config.watch_drop_ratio <= 0.0)
    }

    pub(crate) fn compact(&self) {
        self.lock().compact();
        // Wake the watchers so that those behind the new floor learn it.
        self.changed.send_modify(|_| {});
    }
}
