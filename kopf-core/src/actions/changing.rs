//! Running a changing cause: its handlers in the lifecycle's order, each outcome recorded
//! with kopf's words, earlier outcomes written before a slow handler, and at the cycle's
//! end the progress (or, once done, the diff-base and the finalizer's release) written.

use crate::actions::application::{self, merged_view, store_result, touches_essence};
pub use crate::actions::cycle::{CycleOutcome, Permit, Serving};
use crate::actions::execution;
use crate::actions::lifecycles::next_handler;
use crate::actions::progression::Progress;
use crate::actions::subhandlers;
use crate::clients::patching::Patched;
use crate::intents::causes::{ChangingCause, ObjectCause, Reason, in_progress_line};
use crate::intents::families::{Changing, HandlerKind};
use crate::intents::handlers::{Handler, deduplicated};
use crate::logging::ObjectLogger;
use crate::settings::Lifecycle;
use crate::storage::progress::HandlerState;
use crate::structs::body::{Body, lookup};
use crate::structs::diff::Diff;
use crate::structs::finalizers;
use crate::structs::memo::Memo;
use crate::structs::patch::{Patch, merge_into};
use jiff::Timestamp;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// A handler running this long stops holding its permit when outcomes are flushed eagerly.
const DEFAULT_SLOW_AFTER: Duration = Duration::from_millis(500);

/// The essences and their diff, computed once per cycle.
pub struct Changes {
    pub old: Option<Value>,
    pub new: Value,
    pub diff: Diff,
}

/// A classified changing cause, ready to run.
pub struct Cause<'a> {
    pub body: &'a Body,
    pub logger: &'a ObjectLogger,
    pub reason: Reason,
    /// The object has not been handled fully since the operator started.
    pub initial: bool,
    pub changes: &'a Changes,
    pub memo: &'a Memo,
    /// No daemon or timer of the object is running: the finalizer may go.
    pub daemons_exited: bool,
}

/// The handlers a cause runs, as kopf mixes them: resume handlers join updates and
/// deletions while the object is "initial"; field handlers join creations and updates.
fn handlers_for(serving: &Serving<'_>, cause: &Cause<'_>) -> Vec<Arc<Handler<Changing>>> {
    let changes = cause.changes;
    let found = serving
        .handlers
        .iter()
        .filter(|h| match (cause.reason, h.kind) {
            (Reason::Create, HandlerKind::Create | HandlerKind::Field) => true,
            (Reason::Update, HandlerKind::Update | HandlerKind::Field) => true,
            (Reason::Update, HandlerKind::Resume) => cause.initial,
            (Reason::Delete, HandlerKind::Delete) => true,
            (Reason::Delete, HandlerKind::Resume) => cause.initial && h.options.deleted,
            (Reason::Resume, HandlerKind::Resume) => true,
            _ => false,
        })
        .filter(|h| {
            h.matches(
                cause.body,
                changes.old.as_ref(),
                Some(&changes.new),
                &changes.diff,
            )
        })
        .cloned()
        .collect();
    deduplicated(found)
}

/// Runs the cause's handlers and writes what they came to.
pub async fn run(serving: &Serving<'_>, cause: Cause<'_>, permit: &mut Permit) -> CycleOutcome {
    let Cause {
        body,
        logger,
        reason,
        changes,
        ..
    } = cause;
    logger.debug(in_progress_line(reason, body.raw()));
    if changes.old.is_some() && !changes.diff.is_empty() {
        logger.debug(format!(
            "{} diff: {}",
            reason.capitalised_title(),
            changes.diff
        ));
    }

    let handlers = handlers_for(serving, &cause);
    let ids: Vec<&str> = handlers.iter().map(|h| h.id.as_str()).collect();
    let storage = &serving.settings.persistence.progress_storage;
    let mut progress = Progress::load(storage, body, reason.as_str(), &ids, Timestamp::now());

    let patch = Patch::new();
    // The object as the cycle knows it: our mid-cycle writes move its resourceVersion on.
    let mut current = body.clone();
    // What the next handler sees: in `asap`, the earlier handlers' effects, as kopf's next cycle would.
    let mut view = body.clone();
    let mut ran = vec![false; handlers.len()];
    // Outcomes recorded in this cycle but not yet written.
    let mut unwritten = false;
    let lifecycle = serving.settings.execution.lifecycle;
    let subhandling = subhandlers::Options::from_settings(serving.settings);
    let flush_after = serving.settings.execution.progress_flush_after;
    // When a handler counts as slow: it gives up its permit and earlier outcomes are written.
    // With a zero flush delay, outcomes are written before each handler instead.
    let slow_after = if flush_after.is_zero() {
        DEFAULT_SLOW_AFTER
    } else {
        flush_after
    };
    while let Some(index) = next_handler(lifecycle, &progress.states, &ran, Timestamp::now()) {
        // A handler that changed what the diff-base covers ends the cycle, as in kopf: the
        // next handler must see the change through a new event.
        if lifecycle == Lifecycle::Asap && touches_essence(&patch) {
            break;
        }
        if unwritten && flush_after.is_zero() {
            if flush(serving, &mut current, logger, &patch, &mut progress).await {
                return CycleOutcome::gone();
            }
            unwritten = false;
        }
        ran[index] = true;
        let handler = &handlers[index];
        let label = format!("Handler '{}'", handler.id);
        let state = progress.state(index).clone();
        let now = Timestamp::now();
        let recorded = match execution::check_limits(&label, &state, &handler.policy, now) {
            Some(limited) => limited,
            None => {
                logger.debug(format!("{label} is invoked."));
                let invocation = subhandlers::invoke(
                    subhandling.clone(),
                    handler,
                    changing_cause(serving, &cause, &view, handler, &state, &patch),
                );
                tokio::pin!(invocation);
                let invoked = tokio::select! {
                    invoked = &mut invocation => invoked,
                    () = tokio::time::sleep(slow_after) => {
                        // A slow handler: it stops holding back other objects, and the
                        // earlier outcomes are written so that a crash now does not repeat them.
                        permit.take();
                        if unwritten && flush(serving, &mut current, logger, &patch, &mut progress).await {
                            return CycleOutcome::gone();
                        }
                        invocation.await
                    }
                };
                subhandlers::record(
                    &label,
                    &state,
                    &invoked,
                    &handler.policy,
                    serving.settings.execution.default_backoff,
                    Timestamp::now(),
                )
            }
        };
        logger.log(recorded.level, &recorded.message);
        if let Some(result) = recorded.result {
            store_result(&patch, &handler.id, result);
        }
        progress.update(index, recorded.state);
        unwritten = true;
        if lifecycle == Lifecycle::Asap && !patch.is_empty() {
            view = merged_view(&current, &patch);
        }
    }
    finish(serving, &cause, &current, &handlers, &patch, progress).await
}

/// The cycle's end: progress or the finished cause's records, then the patches, then
/// what the worker does next.
async fn finish(
    serving: &Serving<'_>,
    cause: &Cause<'_>,
    body: &Body,
    handlers: &[Arc<Handler<Changing>>],
    patch: &Patch,
    mut progress: Progress,
) -> CycleOutcome {
    let Cause {
        logger,
        reason,
        changes,
        ..
    } = *cause;
    let mut release = None;
    let finished = progress.is_finished();
    // A deletion's end waits for the object's daemons; the records stay until then, so
    // that no handler runs again when the cause is processed anew.
    let wait_daemons = finished && reason == Reason::Delete && !cause.daemons_exited;
    if wait_daemons {
        progress.record_all(patch);
    } else if finished {
        if !handlers.is_empty() {
            let (succeeded, failed) = progress.counts();
            logger.info(execution::processed_line(reason, succeeded, failed));
        }
        let all_ids = || serving.handlers.iter().map(|h| h.id.as_str());
        let subrefs = subhandlers::subrefs_to_purge(body, all_ids(), &progress);
        progress.purge(
            body,
            all_ids().chain(subrefs.iter().map(String::as_str)),
            patch,
        );
        if changes.old.as_ref() != Some(&changes.new) {
            let diffbase = &serving.settings.persistence.diffbase_storage;
            patch.edit(|patch| diffbase.store(body.raw(), patch, &changes.new));
        }
        let finalizer = serving.settings.persistence.finalizer.as_str();
        if reason == Reason::Delete && finalizers::has(body, finalizer) {
            logger.debug("Removing the finalizer, thus allowing the actual deletion.");
            release = Some(finalizers::remove(body, finalizer));
        }
    } else {
        progress.record(patch);
    }
    let delay = progress.delay(Timestamp::now());

    let patched = application::apply(serving.target(), body, logger, patch, release.as_ref()).await;
    if matches!(patched, Patched::Gone) {
        return CycleOutcome::gone();
    }
    let patched_version = patched.version();
    let outcome = CycleOutcome {
        finished: finished && !wait_daemons,
        wait_daemons,
        ..CycleOutcome::default()
    };
    if wait_daemons {
        return CycleOutcome {
            patched_version,
            ..outcome
        };
    }

    // As kopf: a patch's own event continues the work; otherwise sleep, then touch.
    match delay {
        Some(delay) if patched_version.is_some() => {
            if delay > 0.0 {
                logger.debug(format!(
                    "Sleeping was skipped because of the patch, {delay} seconds left."
                ));
            }
            CycleOutcome {
                patched_version,
                ..outcome
            }
        }
        Some(delay) => {
            if delay > 600.0 {
                logger.debug(format!(
                    "Sleeping for {delay} (capped 600) seconds for the delayed handlers."
                ));
            } else if delay > 0.0 {
                logger.debug(format!(
                    "Sleeping for {delay} seconds for the delayed handlers."
                ));
            }
            CycleOutcome {
                sleep: Some(Duration::from_secs_f64(delay.min(600.0))),
                ..outcome
            }
        }
        None if matches!(patched, Patched::Nothing) => {
            logger.debug("Handling cycle is finished, waiting for new changes.");
            outcome
        }
        None => CycleOutcome {
            patched_version,
            ..outcome
        },
    }
}

/// What one changing handler is called with; field handlers get the field's values.
fn changing_cause(
    serving: &Serving<'_>,
    cause: &Cause<'_>,
    view: &Body,
    handler: &Handler<Changing>,
    state: &HandlerState,
    patch: &Patch,
) -> ChangingCause {
    let changes = cause.changes;
    let (old, new, diff) = match &handler.field {
        Some(field) => {
            let keys = || field.iter().map(String::as_str);
            let pick = |essence: Option<&Value>| {
                essence
                    .map(|e| lookup(e, keys()))
                    .filter(|v| !v.is_null())
                    .cloned()
            };
            (
                pick(changes.old.as_ref()),
                pick(Some(&changes.new)),
                changes.diff.reduce(field),
            )
        }
        None => (
            changes.old.clone(),
            Some(changes.new.clone()),
            changes.diff.clone(),
        ),
    };
    ChangingCause {
        object: ObjectCause {
            body: view.clone(),
            resource: serving.resource.clone(),
            patch: patch.clone(),
            logger: cause.logger.clone(),
            memo: cause.memo.clone(),
            param: handler.param.clone(),
            handler_id: handler.id.as_str().into(),
            client: serving.client.clone(),
            shared: serving.shared.clone(),
        },
        reason: cause.reason,
        diff,
        old,
        new,
        retry: state.retries,
        started: state.started,
    }
}

/// Writes the outcomes recorded so far in the middle of a cycle (kopf writes them after
/// every handler in `asap`; we do when the next handler is slow or when told to always).
/// On success `current` moves to the new resourceVersion; on failure everything stays in
/// the patch for the cycle's end. Returns whether the object is gone.
async fn flush(
    serving: &Serving<'_>,
    current: &mut Body,
    logger: &ObjectLogger,
    patch: &Patch,
    progress: &mut Progress,
) -> bool {
    let handlers_part = patch.take();
    let sending = Patch::new();
    sending.merge(handlers_part.clone());
    progress.record(&sending);
    let sent = sending.snapshot();
    match application::apply(serving.target(), current, logger, &sending, None).await {
        Patched::Version(version) => {
            progress.mark_written();
            progress.mark_sent(&sent);
            *current = application::with_version(current, version);
            false
        }
        Patched::Gone => true,
        Patched::Nothing => false,
        Patched::Skipped => {
            // Put the handlers' part back under anything written since; the records are
            // still dirty and go with the cycle's final patch.
            let mut restored = handlers_part;
            merge_into(&mut restored, patch.take());
            patch.merge(restored);
            false
        }
    }
}
