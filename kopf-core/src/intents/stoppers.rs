//! kopf's daemon stopper: the flag a daemon or timer is signalled with when its object is
//! deleted, stops matching its filters, or the operator exits — with the reason, and ways
//! to wait for it from async code and from plain threads.

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;

/// Why a daemon or timer is being stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StopReason {
    /// The object is being deleted or is gone.
    ResourceDeleted,
    /// The object no longer matches the handler's filters.
    FiltersMismatch,
    /// The operator is exiting.
    OperatorExiting,
    /// The cancellation backoff passed: an async daemon is being cancelled.
    Cancelled,
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StopReason::ResourceDeleted => "resource deleted",
            StopReason::FiltersMismatch => "filters mismatch",
            StopReason::OperatorExiting => "operator exiting",
            StopReason::Cancelled => "cancelled",
        })
    }
}

#[derive(Default)]
struct Inner {
    reason: Mutex<Option<StopReason>>,
    changed: Condvar,
    notify: Notify,
}

/// kopf's `stopped`: whether the daemon should exit, and why.
///
/// Async daemons `await stopped.wait()` (or poll [`Stopped::is_set`]); plain-fn daemons,
/// which run on a blocking thread, use [`Stopped::wait_blocking`].
#[derive(Clone, Default)]
pub struct Stopped(Arc<Inner>);

impl Stopped {
    pub fn new() -> Self {
        Stopped::default()
    }

    fn lock(&self) -> MutexGuard<'_, Option<StopReason>> {
        self.0.reason.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the daemon has been asked to exit.
    pub fn is_set(&self) -> bool {
        self.lock().is_some()
    }

    /// Why it has been asked to exit; `None` while it may run.
    pub fn reason(&self) -> Option<StopReason> {
        *self.lock()
    }

    /// Asks the daemon to exit; the first reason is kept, except that a cancellation
    /// replaces it (the daemon is then past its graceful period).
    pub fn set(&self, reason: StopReason) {
        let mut current = self.lock();
        if current.is_none() || reason == StopReason::Cancelled {
            *current = Some(reason);
        }
        drop(current);
        self.0.changed.notify_all();
        self.0.notify.notify_waiters();
    }

    /// Resolves once the daemon is asked to exit.
    pub async fn wait(&self) {
        loop {
            let notified = self.0.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_set() {
                return;
            }
            notified.await;
        }
    }

    /// Waits at most `timeout`; returns whether the daemon is asked to exit.
    pub async fn wait_timeout(&self, timeout: Duration) -> bool {
        let _ = tokio::time::timeout(timeout, self.wait()).await;
        self.is_set()
    }

    /// Blocks this thread at most `timeout` (for plain-fn daemons); returns whether the
    /// daemon is asked to exit.
    pub fn wait_blocking(&self, timeout: Duration) -> bool {
        let guard = self.lock();
        let (guard, _) = self
            .0
            .changed
            .wait_timeout_while(guard, timeout, |reason| reason.is_none())
            .unwrap_or_else(|p| p.into_inner());
        guard.is_some()
    }
}

impl fmt::Debug for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Stopped").field(&self.reason()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiters_wake_on_the_first_reason_from_async_code_and_threads() {
        let stopped = Stopped::new();
        assert!(!stopped.wait_timeout(Duration::from_millis(10)).await);
        let thread = {
            let stopped = stopped.clone();
            std::thread::spawn(move || stopped.wait_blocking(Duration::from_secs(10)))
        };
        let waiter = tokio::spawn({
            let stopped = stopped.clone();
            async move { stopped.wait().await }
        });
        stopped.set(StopReason::ResourceDeleted);
        stopped.set(StopReason::OperatorExiting);
        waiter.await.unwrap();
        assert!(thread.join().unwrap());
        assert_eq!(stopped.reason(), Some(StopReason::ResourceDeleted));
        stopped.set(StopReason::Cancelled);
        assert_eq!(stopped.reason(), Some(StopReason::Cancelled));
    }
}
