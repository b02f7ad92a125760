//! kopf's spawning handlers (`daemon`, `timer`) per object: spawned for objects that match
//! and are not being deleted, stopped when they stop matching, when the object goes, or
//! when the operator exits — signalled, given their backoff, cancelled, given their
//! timeout, then left orphaned, with kopf's log lines. The finalizer stays until every
//! daemon of the object has exited.

use crate::engines::runners::{Live, Runner, SpawnContext, label};
use crate::engines::stopping::{Exited, Stopper};
use crate::intents::families::Spawning;
use crate::intents::handlers::Handler;
use crate::intents::stoppers::{StopReason, Stopped};
use crate::logging::ObjectLogger;
use crate::structs::body::Body;
use crate::structs::memo::Memo;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use tokio::sync::Notify;
use tokio::task::AbortHandle;

/// One running daemon or timer.
struct Daemon {
    handler: Arc<Handler<Spawning>>,
    stopped: Stopped,
    abort: AbortHandle,
    exited: Arc<Exited>,
    logger: ObjectLogger,
    /// A stopper is already at work on it.
    stopping: bool,
}

/// An object's running daemons by handler id: a few at most, so a list sized for them
/// (a hash map takes room for four even with one, in every object).
#[derive(Default)]
struct Running(Vec<(String, Daemon)>);

impl Running {
    fn with_capacity(capacity: usize) -> Self {
        Running(Vec::with_capacity(capacity))
    }
    fn contains_key(&self, id: &str) -> bool {
        self.0.iter().any(|(k, _)| k == id)
    }
    fn get_mut(&mut self, id: &str) -> Option<&mut Daemon> {
        self.0.iter_mut().find(|(k, _)| k == id).map(|(_, d)| d)
    }
    fn insert(&mut self, id: String, daemon: Daemon) {
        self.remove(&id);
        self.0.push((id, daemon));
    }
    fn remove(&mut self, id: &str) {
        self.0.retain(|(k, _)| k != id);
    }
    fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }
    fn iter(&self) -> impl Iterator<Item = (&String, &Daemon)> {
        self.0.iter().map(|(k, d)| (k, d))
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The daemons and timers of one object.
struct ObjectDaemons {
    running: Running,
    /// Exited on their own (returned or failed for good): never spawned again.
    forever_stopped: HashSet<String>,
    live: Arc<Live>,
    /// Notified whenever a daemon of the object leaves `running`.
    left: Arc<Notify>,
}

/// One state of an object as the spawning handlers see it.
pub struct Seen<'a> {
    pub body: &'a Body,
    pub logger: &'a ObjectLogger,
    pub memo: &'a Memo,
    /// The object is gone (a `DELETED` event).
    pub gone: bool,
    /// The essence changed: timers' idleness starts again.
    pub reset: bool,
}

/// The daemons and timers of every object of one served resource.
pub struct Spawned {
    objects: Mutex<HashMap<String, ObjectDaemons>>,
    /// Seconds between checks of daemons that have no cancellation timeout (kopf's
    /// `settings.background.cancellation_polling`).
    cancellation_polling: f64,
}

/// Removes a daemon from the books when its task ends, even when it is cancelled.
struct ExitGuard {
    spawned: Weak<Spawned>,
    uid: String,
    id: String,
    stopped: Stopped,
    exited: Arc<Exited>,
}

impl Drop for ExitGuard {
    fn drop(&mut self) {
        self.exited.done.store(true, Ordering::Release);
        self.exited.notify.notify_waiters();
        if let Some(spawned) = self.spawned.upgrade() {
            let on_its_own = self.stopped.reason().is_none();
            spawned.forget(&self.uid, &self.id, on_its_own);
        }
    }
}

impl Spawned {
    pub fn new(cancellation_polling: f64) -> Self {
        Spawned {
            objects: Mutex::default(),
            cancellation_polling,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, ObjectDaemons>> {
        self.objects.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes a daemon off the books; `forever` when it exited on its own.
    pub(crate) fn forget(&self, uid: &str, id: &str, forever: bool) {
        let mut objects = self.lock();
        if let Some(object) = objects.get_mut(uid) {
            object.running.remove(id);
            if forever {
                object.forever_stopped.insert(id.to_string());
            }
            object.left.notify_waiters();
        }
    }

    /// Follows one state of an object: spawns what matches and is not running, stops
    /// what no longer matches, stops everything when the object is being deleted or gone.
    pub fn observe(
        self: &Arc<Self>,
        context: &Arc<SpawnContext>,
        handlers: &[Arc<Handler<Spawning>>],
        seen: Seen<'_>,
    ) {
        let Seen {
            body,
            logger,
            memo,
            gone,
            reset,
        } = seen;
        let Some(uid) = body.uid() else { return };
        if handlers.is_empty() {
            return;
        }
        if gone || body.deletion_timestamp().is_some() {
            self.stop_object(uid, StopReason::ResourceDeleted, false);
            return;
        }
        let matching: Vec<&Arc<Handler<Spawning>>> =
            handlers.iter().filter(|h| h.prematches(body)).collect();
        let mut mismatched = Vec::new();
        {
            let mut objects = self.lock();
            let object = objects
                .entry(uid.to_string())
                .or_insert_with(|| ObjectDaemons {
                    running: Running::with_capacity(matching.len()),
                    forever_stopped: HashSet::new(),
                    live: Arc::new(Live::new(body.clone(), logger.clone())),
                    left: Arc::new(Notify::new()),
                });
            object.live.update(body.clone(), reset);
            for handler in &matching {
                if object.running.contains_key(&handler.id)
                    || object.forever_stopped.contains(&handler.id)
                {
                    continue;
                }
                let daemon = self.spawn(context, uid, handler, &object.live, memo, logger);
                object.running.insert(handler.id.clone(), daemon);
            }
            for (id, daemon) in object.running.iter() {
                if !matching.iter().any(|h| &h.id == id) && !daemon.stopping {
                    mismatched.push(id.clone());
                }
            }
        }
        for id in mismatched {
            self.stop_one(uid, &id, StopReason::FiltersMismatch, false);
        }
    }

    fn spawn(
        self: &Arc<Self>,
        context: &Arc<SpawnContext>,
        uid: &str,
        handler: &Arc<Handler<Spawning>>,
        live: &Arc<Live>,
        memo: &Memo,
        logger: &ObjectLogger,
    ) -> Daemon {
        let stopped = Stopped::new();
        let exited = Arc::new(Exited::default());
        let guard = ExitGuard {
            spawned: Arc::downgrade(self),
            uid: uid.to_string(),
            id: handler.id.clone(),
            stopped: stopped.clone(),
            exited: exited.clone(),
        };
        let runner = Runner {
            context: context.clone(),
            handler: handler.clone(),
            live: live.clone(),
            memo: memo.clone(),
            stopped: stopped.clone(),
        };
        let task = runner.spawn(guard);
        Daemon {
            handler: handler.clone(),
            stopped,
            abort: task.abort_handle(),
            exited,
            logger: logger.clone(),
            stopping: false,
        }
    }

    /// Starts stopping every daemon of the object (each in its own task).
    fn stop_object(self: &Arc<Self>, uid: &str, reason: StopReason, exiting: bool) {
        let ids: Vec<String> = match self.lock().get(uid) {
            Some(object) => object.running.keys().cloned().collect(),
            None => return,
        };
        for id in ids {
            self.stop_one(uid, &id, reason, exiting);
        }
    }

    /// Starts stopping one daemon unless a stopper is already at it; returns the stopper.
    fn stop_one(
        self: &Arc<Self>,
        uid: &str,
        id: &str,
        reason: StopReason,
        exiting: bool,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let mut objects = self.lock();
        let daemon = objects.get_mut(uid)?.running.get_mut(id)?;
        daemon.stopped.set(reason);
        if daemon.stopping {
            return None;
        }
        daemon.stopping = true;
        let (spawned, uid_owned, id_owned) =
            (Arc::downgrade(self), uid.to_string(), id.to_string());
        let stopper = Stopper {
            orphan: Box::new(move || {
                if let Some(spawned) = spawned.upgrade() {
                    spawned.forget(&uid_owned, &id_owned, false);
                }
            }),
            label: label(&daemon.handler),
            options: daemon.handler.options,
            stopped: daemon.stopped.clone(),
            abort: daemon.abort.clone(),
            exited: daemon.exited.clone(),
            logger: daemon.logger.clone(),
            polling: self.cancellation_polling,
        };
        Some(tokio::spawn(crate::logging::in_current_dispatch(
            stopper.run(exiting),
        )))
    }

    /// Whether the object needs the finalizer for its daemons and timers: some match it
    /// and have not exited for good on their own.
    pub fn requires_finalizer(&self, body: &Body, handlers: &[Arc<Handler<Spawning>>]) -> bool {
        let objects = self.lock();
        let forever = body
            .uid()
            .and_then(|uid| objects.get(uid))
            .map(|o| &o.forever_stopped);
        handlers
            .iter()
            .filter(|h| h.prematches(body))
            .any(|h| forever.is_none_or(|f| !f.contains(&h.id)))
    }

    /// Whether no daemon of the object is running any more.
    pub fn all_exited(&self, uid: &str) -> bool {
        self.lock().get(uid).is_none_or(|o| o.running.is_empty())
    }

    /// Resolves once no daemon of the object is running.
    pub async fn wait_all_exited(&self, uid: &str) {
        loop {
            let Some(left) = self.lock().get(uid).map(|o| o.left.clone()) else {
                return;
            };
            let notified = left.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.all_exited(uid) {
                return;
            }
            notified.await;
        }
    }

    /// The object is gone and its daemons have exited: forget it.
    pub fn forget_object(&self, uid: &str) {
        let mut objects = self.lock();
        if objects.get(uid).is_some_and(|o| o.running.is_empty()) {
            objects.remove(uid);
        }
    }

    /// Operator exit: every daemon of every object stopped as kopf does, in parallel.
    pub async fn stop_all(self: &Arc<Self>) {
        let all: Vec<(String, String)> = self
            .lock()
            .iter()
            .flat_map(|(uid, o)| o.running.keys().map(move |id| (uid.clone(), id.clone())))
            .collect();
        let mut stoppers = Vec::new();
        for (uid, id) in all {
            // A daemon already being stopped for its object gets the exit's bound too.
            if let Some(stopper) = self.stop_one(&uid, &id, StopReason::OperatorExiting, true) {
                stoppers.push(stopper);
            }
        }
        for stopper in stoppers {
            let _ = stopper.await;
        }
    }
}
