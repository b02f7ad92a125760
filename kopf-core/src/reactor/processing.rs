//! One handling cycle per raw event: kopf's state machine (classification, finalizer,
//! handlers in lifecycle order, progress records, diff-base, patches, delays).

use crate::body::lookup;
use crate::causes::{self, Reason};
use crate::diff::{self, Diff};
use crate::essence;
use crate::execution;
use crate::handler::{Cause, Memo};
use crate::logging::ObjectLogger;
use crate::progress::{self, HandlerState};
use crate::reactor::patching::{self, Patched};
use crate::reactor::watching::{EventKind, RawEvent};
use crate::registry::{Handler, HandlerKind};
use crate::repr::python_repr;
use crate::resource::Resource;
use crate::settings::{Lifecycle, Settings};
use crate::{Body, Patch};
use jiff::Timestamp;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Where kopf keeps its annotations.
pub const PREFIX: &str = "kopf.zalando.org";
const TOUCH_DUMMY: &str = "kopf.zalando.org/touch-dummy";
/// A handler running this long stops holding its permit when outcomes are flushed eagerly.
const DEFAULT_SLOW_AFTER: Duration = Duration::from_millis(500);

/// What the reactor remembers about one object between events (by uid), as kopf does.
#[derive(Default)]
pub struct ObjectMemory {
    pub memo: Memo,
    /// First seen by a listing (not a watch event) in this process.
    pub noticed_by_listing: bool,
    /// A cause has been fully handled at least once in this process.
    pub fully_handled_once: bool,
    first_appearance_logged: bool,
}

/// Everything a cycle needs about the resource being served.
pub struct ResourceContext {
    pub client: kube::Client,
    pub resource: Arc<Resource>,
    /// The handlers that select this resource, in declaration order.
    pub handlers: Vec<Arc<Handler>>,
    pub settings: Arc<Settings>,
    /// Shared by all resources: how many cycles may run at once.
    pub permits: Arc<Semaphore>,
}

/// A cycle's place among the running ones; given up when a handler turns out to be slow.
pub type Permit = Option<OwnedSemaphorePermit>;

/// What the worker does after a cycle.
#[derive(Debug, Default)]
pub struct CycleOutcome {
    /// Our own patch's resulting resourceVersion: changing handlers wait for it to arrive.
    pub patched_version: Option<String>,
    /// Handlers are delayed: sleep this long (interruptible by new events), then touch.
    pub sleep: Option<Duration>,
    /// The object is gone: forget it.
    pub gone: bool,
}

/// Processes one raw event fully.
pub async fn process_event(
    ctx: &ResourceContext,
    memory: &mut ObjectMemory,
    event: &RawEvent,
    permit: &mut Permit,
) -> CycleOutcome {
    let body = Body::new(event.object(&ctx.resource));
    let logger = object_logger(&ctx.resource, &body);
    if event.kind == EventKind::Listed {
        memory.noticed_by_listing = true;
    }

    // Blind to objects that no handler could ever be interested in: no finalizer, no state, no logs.
    let prematching: Vec<&Arc<Handler>> = ctx
        .handlers
        .iter()
        .filter(|h| h.prematches(&body))
        .collect();
    if prematching.is_empty() {
        return CycleOutcome {
            gone: event.kind == EventKind::Deleted,
            ..CycleOutcome::default()
        };
    }

    let fields: Vec<Vec<String>> = ctx
        .handlers
        .iter()
        .filter_map(|h| h.field.clone())
        .collect();
    let old = essence::stored_diffbase(body.raw());
    let new = essence::essence(body.raw(), &fields);
    let diff = diff::diff(old.as_ref(), Some(&new));
    let initial = memory.noticed_by_listing && !memory.fully_handled_once;
    let finalizer = ctx.settings.finalizer.as_str();
    let reason = causes::classify(
        event.kind == EventKind::Deleted,
        body.raw(),
        finalizer,
        old.as_ref(),
        &diff,
        initial,
    );

    if reason == Reason::Gone {
        logger.debug("Deleted, really deleted, and we are notified.");
        return CycleOutcome {
            gone: true,
            ..CycleOutcome::default()
        };
    }
    if reason == Reason::Create && !memory.first_appearance_logged {
        memory.first_appearance_logged = true;
        logger.debug(format!("First appearance: {}", python_repr(body.raw())));
    }

    // The finalizer step: adding or removing it consumes the cycle.
    let deleting = body.deletion_timestamp().is_some();
    let has_finalizer = body.finalizers().contains(&finalizer);
    let requires_finalizer = prematching.iter().any(|h| h.requires_finalizer());
    if !deleting && requires_finalizer && !has_finalizer {
        logger.debug("Adding the finalizer, thus preventing the actual deletion.");
        let ops = finalizer_ops(&body, finalizer, true);
        return json_patch_cycle(ctx, &body, &logger, ops).await;
    }
    if !requires_finalizer && has_finalizer {
        logger.debug("Removing the finalizer, as there are no handlers requiring it.");
        let ops = finalizer_ops(&body, finalizer, false);
        return json_patch_cycle(ctx, &body, &logger, ops).await;
    }

    match reason {
        Reason::Free => {
            logger.debug("Deletion, but we are done with it, and we do not care.");
            logger.debug("Handling cycle is finished, waiting for new changes.");
            CycleOutcome::default()
        }
        Reason::Noop => {
            logger.debug(
                "Something has changed, but we are not interested (the essence is the same).",
            );
            logger.debug("Handling cycle is finished, waiting for new changes.");
            CycleOutcome::default()
        }
        _ => {
            let changes = Changes { old, new, diff };
            let cause = CauseContext {
                body: &body,
                logger: &logger,
                reason,
                initial,
                changes: &changes,
            };
            run_cause(ctx, memory, cause, permit).await
        }
    }
}

/// The essences and their diff, computed once per cycle.
struct Changes {
    old: Option<Value>,
    new: Value,
    diff: Diff,
}

/// The handlers a cause runs, as kopf mixes them: resume handlers join updates and
/// deletions while the object is "initial"; field handlers join creations and updates.
fn handlers_for(
    ctx: &ResourceContext,
    body: &Body,
    reason: Reason,
    initial: bool,
    changes: &Changes,
) -> Vec<Arc<Handler>> {
    ctx.handlers
        .iter()
        .filter(|h| match (reason, h.kind) {
            (Reason::Create, HandlerKind::Create | HandlerKind::Field) => true,
            (Reason::Update, HandlerKind::Update | HandlerKind::Field) => true,
            (Reason::Update, HandlerKind::Resume) => initial,
            (Reason::Delete, HandlerKind::Delete) => true,
            (Reason::Delete, HandlerKind::Resume) => initial && h.deleted,
            (Reason::Resume, HandlerKind::Resume) => true,
            _ => false,
        })
        .filter(|h| {
            h.prematches(body)
                && h.matches(
                    body,
                    changes.old.as_ref(),
                    Some(&changes.new),
                    &changes.diff,
                )
        })
        .cloned()
        .collect()
}

/// What a cycle has established before running handlers.
struct CauseContext<'a> {
    body: &'a Body,
    logger: &'a ObjectLogger,
    reason: Reason,
    initial: bool,
    changes: &'a Changes,
}

async fn run_cause(
    ctx: &ResourceContext,
    memory: &mut ObjectMemory,
    cause: CauseContext<'_>,
    permit: &mut Permit,
) -> CycleOutcome {
    let CauseContext {
        body,
        logger,
        reason,
        initial,
        changes,
    } = cause;
    logger.debug(causes::in_progress_line(reason, body.raw()));
    if changes.old.is_some() && !changes.diff.is_empty() {
        logger.debug(format!(
            "{} diff: {}",
            capitalised(reason.title()),
            changes.diff
        ));
    }

    let handlers = handlers_for(ctx, body, reason, initial, changes);
    let ids: Vec<&str> = handlers.iter().map(|h| h.id.as_str()).collect();
    let now = Timestamp::now();
    // Records of another purpose belong to a superseded cause: start afresh.
    let mut states: Vec<(String, HandlerState)> = Vec::with_capacity(handlers.len());
    let mut dirty: Vec<bool> = Vec::with_capacity(handlers.len());
    for (id, stored) in progress::load_states(body.raw(), PREFIX, &ids) {
        match stored.filter(|s| s.purpose.as_deref() == Some(reason.as_str())) {
            Some(state) => {
                states.push((id, state));
                dirty.push(false);
            }
            None => {
                states.push((id, HandlerState::new(reason.as_str(), now)));
                dirty.push(true);
            }
        }
    }

    let patch = Patch::new();
    // The object as the cycle knows it: our mid-cycle writes move its resourceVersion on.
    let mut current = body.clone();
    // What the next handler sees: in `asap`, the earlier handlers' effects, as kopf's next cycle would.
    let mut view = body.clone();
    // Progress records written by a mid-cycle flush (they are on the server, not on `body`).
    let mut written: Vec<String> = Vec::new();
    let mut ran = vec![false; states.len()];
    // Outcomes recorded in this cycle but not yet written.
    let mut unwritten = false;
    let lifecycle = ctx.settings.lifecycle;
    let flush_after = ctx.settings.progress_flush_after;
    // When a handler counts as slow: it gives up its permit and earlier outcomes are written.
    // With a zero flush delay, outcomes are written before each handler instead.
    let slow_after = if flush_after.is_zero() {
        DEFAULT_SLOW_AFTER
    } else {
        flush_after
    };
    while let Some(index) = next_handler(lifecycle, &states, &ran, Timestamp::now()) {
        // A handler that changed what the diff-base covers ends the cycle, as in kopf: the
        // next handler must see the change through a new event.
        if lifecycle == Lifecycle::Asap && touches_essence(&patch) {
            break;
        }
        if unwritten && flush_after.is_zero() {
            let flushed = flush(
                ctx,
                &mut current,
                logger,
                &patch,
                &states,
                &mut dirty,
                &mut written,
            );
            if flushed.await {
                return gone_outcome();
            }
            unwritten = false;
        }
        ran[index] = true;
        let handler = &handlers[index];
        let label = format!("Handler '{}'", handler.id);
        let state = states[index].1.clone();
        let recorded = match execution::check_limits(
            &label,
            &state,
            &handler.policy,
            Timestamp::now(),
        ) {
            Some(limited) => limited,
            None => {
                logger.debug(format!("{label} is invoked."));
                let cause = build_cause(
                    ctx, memory, &view, logger, reason, handler, &state, changes, &patch,
                );
                let invocation = handler.invoke(cause);
                tokio::pin!(invocation);
                let outcome = tokio::select! {
                    outcome = &mut invocation => outcome,
                    () = tokio::time::sleep(slow_after) => {
                        // A slow handler: it stops holding back other objects, and the
                        // earlier outcomes are written so that a crash now does not repeat them.
                        permit.take();
                        if unwritten && flush(ctx, &mut current, logger, &patch, &states, &mut dirty, &mut written).await {
                            return gone_outcome();
                        }
                        invocation.await
                    }
                };
                execution::record_outcome(
                    &label,
                    &state,
                    &outcome,
                    &handler.policy,
                    ctx.settings.default_backoff,
                    Timestamp::now(),
                )
            }
        };
        log_at(logger, recorded.level, &recorded.message);
        if let Some(result) = recorded.result {
            store_result(&patch, &handler.id, result);
        }
        states[index].1 = recorded.state;
        dirty[index] = true;
        unwritten = true;
        if lifecycle == Lifecycle::Asap && !patch.is_empty() {
            view = merged_view(&current, &patch);
        }
    }
    let body = &current;

    let mut json_ops = None;
    let finished = states.iter().all(|(_, s)| s.is_finished());
    if finished {
        if !handlers.is_empty() {
            let succeeded = states.iter().filter(|(_, s)| s.success).count();
            let failed = states.iter().filter(|(_, s)| s.failure).count();
            logger.info(execution::processed_line(reason, succeeded, failed));
        }
        purge_progress(ctx, body, &written, &patch);
        if changes.old.as_ref() != Some(&changes.new) {
            patch.set_keys(
                &["metadata", "annotations", essence::LAST_HANDLED],
                Value::String(essence::diffbase_text(&changes.new)),
            );
        }
        memory.fully_handled_once = true;
        if reason == Reason::Delete && body.finalizers().contains(&ctx.settings.finalizer.as_str())
        {
            logger.debug("Removing the finalizer, thus allowing the actual deletion.");
            json_ops = Some(finalizer_ops(body, &ctx.settings.finalizer, false));
        }
    } else {
        record_progress(&patch, &states, &dirty);
    }

    // Delays of unfinished handlers: zero for those runnable right now.
    let now = Timestamp::now();
    let delay = states
        .iter()
        .filter(|(_, s)| !s.is_finished())
        .map(|(_, s)| match s.delayed {
            Some(until) if until > now => until.duration_since(now).as_secs_f64().max(0.0),
            _ => 0.0,
        })
        .fold(None, |min: Option<f64>, d| {
            Some(min.map_or(d, |m| m.min(d)))
        });

    let patched = apply_cycle_patches(ctx, body, logger, &patch, json_ops).await;
    let gone = matches!(patched, Patched::Gone);
    let patched_version = patched.version();
    if gone {
        return gone_outcome();
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
                ..CycleOutcome::default()
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
                ..CycleOutcome::default()
            }
        }
        None if matches!(patched, Patched::Nothing) => {
            logger.debug("Handling cycle is finished, waiting for new changes.");
            CycleOutcome::default()
        }
        None => CycleOutcome {
            patched_version,
            ..CycleOutcome::default()
        },
    }
}

#[allow(clippy::too_many_arguments)]
fn build_cause(
    ctx: &ResourceContext,
    memory: &ObjectMemory,
    body: &Body,
    logger: &ObjectLogger,
    reason: Reason,
    handler: &Handler,
    state: &HandlerState,
    changes: &Changes,
    patch: &Patch,
) -> Cause {
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
    Cause {
        reason,
        body: body.clone(),
        resource: ctx.resource.clone(),
        diff,
        old,
        new,
        patch: patch.clone(),
        logger: logger.clone(),
        retry: state.retries,
        started: state.started,
        memo: memory.memo.clone(),
        param: handler.param.clone(),
        handler_id: handler.id.as_str().into(),
        client: ctx.client.clone(),
    }
}

/// The next handler to run in this cycle, none twice: kopf's `asap` order (the fewest
/// retries first) or `all_at_once` order (declaration order).
fn next_handler(
    lifecycle: Lifecycle,
    states: &[(String, HandlerState)],
    ran: &[bool],
    now: Timestamp,
) -> Option<usize> {
    let runnable = |index: usize| {
        let state = &states[index].1;
        !ran[index] && !state.is_finished() && !state.is_sleeping(now)
    };
    match lifecycle {
        Lifecycle::Asap => (0..states.len())
            .filter(|index| runnable(*index))
            .min_by_key(|index| (states[*index].1.retries, *index)),
        Lifecycle::AllAtOnce => (0..states.len()).find(|index| runnable(*index)),
    }
}

/// Whether the handlers' patch reaches beyond `status`, into what the diff-base covers.
fn touches_essence(patch: &Patch) -> bool {
    patch
        .snapshot()
        .as_object()
        .is_some_and(|fields| fields.keys().any(|key| key != "status"))
}

/// The object with a merge-patch applied locally (RFC 7386: nulls delete).
fn merged_view(body: &Body, patch: &Patch) -> Body {
    let mut raw = body.raw().clone();
    json_patch::merge(&mut raw, &patch.snapshot());
    Body::new(raw)
}

/// Puts the records of handlers whose state changed in this cycle into the patch.
fn record_progress(patch: &Patch, states: &[(String, HandlerState)], dirty: &[bool]) {
    for ((id, state), changed) in states.iter().zip(dirty) {
        if *changed {
            let key = progress::annotation_key(PREFIX, id);
            patch.set_keys(
                &["metadata", "annotations", &key],
                Value::String(state.to_json()),
            );
        }
    }
}

/// Writes the outcomes recorded so far in the middle of a cycle (kopf writes them after
/// every handler in `asap`; we do when the next handler is slow or when told to always).
/// On success `current` moves to the new resourceVersion; on failure everything stays in
/// the patch for the cycle's end. Returns whether the object is gone.
async fn flush(
    ctx: &ResourceContext,
    current: &mut Body,
    logger: &ObjectLogger,
    patch: &Patch,
    states: &[(String, HandlerState)],
    dirty: &mut [bool],
    written: &mut Vec<String>,
) -> bool {
    let handlers_part = patch.take();
    let sending = Patch::new();
    sending.merge(handlers_part.clone());
    record_progress(&sending, states, dirty);
    match apply_cycle_patches(ctx, current, logger, &sending, None).await {
        Patched::Version(version) => {
            for ((id, _), changed) in states.iter().zip(dirty.iter_mut()) {
                if std::mem::take(changed) {
                    written.push(progress::annotation_key(PREFIX, id));
                }
            }
            let mut raw = current.raw().clone();
            if let Some(meta) = raw.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.insert("resourceVersion".into(), Value::String(version));
            }
            *current = Body::new(raw);
            false
        }
        Patched::Gone => true,
        Patched::Nothing => false,
        Patched::Skipped => {
            // Put the handlers' part back under anything written since; the records are
            // still dirty and go with the cycle's final patch.
            let mut restored = handlers_part;
            crate::patch::merge_into(&mut restored, patch.take());
            patch.merge(restored);
            false
        }
    }
}

fn gone_outcome() -> CycleOutcome {
    CycleOutcome {
        gone: true,
        ..CycleOutcome::default()
    }
}

/// A returned object is shallow-merged into `status.<id>`; anything else is set there.
fn store_result(patch: &Patch, id: &str, result: Value) {
    match result {
        Value::Object(fields) => {
            for (key, value) in fields {
                patch.set_keys(&["status", id, &key], value);
            }
        }
        other => patch.set_keys(&["status", id], other),
    }
}

/// Nulls every progress record of this resource's handlers that the object carries.
fn purge_progress(ctx: &ResourceContext, body: &Body, written: &[String], patch: &Patch) {
    let mut annotations = patch
        .snapshot()
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for handler in &ctx.handlers {
        let key = progress::annotation_key(PREFIX, &handler.id);
        if body.annotation(&key).is_some() || written.contains(&key) {
            annotations.insert(key, Value::Null);
        } else {
            // Written and purged in one cycle: never sent.
            annotations.shift_remove(&key);
        }
    }
    if annotations.is_empty() {
        return;
    }
    let mut snapshot = patch.take();
    if let Some(meta) = snapshot.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("annotations".into(), Value::Object(annotations));
    } else if let Some(root) = snapshot.as_object_mut() {
        root.insert("metadata".into(), json!({ "annotations": annotations }));
    }
    patch.merge(snapshot);
}

/// The JSON patch that adds or removes our finalizer, guarded by the resourceVersion.
pub fn finalizer_ops(body: &Body, finalizer: &str, add: bool) -> Value {
    let version = body.resource_version().unwrap_or_default();
    let finalizers = body.finalizers();
    let op = if add {
        if finalizers.is_empty() {
            json!({"op": "add", "path": "/metadata/finalizers", "value": [finalizer]})
        } else {
            json!({"op": "add", "path": format!("/metadata/finalizers/{}", finalizers.len()), "value": finalizer})
        }
    } else {
        let index = finalizers.iter().position(|f| *f == finalizer).unwrap_or(0);
        if finalizers.len() <= 1 {
            json!({"op": "remove", "path": "/metadata/finalizers"})
        } else {
            json!({"op": "remove", "path": format!("/metadata/finalizers/{index}")})
        }
    };
    json!([{"op": "test", "path": "/metadata/resourceVersion", "value": version}, op])
}

async fn json_patch_cycle(
    ctx: &ResourceContext,
    body: &Body,
    logger: &ObjectLogger,
    ops: Value,
) -> CycleOutcome {
    let patched = apply_cycle_patches(ctx, body, logger, &Patch::new(), Some(ops)).await;
    CycleOutcome {
        gone: matches!(patched, Patched::Gone),
        patched_version: patched.version(),
        sleep: None,
    }
}

/// Applies a cycle's patches in kopf's order: the resource, its status, then JSON patches.
async fn apply_cycle_patches(
    ctx: &ResourceContext,
    body: &Body,
    logger: &ObjectLogger,
    patch: &Patch,
    json_ops: Option<Value>,
) -> Patched {
    let mut merge = patch.take();
    let non_empty = merge.as_object().is_some_and(|m| !m.is_empty());
    if non_empty && body.annotation(TOUCH_DUMMY).is_some() {
        let mut nulled = Map::new();
        nulled.insert(TOUCH_DUMMY.to_string(), Value::Null);
        crate::patch::merge_into(&mut merge, json!({"metadata": {"annotations": nulled}}));
    }
    patching::apply(ctx, body, logger, merge, json_ops).await
}

/// After a completed sleep: a touch that makes the server send a new event.
pub async fn touch(ctx: &ResourceContext, body: &Body) -> Patched {
    let logger = object_logger(&ctx.resource, body);
    let now = progress::format_timestamp(Timestamp::now());
    let merge = json!({"metadata": {"annotations": {TOUCH_DUMMY: now}}});
    patching::apply(ctx, body, &logger, merge, None).await
}

pub fn object_logger(resource: &Resource, body: &Body) -> ObjectLogger {
    let name = body.name().unwrap_or_default();
    let namespace = if resource.namespaced {
        body.namespace()
    } else {
        None
    };
    let mut reference = Map::new();
    reference.insert("apiVersion".into(), Value::String(resource.api_version()));
    reference.insert("kind".into(), Value::String(resource.kind.clone()));
    reference.insert("name".into(), Value::String(name.to_string()));
    reference.insert(
        "uid".into(),
        body.uid().map_or(Value::Null, |u| Value::String(u.into())),
    );
    if let Some(ns) = namespace {
        reference.insert("namespace".into(), Value::String(ns.into()));
    }
    ObjectLogger::new(namespace, name, Value::Object(reference))
}

fn log_at(logger: &ObjectLogger, level: tracing::Level, message: &str) {
    match level {
        tracing::Level::ERROR => logger.error(message),
        tracing::Level::WARN => logger.warning(message),
        tracing::Level::INFO => logger.info(message),
        _ => logger.debug(message),
    }
}

fn capitalised(title: &str) -> String {
    let mut chars = title.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_handler_sees_earlier_results_as_a_merge_patch_leaves_them() {
        let body = Body::new(json!({
            "metadata": {"name": "x", "annotations": {"a": "1", "b": "2"}},
            "status": {"phase": "Old", "gone": true},
        }));
        let patch = Patch::new();
        patch.set_keys(&["status", "create_fn", "message"], json!("created"));
        patch.set_keys(&["status", "gone"], Value::Null);
        patch.set_keys(&["metadata", "annotations", "a"], Value::Null);
        let view = merged_view(&body, &patch);
        assert_eq!(
            view.raw(),
            &json!({
                "metadata": {"name": "x", "annotations": {"b": "2"}},
                "status": {"phase": "Old", "create_fn": {"message": "created"}},
            })
        );
        assert!(touches_essence(&patch), "annotations are in the essence");
        let status_only = Patch::new();
        status_only.set_keys(&["status", "create_fn"], json!({"message": "created"}));
        assert!(!touches_essence(&status_only));
    }

    #[test]
    fn asap_takes_the_fewest_retries_first_and_never_one_handler_twice() {
        let now = Timestamp::now();
        let mut retried = HandlerState::new("create", now);
        retried.retries = 2;
        let states = vec![
            ("a".to_string(), retried),
            ("b".to_string(), HandlerState::new("create", now)),
            ("c".to_string(), HandlerState::new("create", now)),
        ];
        let mut ran = vec![false; 3];
        assert_eq!(next_handler(Lifecycle::Asap, &states, &ran, now), Some(1));
        assert_eq!(
            next_handler(Lifecycle::AllAtOnce, &states, &ran, now),
            Some(0)
        );
        ran[1] = true;
        assert_eq!(next_handler(Lifecycle::Asap, &states, &ran, now), Some(2));
        ran[2] = true;
        ran[0] = true;
        assert_eq!(next_handler(Lifecycle::Asap, &states, &ran, now), None);
    }
}
