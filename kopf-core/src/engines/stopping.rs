//! Stopping one daemon or timer as kopf does: signal it, give it its cancellation backoff,
//! cancel it, give it its cancellation timeout, then leave it orphaned — with kopf's log
//! lines; one without a timeout is checked every `cancellation_polling` seconds (and
//! noticed at once when it exits).

use crate::intents::families::SpawningOptions;
use crate::intents::stoppers::{StopReason, Stopped};
use crate::logging::ObjectLogger;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::AbortHandle;

/// How long a signalled daemon gets to exit before its backoff or timeout apply.
const INSTANT_EXIT: Duration = Duration::from_millis(50);

/// Set when a daemon's task has ended, however it ended.
#[derive(Default)]
pub struct Exited {
    pub done: AtomicBool,
    pub notify: Notify,
}

impl Exited {
    /// Waits at most `timeout`; returns whether the task has ended.
    pub async fn wait(&self, timeout: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.notify.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if self.done.load(Ordering::Acquire) {
                    return;
                }
                notified.await;
            }
        };
        let _ = tokio::time::timeout(timeout, wait).await;
        self.done.load(Ordering::Acquire)
    }
}

/// Stops one daemon: kopf's sequence of signal, backoff, cancellation and timeout.
pub struct Stopper {
    /// Takes the daemon off its object's books when it is left orphaned.
    pub orphan: Box<dyn FnOnce() + Send>,
    pub label: String,
    pub options: SpawningOptions,
    pub stopped: Stopped,
    pub abort: AbortHandle,
    pub exited: Arc<Exited>,
    pub logger: ObjectLogger,
    pub polling: f64,
}

impl Stopper {
    pub async fn run(self, exiting: bool) {
        let seconds = |s: f64| Duration::from_secs_f64(s.max(0.0));
        let (backoff, timeout, polling) = match self.options {
            SpawningOptions::Daemon {
                cancellation_backoff,
                cancellation_timeout,
                cancellation_polling,
                ..
            } => (
                cancellation_backoff,
                cancellation_timeout,
                cancellation_polling.unwrap_or(self.polling),
            ),
            SpawningOptions::Timer { .. } => (None, None, self.polling),
        };
        let label = &self.label;
        if self.exited.wait(INSTANT_EXIT).await {
            if exiting {
                self.logger.debug(format!("{label} has exited gracefully."));
            }
            return;
        }
        if let Some(backoff) = backoff {
            self.logger
                .debug(format!("{label} is signalled to exit gracefully."));
            if self.exited.wait(seconds(backoff)).await {
                return;
            }
        }
        if let Some(timeout) = timeout {
            self.stopped.set(StopReason::Cancelled);
            self.logger
                .debug(format!("{label} is signalled to exit by force."));
            self.abort.abort();
            if self.exited.wait(seconds(timeout)).await {
                return;
            }
        }
        if timeout.is_some() || exiting {
            self.logger.warning(format!(
                "{label} did not exit in time. Leaving it orphaned."
            ));
            (self.orphan)();
            return;
        }
        loop {
            self.logger.debug(format!(
                "{label} is still exiting. The next check is in {polling} seconds."
            ));
            if self.exited.wait(seconds(polling)).await {
                return;
            }
        }
    }
}
