//! The loops of kopf's spawning handlers: a daemon runs until it returns, fails for good,
//! or is stopped; a timer runs every `interval` (on a sharp grid if asked), after its
//! object has been idle long enough. Each attempt is executed, logged and its result
//! patched into `status.<id>` as kopf does; nothing is kept in annotations.

use crate::actions::application::{self, store_result};
use crate::actions::execution::{self, Recorded};
use crate::clients::patching::Target;
use crate::intents::causes::{ObjectCause, SpawningCause};
use crate::intents::families::{Spawning, SpawningOptions};
use crate::intents::handlers::Handler;
use crate::intents::stoppers::Stopped;
use crate::invocation::outcome::Outcome;
use crate::logging::ObjectLogger;
use crate::settings::Settings;
use crate::storage::progress::HandlerState;
use crate::structs::body::Body;
use crate::structs::memo::Memo;
use crate::structs::patch::Patch;
use crate::structs::resource::Resource;
use crate::structs::shared::OperatorShared;
use jiff::Timestamp;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// What the served resource gives every daemon and timer.
#[derive(Clone)]
pub struct SpawnContext {
    pub client: kube::Client,
    pub resource: Arc<Resource>,
    pub settings: Arc<Settings>,
    pub shared: OperatorShared,
    /// The operator's shared permits: how many patches are in flight at once.
    pub permits: Arc<Semaphore>,
}

/// The object as last seen, and when it last changed: timers read it at every run. One
/// per object, shared by its daemons and timers, with the object's one logger.
pub struct Live {
    /// Kept as text: parsed again for each run that reads it.
    body: Mutex<Arc<str>>,
    changed_at: Mutex<Instant>,
    logger: ObjectLogger,
}

impl Live {
    pub fn new(body: Body, logger: ObjectLogger) -> Self {
        Live {
            body: Mutex::new(body.to_text()),
            changed_at: Mutex::new(Instant::now()),
            logger,
        }
    }

    /// The object's logger (its name, namespace and uid never change).
    pub fn logger(&self) -> &ObjectLogger {
        &self.logger
    }

    /// A new state of the object arrived; an essential change (`reset`) starts the
    /// timers' idleness again.
    pub fn update(&self, body: Body, reset: bool) {
        *self.body.lock().unwrap_or_else(|p| p.into_inner()) = body.to_text();
        if reset {
            *self.changed_at.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        }
    }

    /// The object as last seen, parsed when (and if) something reads it.
    pub fn body(&self) -> Body {
        Body::from_text(self.body.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }

    fn changed_at(&self) -> Instant {
        *self.changed_at.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One daemon or timer of one object, as its task runs it.
pub struct Runner {
    pub context: Arc<SpawnContext>,
    pub handler: Arc<Handler<Spawning>>,
    pub live: Arc<Live>,
    pub memo: Memo,
    pub stopped: Stopped,
}

/// kopf's name of a spawning handler in log lines: `Daemon 'id'` or `Timer 'id'`.
pub fn label(handler: &Handler<Spawning>) -> String {
    match handler.options {
        SpawningOptions::Daemon { .. } => format!("Daemon '{}'", handler.id),
        SpawningOptions::Timer { .. } => format!("Timer '{}'", handler.id),
    }
}

impl Runner {
    /// Starts the daemon's or timer's task; `guard` is dropped when it ends or is cancelled.
    /// Daemons and timers are futures of their own types, so that a daemon's task is not
    /// sized for a timer's loop (tens of thousands of them can run at once).
    pub fn spawn<G: Send + 'static>(self, guard: G) -> tokio::task::JoinHandle<()> {
        use crate::logging::in_current_dispatch;
        match self.handler.options {
            SpawningOptions::Daemon { initial_delay, .. } => {
                tokio::spawn(in_current_dispatch(async move {
                    let _guard = guard;
                    self.daemon(initial_delay).await;
                }))
            }
            SpawningOptions::Timer {
                interval,
                initial_delay,
                idle,
                sharp,
            } => tokio::spawn(in_current_dispatch(async move {
                let _guard = guard;
                self.timer(interval, initial_delay, idle, sharp).await;
            })),
        }
    }

    /// Sleeps unless stopped first; returns whether the sleep was complete.
    async fn sleep(&self, seconds: f64) -> bool {
        let duration = Duration::from_secs_f64(seconds.max(0.0));
        // A timeout on the stop signal: the same as selecting between the two, smaller.
        match tokio::time::timeout(duration, self.stopped.wait()).await {
            Ok(()) => false,
            Err(_) => !self.stopped.is_set(),
        }
    }

    fn logger(&self) -> &ObjectLogger {
        self.live.logger()
    }

    async fn daemon(&self, initial_delay: Option<f64>) {
        // Its sleeps are boxed: a daemon spends its life in its handler, not in them, so
        // they need not be part of every daemon's task.
        if let Some(delay) = initial_delay {
            Box::pin(self.sleep(delay)).await;
        }
        // Boxed, as the attempt below: what every sleeping daemon and timer holds is small.
        let mut state = Box::new(HandlerState::new("daemon", Timestamp::now()));
        while !self.stopped.is_set() && !state.is_finished() {
            // Boxed: the attempt's large future exists only while it runs, not in every
            // sleeping timer and daemon.
            *state = Box::pin(self.attempt(&state)).await.state;
            if let Some(delay) = retry_delay(&state) {
                Box::pin(self.sleep(delay)).await;
            }
        }
        let how = if self.stopped.is_set() {
            "on request"
        } else {
            "on its own"
        };
        self.logger().debug(format!(
            "{} has exited {how} and will not be retried or restarted.",
            label(&self.handler)
        ));
    }

    async fn timer(
        &self,
        interval: Option<f64>,
        initial_delay: Option<f64>,
        idle: Option<f64>,
        sharp: bool,
    ) {
        if let Some(delay) = initial_delay {
            Box::pin(self.sleep(delay)).await;
        }
        let mut state = Box::new(HandlerState::new("timer", Timestamp::now()));
        while !self.stopped.is_set() {
            // Every run after a success starts its retries afresh.
            if state.is_finished() {
                *state = HandlerState::new("timer", Timestamp::now());
            }
            if let Some(idle) = idle {
                // The object's changes postpone the run; the wait is never shortened.
                loop {
                    let quiet = self.live.changed_at().elapsed().as_secs_f64();
                    if quiet >= idle || !Box::pin(self.sleep(idle - quiet)).await {
                        break;
                    }
                }
                if self.stopped.is_set() {
                    break;
                }
            }
            let started = Instant::now();
            // Boxed: the attempt's large future exists only while it runs, not in every
            // sleeping timer and daemon.
            *state = Box::pin(self.attempt(&state)).await.state;
            if !state.is_finished() {
                // A failure's own delay overrides the schedule.
                Box::pin(self.sleep(retry_delay(&state).unwrap_or(0.0))).await;
            } else if let Some(interval) = interval.filter(|i| *i > 0.0) {
                let pause = if sharp {
                    interval - started.elapsed().as_secs_f64() % interval
                } else {
                    interval
                };
                self.sleep(pause).await;
            } else if let Some(idle) = idle {
                // Idle-only timers run again after the next change and its idleness.
                while self.live.changed_at() <= started && Box::pin(self.sleep(idle)).await {}
            } else {
                break;
            }
        }
    }

    /// One execution: limits checked, the handler invoked, the outcome logged, and the
    /// result patched onto the object. While the handler runs (a daemon's whole life),
    /// this holds the object, its logger and the handler's future; the recording after it
    /// is boxed, so its state is not part of every running daemon.
    async fn attempt(&self, state: &HandlerState) -> Recorded {
        let handler = &self.handler;
        let label = label(handler);
        let now = Timestamp::now();
        if let Some(limited) = execution::check_limits(&label, state, &handler.policy, now) {
            self.logger().log(limited.level, &limited.message);
            return limited;
        }
        let body = self.live.body();
        let logger = self.live.logger().clone();
        logger.debug(format!("{label} is invoked."));
        let patch = Patch::new();
        let invocation = handler.invoke(SpawningCause {
            object: ObjectCause {
                body: body.clone(),
                resource: self.context.resource.clone(),
                patch: patch.clone(),
                logger: logger.clone(),
                memo: self.memo.clone(),
                param: handler.param.clone(),
                handler_id: handler.id.as_str().into(),
                client: self.context.client.clone(),
                shared: self.context.shared.clone(),
            },
            stopped: self.stopped.clone(),
            retry: state.retries,
            started: state.started,
        });
        let in_flight = InFlight {
            logger: &logger,
            label: &label,
        };
        let outcome = invocation.await;
        std::mem::forget(in_flight);
        let recorded = Box::pin(self.record(state, &label, outcome, patch, body, &logger)).await;
        logger.log(recorded.level, &recorded.message);
        recorded
    }

    /// The outcome of an execution recorded, and its result patched onto the object.
    async fn record(
        &self,
        state: &HandlerState,
        label: &str,
        outcome: Outcome,
        patch: Patch,
        body: Body,
        logger: &ObjectLogger,
    ) -> Recorded {
        let handler = &self.handler;
        let recorded = execution::record_outcome(
            label,
            state,
            &outcome,
            &handler.policy,
            self.context.settings.execution.default_backoff,
            Timestamp::now(),
        );
        if let Some(result) = recorded.result.clone() {
            store_result(&patch, &handler.id, result);
        }
        if !patch.is_empty() {
            let target = Target {
                client: &self.context.client,
                resource: &self.context.resource,
                storage: &self.context.settings.persistence.progress_storage,
            };
            // Bounded by the shared permits: thousands of timers firing together send
            // their results a few dozen at a time.
            let _permit = self.context.permits.clone().acquire_owned().await.ok();
            application::apply(target, &body, logger, &patch, None).await;
        }
        recorded
    }
}

/// Logs kopf's line when an attempt is cancelled mid-way (its future dropped by the
/// stopper or at exit); defused once the attempt has finished.
struct InFlight<'a> {
    logger: &'a ObjectLogger,
    label: &'a str,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.logger
            .warning(format!("{} is cancelled. Will escalate.", self.label));
    }
}

/// Seconds until a failed attempt may be retried; `None` when finished.
fn retry_delay(state: &HandlerState) -> Option<f64> {
    if state.is_finished() {
        return None;
    }
    let now = Timestamp::now();
    Some(match state.delayed {
        Some(until) if until > now => until.duration_since(now).as_secs_f64(),
        _ => 0.0,
    })
}
