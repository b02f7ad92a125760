//! Sub-handlers at run time (kopf's `reactor/subhandling.py`): every changing handler is
//! invoked with sub-handlers of its own; what it registers runs within its invocation —
//! when it calls `execute()`, else after it returns — each sub-handler with its own
//! progress record (id `parent/child`), retries and result (`status["parent/child"]`).
//! The parent's record lists them, of any depth, in `subrefs`, so that they are purged
//! with it; while any is unfinished, the parent is retried (kopf's `HandlerChildrenRetry`).

use crate::actions::application::store_result;
use crate::actions::execution::{self, Recorded};
use crate::actions::lifecycles::next_handler;
use crate::actions::progression::Progress;
use crate::intents::causes::ChangingCause;
use crate::intents::families::Changing;
use crate::intents::handlers::Handler;
use crate::invocation::guard::BoxFuture;
use crate::invocation::outcome::{Outcome, RetryPolicy};
use crate::invocation::subhandlers::{SubExecutor, SubHandlers};
use crate::settings::{Lifecycle, ProgressStorage, Settings};
use crate::storage::progress::HandlerState;
use crate::structs::body::Body;
use jiff::Timestamp;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

/// The ids of the sub-handlers found below one handler (shared with its descendants).
type Subrefs = Arc<Mutex<BTreeSet<String>>>;

/// What running sub-handlers takes from the settings.
#[derive(Clone, Debug)]
pub struct Options {
    /// The parent's lifecycle, also theirs: `asap` runs one per invocation of the parent.
    pub lifecycle: Lifecycle,
    pub default_backoff: f64,
    /// Where their progress records are kept, as the parent's.
    pub storage: ProgressStorage,
}

impl Options {
    pub fn from_settings(settings: &Settings) -> Self {
        Options {
            lifecycle: settings.execution.lifecycle,
            default_backoff: settings.execution.default_backoff,
            storage: settings.persistence.progress_storage.clone(),
        }
    }
}

/// What invoking a handler came to, with the ids of its sub-handlers of any depth.
pub struct Invoked {
    pub outcome: Outcome,
    pub subrefs: BTreeSet<String>,
}

/// Invokes a changing handler with its sub-handlers: those it registered and did not
/// execute run after it returns; unfinished ones make its outcome `Unfinished`.
pub async fn invoke(
    options: Options,
    handler: &Handler<Changing>,
    cause: ChangingCause,
) -> Invoked {
    invoke_within(options, handler, cause, Vec::new()).await
}

async fn invoke_within(
    options: Options,
    handler: &Handler<Changing>,
    cause: ChangingCause,
    ancestors: Vec<Subrefs>,
) -> Invoked {
    let own = Subrefs::default();
    let mut chain = ancestors;
    chain.push(own.clone());
    let executor = Executor {
        options,
        cause: cause.clone(),
        chain,
    };
    let subhandlers = SubHandlers::new(handler, Arc::new(executor));
    // Invoked inside the scope: the handler's `SubHandlers` argument is taken from it.
    let mut outcome = subhandlers
        .scope(async { handler.invoke(cause).await })
        .await;
    if matches!(outcome, Outcome::Success(_))
        && let Some(delay) = subhandlers.finish().await
    {
        outcome = Outcome::Unfinished { delay };
    }
    let subrefs = std::mem::take(&mut *own.lock().unwrap_or_else(PoisonError::into_inner));
    Invoked { outcome, subrefs }
}

/// The handler's new state, log line and result; its record's `subrefs` gain the ids of
/// the sub-handlers it has now.
pub fn record(
    label: &str,
    state: &HandlerState,
    invoked: &Invoked,
    policy: &RetryPolicy,
    default_backoff: f64,
    now: Timestamp,
) -> Recorded {
    let mut recorded =
        execution::record_outcome(label, state, &invoked.outcome, policy, default_backoff, now);
    if !invoked.subrefs.is_empty() {
        let known = recorded.state.subrefs.iter().chain(&invoked.subrefs);
        let all: BTreeSet<&String> = known.collect();
        recorded.state.subrefs = all.into_iter().cloned().collect();
    }
    recorded
}

/// The sub-handlers whose records go with a finished cause: those listed by the cause's
/// handlers and by the records the object carries for the resource's handlers.
pub fn subrefs_to_purge<'a>(
    body: &Body,
    ids: impl Iterator<Item = &'a str>,
    progress: &Progress,
) -> Vec<String> {
    let ids: Vec<&str> = ids.collect();
    let mut subrefs: BTreeSet<String> = progress
        .states
        .iter()
        .flat_map(|(_, state)| state.subrefs.iter().cloned())
        .collect();
    for id in ids {
        let stored = progress.storage().fetch(id, body.raw());
        subrefs.extend(stored.into_iter().flat_map(|state| state.subrefs));
    }
    subrefs.into_iter().collect()
}

/// Runs one parent's sub-handlers, as its cause (the body it was invoked with, the
/// shared patch) and its place among its ancestors say.
#[derive(Clone)]
struct Executor {
    options: Options,
    cause: ChangingCause,
    /// The parent's own subrefs last, its ancestors' before.
    chain: Vec<Subrefs>,
}

impl SubExecutor for Executor {
    fn execute(&self, handlers: Vec<Handler<Changing>>) -> BoxFuture<'static, Option<f64>> {
        let this = self.clone();
        Box::pin(async move { this.run(handlers).await })
    }
}

impl Executor {
    async fn run(&self, handlers: Vec<Handler<Changing>>) -> Option<f64> {
        let cause = &self.cause;
        let body = &cause.object.body;
        let (active, inactive): (Vec<_>, Vec<_>) = handlers
            .into_iter()
            .partition(|h| h.matches(body, cause.old.as_ref(), cause.new.as_ref(), &cause.diff));
        let ids: Vec<&str> = active.iter().map(|h| h.id.as_str()).collect();
        let mut progress = Progress::load(
            &self.options.storage,
            body,
            cause.reason.as_str(),
            &ids,
            Timestamp::now(),
        );
        self.note_subrefs(&ids, &inactive, body);

        let lifecycle = self.options.lifecycle;
        let mut ran = vec![false; active.len()];
        while let Some(index) = next_handler(lifecycle, &progress.states, &ran, Timestamp::now()) {
            ran[index] = true;
            let recorded = self.run_one(&active[index], progress.state(index)).await;
            progress.update(index, recorded.state);
            // kopf's `asap` picks one handler per invocation, sub-handlers included.
            if lifecycle == Lifecycle::Asap {
                break;
            }
        }
        progress.record(&cause.object.patch);
        if progress.is_finished() {
            None
        } else {
            Some(progress.delay(Timestamp::now()).unwrap_or(0.0))
        }
    }

    /// Every ancestor lists the sub-handlers of this batch: the selected ones, and the
    /// filtered-out ones that have a record.
    fn note_subrefs(&self, active: &[&str], inactive: &[Handler<Changing>], body: &Body) {
        let inactive: Vec<&str> = inactive.iter().map(|h| h.id.as_str()).collect();
        let storage = &self.options.storage;
        let recorded = inactive
            .iter()
            .filter(|id| storage.fetch(id, body.raw()).is_some());
        let mut ids: Vec<String> = active.iter().map(|id| id.to_string()).collect();
        ids.extend(recorded.map(|id| id.to_string()));
        for subrefs in &self.chain {
            let mut subrefs = subrefs.lock().unwrap_or_else(PoisonError::into_inner);
            subrefs.extend(ids.iter().cloned());
        }
    }

    /// One sub-handler's attempt (or its limit), logged and recorded as any handler's.
    async fn run_one(&self, child: &Handler<Changing>, state: &HandlerState) -> Recorded {
        let logger = &self.cause.object.logger;
        let label = format!("Handler '{}'", child.id);
        let recorded = match execution::check_limits(&label, state, &child.policy, Timestamp::now())
        {
            Some(limited) => limited,
            None => {
                logger.debug(format!("{label} is invoked."));
                let mut cause = self.cause.clone();
                cause.object.handler_id = child.id.as_str().into();
                cause.object.param = child.param.clone();
                cause.retry = state.retries;
                cause.started = state.started;
                let invoked =
                    invoke_within(self.options.clone(), child, cause, self.chain.clone()).await;
                let backoff = self.options.default_backoff;
                record(
                    &label,
                    state,
                    &invoked,
                    &child.policy,
                    backoff,
                    Timestamp::now(),
                )
            }
        };
        logger.log(recorded.level, &recorded.message);
        if let Some(result) = &recorded.result {
            store_result(&self.cause.object.patch, &child.id, result.clone());
        }
        recorded
    }
}

#[cfg(test)]
mod tests;
