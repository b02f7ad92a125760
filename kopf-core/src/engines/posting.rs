//! kopf's event posting: `kopf::event()`, `info()`, `warn()`, `exception()` (and, with
//! `settings.posting.loggers`, the object loggers' lines) queue Kubernetes Events; one
//! poster task per operator posts them in the background, in order.
//!
//! Handlers call these functions without any handle, so the running operator's queue is
//! kept process-wide: installed when its operator starts, removed when it stops. With
//! several operators in one process, the one started last gets the events.

use crate::clients::events::{self, K8sEvent};
use crate::logging::{LogSink, set_log_sink};
use crate::settings::PostingSettings;
use crate::structs::references::Owner;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const TARGET: &str = "kopf._core.engines.posting";
/// How long a stopping operator waits for its queued events to be posted.
const FLUSH_TIMEOUT: Duration = Duration::from_millis(1500);

/// An event in the queue, and whether it came from a logger (with its own backoffs).
struct Queued {
    event: K8sEvent,
    logged: bool,
}

/// The queue of one running operator, with its posting settings.
struct Installed {
    id: u64,
    sender: mpsc::UnboundedSender<Queued>,
    settings: Arc<PostingSettings>,
}

/// The running operators' queues, the current one last.
static POSTERS: RwLock<Vec<Installed>> = RwLock::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn posters() -> RwLockReadGuard<'static, Vec<Installed>> {
    POSTERS.read().unwrap_or_else(|p| p.into_inner())
}

fn posters_mut() -> RwLockWriteGuard<'static, Vec<Installed>> {
    POSTERS.write().unwrap_or_else(|p| p.into_inner())
}

/// Routes the object loggers' lines here while the current operator wants them.
fn route_logs(posters: &[Installed]) {
    let wanted = posters
        .last()
        .is_some_and(|p| p.settings.enabled && p.settings.loggers);
    set_log_sink(wanted.then_some(from_logger as LogSink));
}

/// One operator's poster: its queue is the current one while it runs.
pub struct Poster {
    id: u64,
    task: Option<JoinHandle<()>>,
}

impl Poster {
    /// Starts posting the events queued from now on through `client`.
    pub fn start(client: &kube::Client, settings: &PostingSettings) -> Poster {
        let (sender, receiver) = mpsc::unbounded_channel();
        let settings = Arc::new(settings.clone());
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let task = tokio::spawn(crate::logging::in_current_dispatch(serve(
            client.clone(),
            settings.clone(),
            receiver,
        )));
        let mut posters = posters_mut();
        posters.push(Installed {
            id,
            sender,
            settings,
        });
        route_logs(&posters);
        Poster {
            id,
            task: Some(task),
        }
    }

    /// Stops taking events, posts those queued within a short time, drops the rest.
    pub async fn stop(mut self) {
        uninstall(self.id);
        let Some(mut task) = self.task.take() else {
            return;
        };
        if tokio::time::timeout(FLUSH_TIMEOUT, &mut task)
            .await
            .is_err()
        {
            task.abort();
            tracing::warn!(target: TARGET, "Events not posted in {:?} are dropped: the operator has stopped.", FLUSH_TIMEOUT);
        }
    }
}

impl Drop for Poster {
    /// Not stopped (the operator failed or was dropped): the queued events are dropped.
    fn drop(&mut self) {
        uninstall(self.id);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Removes the queue: once it is drained, its poster task ends.
fn uninstall(id: u64) {
    let mut posters = posters_mut();
    posters.retain(|p| p.id != id);
    route_logs(&posters);
}

async fn serve(
    client: kube::Client,
    settings: Arc<PostingSettings>,
    mut receiver: mpsc::UnboundedReceiver<Queued>,
) {
    while let Some(Queued { event, logged }) = receiver.recv().await {
        let backoffs = if logged {
            &settings.logging_backoffs
        } else {
            &settings.default_backoffs
        };
        events::post_event(&client, &settings, &event, backoffs).await;
    }
}

/// Queues the event for the current operator if its settings let it through: posting is
/// enabled, and `least` (if any) is at least as verbose as `posting.level`.
fn enqueue(event: K8sEvent, least: Option<tracing::Level>, logged: bool) {
    let posters = posters();
    let Some(current) = posters.last() else {
        if !logged {
            tracing::warn!(
                target: TARGET,
                "No operator is running to post the event; it is dropped: type={}, reason={}, message={}.",
                event.type_, event.reason, event.message
            );
        }
        return;
    };
    let settings = &current.settings;
    let unwanted = logged && !settings.loggers;
    if unwanted || !settings.enabled || least.is_some_and(|level| settings.level < level) {
        return;
    }
    let _ = current.sender.send(Queued { event, logged });
}

fn explicit<M, O: Owner<M> + ?Sized>(
    object: &O,
    type_: &str,
    reason: String,
    message: String,
    least: Option<tracing::Level>,
) {
    let event = K8sEvent {
        reference: object.identity().object_reference(),
        type_: type_.to_string(),
        reason,
        message,
    };
    enqueue(event, least, false);
}

/// kopf's `event()`: posts an event of this type (`Normal`, `Warning`, `Error`) about the
/// object, whatever `posting.level` says (but not when posting is disabled).
pub fn event<M, O: Owner<M> + ?Sized>(
    object: &O,
    type_: &str,
    reason: impl Into<String>,
    message: impl Into<String>,
) {
    explicit(object, type_, reason.into(), message.into(), None);
}

/// kopf's `info()`: a `Normal` event, if `posting.level` is INFO or more verbose.
pub fn info<M, O: Owner<M> + ?Sized>(
    object: &O,
    reason: impl Into<String>,
    message: impl Into<String>,
) {
    let least = Some(tracing::Level::INFO);
    explicit(object, "Normal", reason.into(), message.into(), least);
}

/// kopf's `warn()`: a `Warning` event, if `posting.level` is WARN or more verbose.
pub fn warn<M, O: Owner<M> + ?Sized>(
    object: &O,
    reason: impl Into<String>,
    message: impl Into<String>,
) {
    let least = Some(tracing::Level::WARN);
    explicit(object, "Warning", reason.into(), message.into(), least);
}

/// kopf's `exception()`: an `Error` event, if `posting.level` is ERROR or more verbose.
pub fn exception<M, O: Owner<M> + ?Sized>(
    object: &O,
    reason: impl Into<String>,
    message: impl Into<String>,
) {
    let least = Some(tracing::Level::ERROR);
    explicit(object, "Error", reason.into(), message.into(), least);
}

/// An object logger's line as an event (kopf's `K8sPoster`): reason `Logging`, the type
/// by the line's level, if the level is at least as severe as `posting.level`.
fn from_logger(level: tracing::Level, reference: &Value, message: &str) {
    let type_ = match level {
        tracing::Level::ERROR => "Error",
        tracing::Level::WARN => "Warning",
        tracing::Level::INFO => "Normal",
        _ => "Debug",
    };
    let event = K8sEvent {
        reference: reference.clone(),
        type_: type_.to_string(),
        reason: "Logging".to_string(),
        message: message.to_string(),
    };
    enqueue(event, Some(level), true);
}
