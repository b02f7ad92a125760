//! Watch streams (API-60..69): a task per watch with its own cursor into the shared history,
//! woken by a version broadcast; it sends pre-serialised lines into the response body.
//! Watchers see history only up to the visible version (`Shared::changed`: durable, when
//! there is a data directory), so an event a watcher got is never lost to a crash.

use crate::glue::{FieldSelector, LabelSelector};
use crate::registry::Resource;
use crate::shared::Shared;
use crate::status::ApiError;
use crate::store::{Event, event_line, set_rv};
use bytes::Bytes;
use hyper::body::{Body, Frame};
use serde_json::{Value, json};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A response body fed by a channel; an `Err` item aborts the connection (abrupt end).
pub struct ChannelBody {
    rx: mpsc::Receiver<Result<Bytes, BoxError>>,
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(Ok(bytes))) => Poll::Ready(Some(Ok(Frame::data(bytes)))),
            Poll::Ready(Some(Err(err))) => Poll::Ready(Some(Err(err))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// What a watcher sends for one event, picked under the lock: a line as stored, or an
/// object (and its event type) to render after the lock is released.
enum Outgoing {
    Line(Bytes),
    Object(&'static str, Arc<Value>),
}

/// What a watch request asked for.
pub struct WatchParams {
    pub resource: Arc<Resource>,
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    /// `None` for unset or `0`: start with synthetic ADDED events.
    pub resource_version: Option<u64>,
    /// `sendInitialEvents=true`: synthetic ADDED then an initial-events-end bookmark.
    pub send_initial_events: bool,
    pub bookmarks: bool,
    pub timeout: Option<Duration>,
    /// Asked for Tables (`kubectl get -w`): each event's object is a one-row Table.
    pub table: Option<TableWatch>,
}

/// How a Table watch renders its events.
pub struct TableWatch {
    /// `includeObject`.
    pub include_object: Option<String>,
    pub renderer: crate::tables::Renderer,
}

impl WatchParams {
    fn matches(&self, object: &Value) -> bool {
        if let Some(ns) = &self.namespace {
            let actual = object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("");
            if actual != ns {
                return false;
            }
        }
        self.labels.matches(object) && self.fields.matches(object)
    }

    fn filtered(&self) -> bool {
        !self.labels.is_empty() || !self.fields.is_empty()
    }

    /// What this watcher sends for `event`, if anything (API-67 transitions).
    fn line_for(&self, event: &Event) -> Option<Outgoing> {
        if let Some(ns) = &self.namespace
            && event.namespace != *ns
        {
            return None;
        }
        // The stored line fits a plain watch of the resource as stored; anything else is
        // rendered from the object once the lock is released.
        let as_stored = !self.resource.is_events_v1() && self.table.is_none();
        let send = |kind: &'static str| {
            Some(if as_stored {
                Outgoing::Line(event.line.clone())
            } else {
                Outgoing::Object(kind, event.object.clone())
            })
        };
        if !self.filtered() {
            return send(event.kind);
        }
        let now = self.matches(&event.object);
        let was = event.old.as_deref().is_some_and(|old| self.matches(old));
        match (event.kind, was, now) {
            ("MODIFIED", true, true) | ("ADDED", _, true) | ("DELETED", _, true) => {
                send(event.kind)
            }
            ("MODIFIED", false, true) => Some(Outgoing::Object("ADDED", event.object.clone())),
            ("MODIFIED", true, false) => {
                let mut last = event.old.as_deref().cloned().unwrap_or(Value::Null);
                set_rv(&mut last, event.rv);
                Some(Outgoing::Object("DELETED", Arc::new(last)))
            }
            _ => None,
        }
    }

    /// The line as sent: the object as this watcher's resource shows it, as a Table event
    /// when Tables were asked for.
    fn present(&self, outgoing: Outgoing) -> Bytes {
        let (kind, object) = match outgoing {
            Outgoing::Line(line) => return line,
            Outgoing::Object(kind, object) => (kind, fix_api_version(&self.resource, object)),
        };
        let Some(watch) = &self.table else {
            return event_line(kind, &object);
        };
        let include = watch.include_object.as_deref();
        watch.renderer.event_line(kind, &object, include)
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut metadata = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let object = json!({"kind": self.resource.kind, "apiVersion": self.resource.api_version(), "metadata": metadata});
        event_line("BOOKMARK", &object)
    }
}

/// The ERROR event for a version older than the retained history (API-63).
fn gone_line(requested: u64, oldest: u64) -> Bytes {
    let status =
        ApiError::gone(format!("too old resource version: {requested} ({oldest})")).to_status();
    event_line("ERROR", &status)
}

/// Starts a watch; the body yields its lines until the timeout, a drop or shutdown.
pub fn start(shared: Arc<Shared>, params: WatchParams) -> ChannelBody {
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(run(shared, params, tx));
    ChannelBody { rx }
}

type Tx = mpsc::Sender<Result<Bytes, BoxError>>;

/// Sends lines; `false` when the client is gone.
async fn send_all(tx: &Tx, lines: Vec<Bytes>) -> bool {
    for line in lines {
        if tx.send(Ok(line)).await.is_err() {
            return false;
        }
    }
    true
}

async fn abort(tx: &Tx) {
    let _ = tx.send(Err("the watch was dropped".into())).await;
}

async fn run(shared: Arc<Shared>, params: WatchParams, tx: Tx) {
    let mut changed = shared.changed.subscribe();
    let mut drops = shared.drops.subscribe();
    let mut shutdown = shared.shutdown.subscribe();
    let started = Instant::now();
    let timeout = params
        .timeout
        .unwrap_or_else(|| Duration::from_secs(1800 + rand::random_range(0..1800)));
    let deadline = started + timeout;
    let interval = shared
        .config
        .bookmark_interval
        .max(Duration::from_millis(10));
    let key = params.resource.storage_key();

    // The start: synthetic ADDED events, or a position in history, or 410.
    let start: Result<(Vec<Outgoing>, u64), Bytes> = {
        let state = shared.lock();
        let visible = *changed.borrow_and_update();
        match params.resource_version {
            Some(rv) if !params.send_initial_events => {
                if !state.can_resume_from(rv) {
                    Err(gone_line(rv, state.floor + 1))
                } else {
                    let lines = state
                        .events_after(rv)
                        .take_while(|e| e.rv <= visible)
                        .filter(|e| e.key == key)
                        .filter_map(|e| params.line_for(e))
                        .collect();
                    Ok((lines, visible.max(rv)))
                }
            }
            _ => {
                let ns = params.namespace.as_deref();
                let lines = state
                    .list(&key, ns)
                    .into_iter()
                    .filter(|o| params.matches(o))
                    .map(|o| Outgoing::Object("ADDED", o))
                    .collect::<Vec<_>>();
                Ok((lines, state.rv))
            }
        }
    };
    let (mut lines, mut cursor) = match start {
        Ok(start) => start,
        Err(gone) => {
            let _ = tx.send(Ok(gone)).await;
            return;
        }
    };
    // Listed from the current state, which may hold writes still on their way to the
    // disk: sent once they are there (a group commit at most).
    let listed = params.resource_version.is_none() || params.send_initial_events;
    if listed && changed.wait_for(|v| *v >= cursor).await.is_err() {
        return;
    }
    if params.send_initial_events && params.bookmarks {
        lines.push(Outgoing::Line(params.bookmark(cursor, true)));
    }
    let mut delivered = 0u64;
    if !deliver(&shared, &tx, &params, lines, &mut delivered).await {
        return;
    }
    let mut next_bookmark = Instant::now() + interval;
    let final_bookmark = deadline
        .checked_sub(Duration::from_secs(2))
        .filter(|t| *t > started);
    let mut final_sent = final_bookmark.is_none();

    loop {
        let bookmark_at = if final_sent {
            next_bookmark
        } else {
            next_bookmark.min(final_bookmark.unwrap_or(next_bookmark))
        };
        tokio::select! {
            result = changed.changed() => {
                if result.is_err() {
                    return;
                }
            }
            _ = tokio::time::sleep_until(bookmark_at), if params.bookmarks => {
                if Instant::now() >= final_bookmark.unwrap_or(deadline) {
                    final_sent = true;
                }
                next_bookmark = Instant::now() + interval;
                if tx.send(Ok(params.bookmark(cursor, false))).await.is_err() {
                    return;
                }
                continue;
            }
            _ = tokio::time::sleep_until(deadline) => return,
            _ = drops.changed() => {
                abort(&tx).await;
                return;
            }
            _ = shutdown.changed() => return,
            _ = tx.closed() => return,
        }
        let next: Result<(Vec<Outgoing>, bool), Bytes> = {
            let state = shared.lock();
            let visible = *changed.borrow_and_update();
            if cursor < state.floor {
                Err(gone_line(cursor, state.floor + 1))
            } else {
                let lines: Vec<Outgoing> = state
                    .events_after(cursor)
                    .take_while(|e| e.rv <= visible)
                    .filter(|e| e.key == key)
                    .filter_map(|e| params.line_for(e))
                    .collect();
                cursor = cursor.max(visible);
                let served = state
                    .registry
                    .find(
                        &params.resource.group,
                        &params.resource.version,
                        &params.resource.plural,
                    )
                    .is_some_and(|r| r.owner_uid == params.resource.owner_uid);
                Ok((lines, served))
            }
        };
        let (lines, served) = match next {
            Ok(next) => next,
            Err(gone) => {
                let _ = tx.send(Ok(gone)).await;
                return;
            }
        };
        if !deliver(&shared, &tx, &params, lines, &mut delivered).await {
            return;
        }
        if !served {
            return;
        }
    }
}

/// Sends events, consulting the fault injector after each; `false` ends the watch.
async fn deliver(
    shared: &Shared,
    tx: &Tx,
    params: &WatchParams,
    lines: Vec<Outgoing>,
    delivered: &mut u64,
) -> bool {
    let lines: Vec<Bytes> = lines.into_iter().map(|l| params.present(l)).collect();
    if shared.faults_quiet() {
        return send_all(tx, lines).await;
    }
    for line in lines {
        if tx.send(Ok(line)).await.is_err() {
            return false;
        }
        *delivered += 1;
        if shared.faults.drop_watch_after_event(*delivered) {
            // End the stream right after this event; an error frame could discard it in flight.
            return false;
        }
    }
    true
}

/// Objects are stored with the version they were written at; readers see their own version.
pub fn fix_api_version(resource: &Resource, object: Arc<Value>) -> Arc<Value> {
    if resource.is_events_v1() {
        return Arc::new(crate::events::from_core(&object));
    }
    let wanted = resource.api_version();
    if object.get("apiVersion").and_then(Value::as_str) == Some(wanted.as_str()) {
        return object;
    }
    let mut copy = (*object).clone();
    copy["apiVersion"] = Value::String(wanted);
    Arc::new(copy)
}
