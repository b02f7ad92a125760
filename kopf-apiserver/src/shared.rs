//! What the request handlers, the watches and the server's lifecycle share: the state
//! under its lock, the wake-up channels, the faults and the test hooks. Apart from the
//! server so that handlers and watches need not import the server that calls them.
//!
//! Visibility: a write is applied in memory under the lock (so resourceVersions and
//! conflicts are decided there), queued for the disk in the same section, and becomes
//! *visible* — to watchers, to its own HTTP response and to every read — only once it is
//! durable. `changed` carries the highest visible version: in memory the latest write's,
//! with a data directory the highest one the persistence writer reported on disk. Watchers
//! stream history only up to it; responses wait for it to pass the version they show. So
//! no client ever sees state that a crash could take back (as with etcd behind
//! kube-apiserver), at the cost of reads waiting at most for the group commit in flight.

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
    /// The highest visible resourceVersion (see the module's doc); raising it wakes the
    /// watchers.
    pub changed: watch::Sender<u64>,
    /// Bumped to end all watch streams abruptly.
    pub drops: watch::Sender<u64>,
    pub shutdown: watch::Sender<bool>,
    pub faults: Faults,
    pub config: ServerConfig,
    pub token: Option<String>,
    /// Service account tokens issued by TokenRequests.
    pub(crate) tokens: crate::rbac::tokens::Tokens,
    pub addr: SocketAddr,
    pub(crate) counts: Mutex<BTreeMap<String, u64>>,
    pub(crate) recording: AtomicBool,
    pub(crate) recorded: Mutex<Vec<RecordedRequest>>,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs a write under the lock, queues it for the disk, and returns once it is
    /// visible (durable, when there is a data directory).
    pub async fn write<T>(
        &self,
        f: impl FnOnce(&mut State) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let (result, commit, rv, evicted) = {
            let mut state = self.lock();
            let result = f(&mut state);
            let (commit, rv) = self.queue(&mut state);
            (result, commit, rv, std::mem::take(&mut state.evicted))
        };
        drop(evicted);
        if let Some(commit) = commit {
            commit
                .await
                .map_err(|e| ApiError::internal(e.to_string()))?;
        }
        self.visible(rv).await;
        result
    }

    /// Returns once everything in memory now is visible: a read answered after this shows
    /// nothing a crash could take back.
    pub async fn settled(&self) {
        let (commit, rv) = {
            let mut state = self.lock();
            self.queue(&mut state)
        };
        if let Some(commit) = commit {
            // A failure is the writer's to report; the version is published regardless.
            let _ = commit.await;
        }
        self.visible(rv).await;
    }

    /// Queues the lock holder's changes for the disk (the commit resolves when they are
    /// durable), or, in memory, publishes them at once. Returns the version to wait for.
    fn queue(&self, state: &mut State) -> (Option<Commit>, u64) {
        let batch = state.take_batch();
        let commit = match &state.persistence {
            Some(persistence) => batch.map(|batch| Box::pin(persistence.commit(batch)) as Commit),
            None => {
                self.publish(state.rv);
                None
            }
        };
        (commit, state.rv)
    }

    /// Raises the visible version to `rv` (never lowers it) and wakes the watchers.
    pub fn publish(&self, rv: u64) {
        publish(&self.changed, rv);
    }

    /// Waits until versions up to `rv` are visible.
    async fn visible(&self, rv: u64) {
        let mut visible = self.changed.subscribe();
        // The sender lives as long as `self`: this cannot fail while we wait.
        let _ = visible.wait_for(|v| *v >= rv).await;
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
        let mut state = self.lock();
        state.compact();
        // The counter moved: that goes to the disk too (dropping the commit future does not
        // cancel it), and publishing the new version wakes the watchers so that those
        // behind the new floor learn it.
        let _ = self.queue(&mut state);
        drop(state);
        self.changed.send_modify(|_| {});
    }
}

/// A queued commit.
type Commit = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<(), crate::persistence::PersistenceError>> + Send>,
>;

/// Raises `changed` to `rv` if it is below; wakes its receivers only then.
pub fn publish(changed: &watch::Sender<u64>, rv: u64) {
    changed.send_if_modified(|visible| {
        let raised = rv > *visible;
        if raised {
            *visible = rv;
        }
        raised
    });
}
