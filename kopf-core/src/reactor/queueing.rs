//! Per-object FIFO queues: one worker per object, every event processed fully and in
//! order, never two workers on one object.
//!
//! Workers are cheap while they wait (a small inbox, the cycle's future boxed only while it
//! runs) and exist only while their object has something to do: a worker exits as soon as
//! its inbox is empty, unless it waits for its own patch's event (then after
//! `queueing.idle_timeout`). How many cycles run at once is bounded by the shared permits.

use crate::actions::application;
use crate::clients::watching::{EventKind, RawEvent};
use crate::logging::ObjectLogger;
use crate::reactor::context::{ObjectMemory, ResourceContext};
use crate::reactor::processing::{self, Event};
use crate::structs::body::Body;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use tokio::time::Instant;

/// An event waiting for its worker; `awaited` when the indices wait for it to be indexed
/// (an object of an indexed resource's first listing).
struct Queued {
    event: RawEvent,
    awaited: bool,
}

/// One object's pending events. Pushed to only under the dispatcher's lock, which is also
/// where an idle worker decides to exit, so no event is ever left without a worker.
#[derive(Default)]
struct Inbox {
    events: Mutex<VecDeque<Queued>>,
    arrived: Notify,
    /// Set on shutdown: the worker finishes what is queued, then exits.
    closed: AtomicBool,
}

impl Inbox {
    fn push(&self, event: Queued) {
        lock(&self.events).push_back(event);
        self.arrived.notify_one();
    }

    fn pop(&self) -> Option<Queued> {
        lock(&self.events).pop_front()
    }

    fn is_empty(&self) -> bool {
        lock(&self.events).is_empty()
    }

    /// The next event; `None` once closed and drained.
    async fn recv(&self) -> Option<Queued> {
        loop {
            let arrived = self.arrived.notified();
            if let Some(event) = self.pop() {
                return Some(event);
            }
            if self.closed.load(Ordering::Acquire) {
                return None;
            }
            arrived.await;
        }
    }

    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.arrived.notify_one();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Routes events of one resource to per-object workers.
pub struct Dispatcher {
    context: Arc<ResourceContext>,
    workers: Arc<Mutex<HashMap<String, Arc<Inbox>>>>,
    /// Memories outlive idle workers: kopf remembers objects until they are gone.
    memories: Arc<Mutex<HashMap<String, ObjectMemory>>>,
    tasks: tokio::task::JoinSet<()>,
}

impl Dispatcher {
    pub fn new(context: Arc<ResourceContext>) -> Self {
        Dispatcher {
            context,
            workers: Arc::default(),
            memories: Arc::default(),
            tasks: tokio::task::JoinSet::new(),
        }
    }

    /// Queues an event for its object, starting a worker if none runs.
    pub fn dispatch(&mut self, event: RawEvent, awaited: bool) {
        let key = object_key(&event);
        let event = Queued { event, awaited };
        let mut workers = lock(&self.workers);
        if let Some(inbox) = workers.get(&key) {
            inbox.push(event);
            return;
        }
        // Room for one event: most objects have one at a time (a catch-up queues one per
        // object for thousands of objects; the default room is four).
        let inbox = Arc::new(Inbox {
            events: Mutex::new(VecDeque::with_capacity(1)),
            ..Inbox::default()
        });
        inbox.push(event);
        workers.insert(key.clone(), inbox.clone());
        drop(workers);
        let memory = self
            .memories
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key)
            .unwrap_or_default();
        let worker = Worker {
            key,
            context: self.context.clone(),
            workers: self.workers.clone(),
            memories: self.memories.clone(),
            inbox,
            memory,
        };
        self.tasks
            .spawn(crate::logging::in_current_dispatch(worker.run()));
        self.reap();
    }

    /// Forgets the workers that have exited: a finished task's memory stays allocated
    /// until it is joined.
    pub fn reap(&mut self) {
        while self.tasks.try_join_next().is_some() {}
    }

    /// Stops accepting events and waits for workers to finish, at most `timeout`.
    pub async fn shutdown(mut self, timeout: std::time::Duration) -> usize {
        for (_, inbox) in lock(&self.workers).drain() {
            inbox.close();
        }
        let deadline = Instant::now() + timeout;
        while !self.tasks.is_empty() {
            match tokio::time::timeout_at(deadline, self.tasks.join_next()).await {
                Ok(_) => continue,
                Err(_) => break,
            }
        }
        let left = self.tasks.len();
        self.tasks.abort_all();
        self.context.spawned.stop_all().await;
        left
    }
}

/// Objects are queued by uid (a re-created object is a new object), else by name.
fn object_key(event: &RawEvent) -> String {
    match event.uid() {
        Some(uid) => uid.to_string(),
        None => format!(
            "{}/{}",
            event.namespace().unwrap_or(""),
            event.name().unwrap_or("")
        ),
    }
}

struct Worker {
    key: String,
    context: Arc<ResourceContext>,
    workers: Arc<Mutex<HashMap<String, Arc<Inbox>>>>,
    memories: Arc<Mutex<HashMap<String, ObjectMemory>>>,
    inbox: Arc<Inbox>,
    memory: ObjectMemory,
}

/// What the worker carries from one event to the next.
#[derive(Default)]
struct Carry {
    /// The next event, taken from the inbox while waiting for something else.
    pending: Option<Queued>,
    /// The same event again, after the object's daemons exited: not a new event.
    replay: bool,
    /// The object is gone: its memory is not kept when the worker exits.
    gone: bool,
    /// Our own patch's version, and until when we wait for it.
    expected: Option<(String, Instant)>,
}

/// After an event: go on with the next, or stop (the inbox is closed).
enum Flow {
    Next,
    Stop,
}

impl Worker {
    /// Waits for events and handles each. While it waits — for an event, for our own
    /// patch's version, for a permit — it holds only the event's text and what `Carry`
    /// carries: the handling (parsing, handlers, patches, the waits after them) is boxed,
    /// so it takes memory only in the workers that hold a permit, not in the thousands
    /// that wait for one during a catch-up.
    async fn run(mut self) {
        let idle = self.context.settings.queueing.idle_timeout;
        let consistency = self.context.settings.persistence.consistency_timeout;
        let mut carry = Carry::default();
        loop {
            let Queued { event, awaited } = match carry.pending.take() {
                Some(event) => event,
                // Nothing queued and no patch of ours to wait for: exit now rather than
                // idle (an idle worker's task is ~1 KiB per object, and an object whose
                // timer patches it every second would keep one for ever); the dispatcher
                // starts a worker for the next event, and the memory waits in `memories`.
                None if carry.expected.is_none() && self.exit_if_idle() => break,
                None => match Box::pin(tokio::time::timeout(idle, self.inbox.recv())).await {
                    Ok(Some(event)) => event,
                    Ok(None) => break,
                    Err(_) => {
                        if self.exit_if_idle() {
                            break;
                        }
                        continue;
                    }
                },
            };

            // Consistency: intermediate states before our own patch arrives are skipped
            // unparsed (their daemons and indices see the state our patch brings).
            if let Some((version, deadline)) = &carry.expected
                && event.kind != EventKind::Deleted
                && !reached(&event, version)
            {
                match Box::pin(tokio::time::timeout_at(*deadline, self.inbox.recv())).await {
                    Ok(Some(next)) => {
                        // An index still waiting for this object waits for the next state.
                        carry.pending = Some(Queued {
                            awaited: next.awaited || awaited,
                            ..next
                        });
                        continue;
                    }
                    Ok(None) => break,
                    Err(_) => {} // Waited long enough: process what we have.
                }
            }
            carry.expected = None;

            // Daemons, indices and event handlers see the event at once; the changing
            // cause waits for a permit, holding only the event's text and the logger (which
            // the daemons keep anyway): a catch-up parses `worker_limit` objects at once.
            let observing = !std::mem::take(&mut carry.replay) && self.context.observes();
            let seen_logger = if observing {
                Some(Box::pin(self.observe(&event, awaited)).await)
            } else {
                if awaited {
                    self.context.shared.indices.indexed_object();
                }
                // Changing handlers wait for every index's first listing, as in kopf.
                self.context.shared.indices.ready().await;
                None
            };

            // The semaphore is never closed; if it were, run unbounded rather than stall.
            let permit = self.context.permits.clone().acquire_owned().await.ok();
            let flow = Box::pin(self.handle(event, permit, seen_logger, consistency, &mut carry));
            if let Flow::Stop = flow.await {
                break;
            }
        }
        if !carry.gone {
            let mut memories = lock(&self.memories);
            memories.insert(self.key.clone(), std::mem::take(&mut self.memory));
        }
    }

    /// The event as daemons, timers, indices and event handlers see it; returns the
    /// object's logger for the changing handlers.
    async fn observe(&mut self, event: &RawEvent, awaited: bool) -> ObjectLogger {
        let body = event.body(&self.context.resource);
        let logger = self.logger(&body);
        let changes = std::sync::OnceLock::new();
        let parsed = Event {
            kind: event.kind,
            body: &body,
            logger: &logger,
            changes: &changes,
        };
        processing::observe(&self.context, &self.memory, &parsed, awaited).await;
        logger
    }

    /// One event's changing cause, with a permit: handlers run, outcomes are patched; then
    /// the waits they ask for (the daemons' exit before the finalizer goes, a retry's delay),
    /// interrupted by new events.
    async fn handle(
        &mut self,
        event: RawEvent,
        mut permit: Option<tokio::sync::OwnedSemaphorePermit>,
        seen_logger: Option<ObjectLogger>,
        consistency: std::time::Duration,
        carry: &mut Carry,
    ) -> Flow {
        let body = event.body(&self.context.resource);
        let logger = seen_logger.unwrap_or_else(|| self.logger(&body));
        let changes = std::sync::OnceLock::new();
        let parsed = Event {
            kind: event.kind,
            body: &body,
            logger: &logger,
            changes: &changes,
        };
        let outcome =
            processing::process_changes(&self.context, &mut self.memory, &parsed, &mut permit)
                .await;
        drop(permit);
        if outcome.gone {
            // Forget the object; later events (if any) start from a clean memory.
            if let Some(uid) = body.uid() {
                self.context.spawned.forget_object(uid);
            }
            carry.gone = true;
            self.memory = ObjectMemory::default();
            carry.expected = None;
            return Flow::Next;
        }
        carry.gone = false;
        if let Some(version) = outcome.patched_version {
            carry.expected = Some((version, Instant::now() + consistency));
        }
        if outcome.wait_daemons
            && let Some(uid) = body.uid()
        {
            // The finalizer waits for the daemons; a new event may come first.
            tokio::select! {
                () = self.context.spawned.wait_all_exited(uid) => {
                    carry.pending = Some(Queued { event, awaited: false });
                    carry.replay = true;
                }
                next = self.inbox.recv() => match next {
                    Some(next) => carry.pending = Some(next),
                    None => return Flow::Stop,
                },
            }
            return Flow::Next;
        }
        if let Some(delay) = outcome.sleep {
            let started = Instant::now();
            tokio::select! {
                _ = tokio::time::sleep(delay) => {
                    let target = self.context.serving().target();
                    if let Some(version) = application::touch(target, &body, &logger).await.version() {
                        carry.expected = Some((version, Instant::now() + consistency));
                    }
                }
                next = self.inbox.recv() => {
                    let left = delay.saturating_sub(started.elapsed()).as_secs_f64();
                    logger.debug(format!("Sleeping was interrupted by new changes, {left} seconds left."));
                    match next {
                        Some(next) => carry.pending = Some(next),
                        None => return Flow::Stop,
                    }
                }
            }
        }
        Flow::Next
    }

    /// The object's logger: made once per object, kept in its memory.
    fn logger(&mut self, body: &Body) -> ObjectLogger {
        let resource = &self.context.resource;
        self.memory
            .logger
            .get_or_insert_with(|| ObjectLogger::for_object(resource, body))
            .clone()
    }

    /// Exits when nothing is queued; the dispatcher starts a new worker for later events.
    fn exit_if_idle(&mut self) -> bool {
        let mut workers = lock(&self.workers);
        if self.inbox.is_empty() {
            workers.remove(&self.key);
            true
        } else {
            false
        }
    }
}

/// Whether an event carries our patch's version (or a newer one).
fn reached(event: &RawEvent, expected: &str) -> bool {
    let Some(version) = event.resource_version() else {
        return true;
    };
    match (version.parse::<u64>(), expected.parse::<u64>()) {
        (Ok(seen), Ok(wanted)) => seen >= wanted,
        _ => version == expected,
    }
}
