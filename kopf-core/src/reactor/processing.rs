//! One handling cycle per raw event: kopf's state machine (classification, finalizer,
//! one handler per cycle, progress records, diff-base, patches, delays).

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

/// Where kopf keeps its annotations.
pub const PREFIX: &str = "kopf.zalando.org";
const TOUCH_DUMMY: &str = "kopf.zalando.org/touch-dummy";

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
}

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
) -> CycleOutcome {
    let body = Body::new(event.object.clone());
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
            run_cause(ctx, memory, &body, &logger, reason, initial, &changes).await
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

async fn run_cause(
    ctx: &ResourceContext,
    memory: &mut ObjectMemory,
    body: &Body,
    logger: &ObjectLogger,
    reason: Reason,
    initial: bool,
    changes: &Changes,
) -> CycleOutcome {
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
    for index in lifecycle_selection(ctx.settings.lifecycle, &states, now) {
        let handler = &handlers[index];
        let label = format!("Handler '{}'", handler.id);
        let state = states[index].1.clone();
        let recorded =
            match execution::check_limits(&label, &state, &handler.policy, Timestamp::now()) {
                Some(limited) => limited,
                None => {
                    logger.debug(format!("{label} is invoked."));
                    let cause = build_cause(
                        ctx, memory, body, logger, reason, handler, &state, changes, &patch,
                    );
                    let outcome = handler.invoke(cause).await;
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
    }

    let mut json_ops = None;
    let finished = states.iter().all(|(_, s)| s.is_finished());
    if finished {
        if !handlers.is_empty() {
            let succeeded = states.iter().filter(|(_, s)| s.success).count();
            let failed = states.iter().filter(|(_, s)| s.failure).count();
            logger.info(execution::processed_line(reason, succeeded, failed));
        }
        purge_progress(ctx, body, &patch);
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
        for ((id, state), changed) in states.iter().zip(&dirty) {
            if *changed {
                let key = progress::annotation_key(PREFIX, id);
                patch.set_keys(
                    &["metadata", "annotations", &key],
                    Value::String(state.to_json()),
                );
            }
        }
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
        return CycleOutcome {
            gone: true,
            ..CycleOutcome::default()
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

/// Which handlers run in this cycle: kopf's `asap` (one, the fewest retries first) or
/// `all_at_once` (every runnable one, in declaration order).
fn lifecycle_selection(
    lifecycle: Lifecycle,
    states: &[(String, HandlerState)],
    now: Timestamp,
) -> Vec<usize> {
    match lifecycle {
        Lifecycle::Asap => progress::select_next(states, now).into_iter().collect(),
        Lifecycle::AllAtOnce => (0..states.len())
            .filter(|index| !states[*index].1.is_finished() && !states[*index].1.is_sleeping(now))
            .collect(),
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
fn purge_progress(ctx: &ResourceContext, body: &Body, patch: &Patch) {
    let mut annotations = patch
        .snapshot()
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for handler in &ctx.handlers {
        let key = progress::annotation_key(PREFIX, &handler.id);
        if body.annotation(&key).is_some() {
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
