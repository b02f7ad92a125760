//! One raw event, processed fully: the watching handlers see it, then kopf's changing
//! state machine decides what it means — the finalizer step, then a changing cause.

use crate::actions::application;
use crate::actions::changing::{self, Cause, Changes, CycleOutcome, Permit};
use crate::clients::watching::EventKind;
use crate::engines::indexing::{self, Indexed};
use crate::engines::spawning::Seen;
use crate::engines::watching::{self, RawObject};
use crate::intents::causes::{self, Reason};
use crate::logging::ObjectLogger;
use crate::reactor::context::{ObjectMemory, ResourceContext};
use crate::storage::diffbase;
use crate::structs::body::Body;
use crate::structs::diff;
use crate::structs::finalizers::{self, FinalizerChange};
use crate::structs::patch::Patch;
use crate::structs::repr::python_repr;
use std::sync::OnceLock;

/// The event a worker hands over: its kind and the object, parsed once.
pub struct Event<'a> {
    pub kind: EventKind,
    pub body: &'a Body,
    pub logger: &'a ObjectLogger,
    /// The stored diff-base, the essence and their diff: computed on first use, since
    /// objects that no handler matches never need them.
    pub changes: &'a OnceLock<Changes>,
}

impl Event<'_> {
    /// The diff-base, the essence and their diff, computed once per event.
    pub fn changes(&self, ctx: &ResourceContext) -> &Changes {
        self.changes.get_or_init(|| changes(ctx, self.body))
    }
}

/// The essence of a body (with the changing handlers' fields), the stored diff-base, and
/// their diff: computed once per event.
fn changes(ctx: &ResourceContext, body: &Body) -> Changes {
    let fields: Vec<Vec<String>> = ctx
        .changing
        .iter()
        .filter_map(|h| h.field.clone())
        .collect();
    let (old, new) = diffbase::essences(&ctx.settings.persistence, body.raw(), &fields);
    let diff = diff::diff(old.as_ref(), Some(&new));
    Changes { old, new, diff }
}

/// The indexing, watching and spawning handlers' part: every event, including those the
/// changing part skips. Indices are updated first; every other handler waits until all
/// indexed resources have been listed and indexed once, as in kopf. `awaited` events are
/// those the indices' readiness counts.
pub async fn observe(
    ctx: &ResourceContext,
    memory: &ObjectMemory,
    event: &Event<'_>,
    awaited: bool,
) {
    let gone = event.kind == EventKind::Deleted;
    if !ctx.indexing.is_empty() {
        let object = Indexed {
            body: event.body,
            logger: event.logger,
            memo: &memory.memo,
            gone,
        };
        indexing::process(
            &ctx.client,
            &ctx.resource,
            &ctx.indexing,
            &ctx.shared,
            object,
        )
        .await;
    }
    if awaited {
        ctx.shared.indices.indexed_object();
    }
    ctx.shared.indices.ready().await;
    if !ctx.spawning.is_empty() {
        let seen = Seen {
            body: event.body,
            logger: event.logger,
            memo: &memory.memo,
            gone,
            // Only essential changes make an object busy again, as in kopf.
            reset: !event.changes(ctx).diff.is_empty(),
        };
        ctx.spawned
            .observe(&ctx.spawn_context(), &ctx.spawning, seen);
    }
    if ctx.watching.is_empty() {
        return;
    }
    let raw = RawObject {
        kind: event.kind,
        body: event.body,
        logger: event.logger,
        memo: &memory.memo,
        shared: &ctx.shared,
        storage: &ctx.settings.persistence.progress_storage,
    };
    watching::process(&ctx.client, &ctx.resource, &ctx.watching, raw).await;
}

/// The changing handlers' part: kopf's state machine for one event.
pub async fn process_changes(
    ctx: &ResourceContext,
    memory: &mut ObjectMemory,
    event: &Event<'_>,
    permit: &mut Permit,
) -> CycleOutcome {
    let Event {
        kind, body, logger, ..
    } = *event;
    if kind == EventKind::Listed {
        memory.noticed_by_listing = true;
    }
    let gone = kind == EventKind::Deleted;

    // Blind to objects that no handler could ever be interested in: no finalizer, no state, no logs.
    let prematching: Vec<_> = ctx.changing.iter().filter(|h| h.prematches(body)).collect();
    let spawning = ctx.spawning.iter().any(|h| h.prematches(body));
    if prematching.is_empty() && !spawning {
        return CycleOutcome {
            gone,
            ..CycleOutcome::default()
        };
    }
    if ctx.changing.is_empty() {
        // No changing cause at all, as in kopf: only the finalizer for the daemons.
        return spawning_only(ctx, body, logger, gone).await;
    }

    let changes = event.changes(ctx);
    let initial = memory.noticed_by_listing && !memory.fully_handled_once;
    let finalizer = ctx.settings.persistence.finalizer.as_str();
    let reason = causes::classify(
        gone,
        body,
        finalizer,
        changes.old.as_ref(),
        &changes.diff,
        initial,
    );

    if reason == Reason::Gone {
        logger.debug("Deleted, really deleted, and we are notified.");
        return CycleOutcome::gone();
    }
    if reason == Reason::Create && !memory.first_appearance_logged {
        memory.first_appearance_logged = true;
        logger.debug(format!("First appearance: {}", python_repr(body.raw())));
    }

    // The finalizer step: adding or removing it consumes the cycle.
    let deleting = body.deletion_timestamp().is_some();
    let has_finalizer = finalizers::has(body, finalizer);
    // Daemons and timers hold the finalizer until they have exited, as in kopf.
    let requires_finalizer = ctx.spawned.requires_finalizer(body, &ctx.spawning)
        || prematching.iter().any(|h| h.requires_finalizer());
    if !deleting && requires_finalizer && !has_finalizer {
        logger.debug("Adding the finalizer, thus preventing the actual deletion.");
        return finalizer_cycle(ctx, body, logger, finalizers::add(body, finalizer)).await;
    }
    if !requires_finalizer && has_finalizer {
        logger.debug("Removing the finalizer, as there are no handlers requiring it.");
        return finalizer_cycle(ctx, body, logger, finalizers::remove(body, finalizer)).await;
    }

    let quiet = match reason {
        Reason::Free => Some("Deletion, but we are done with it, and we do not care."),
        Reason::Noop => {
            Some("Something has changed, but we are not interested (the essence is the same).")
        }
        _ => None,
    };
    if let Some(line) = quiet {
        logger.debug(line);
        logger.debug("Handling cycle is finished, waiting for new changes.");
        return CycleOutcome::default();
    }

    let cause = Cause {
        body,
        logger,
        reason,
        initial,
        changes,
        memo: &memory.memo,
        daemons_exited: body.uid().is_none_or(|uid| ctx.spawned.all_exited(uid)),
    };
    let outcome = changing::run(&ctx.serving(), cause, permit).await;
    if outcome.finished {
        memory.fully_handled_once = true;
    }
    outcome
}

/// A resource with daemons or timers but no changing handlers: the finalizer is added
/// while they run and released once they have exited after the deletion.
async fn spawning_only(
    ctx: &ResourceContext,
    body: &Body,
    logger: &ObjectLogger,
    gone: bool,
) -> CycleOutcome {
    if gone {
        return CycleOutcome::gone();
    }
    let finalizer = ctx.settings.persistence.finalizer.as_str();
    let deleting = body.deletion_timestamp().is_some();
    let has_finalizer = finalizers::has(body, finalizer);
    let requires_finalizer = ctx.spawned.requires_finalizer(body, &ctx.spawning);
    if !deleting && requires_finalizer && !has_finalizer {
        logger.debug("Adding the finalizer, thus preventing the actual deletion.");
        return finalizer_cycle(ctx, body, logger, finalizers::add(body, finalizer)).await;
    }
    if !deleting && !requires_finalizer && has_finalizer {
        logger.debug("Removing the finalizer, as there are no handlers requiring it.");
        return finalizer_cycle(ctx, body, logger, finalizers::remove(body, finalizer)).await;
    }
    if deleting && has_finalizer {
        if !body.uid().is_none_or(|uid| ctx.spawned.all_exited(uid)) {
            return CycleOutcome {
                wait_daemons: true,
                ..CycleOutcome::default()
            };
        }
        logger.debug("Removing the finalizer, thus allowing the actual deletion.");
        return finalizer_cycle(ctx, body, logger, finalizers::remove(body, finalizer)).await;
    }
    CycleOutcome::default()
}

async fn finalizer_cycle(
    ctx: &ResourceContext,
    body: &Body,
    logger: &ObjectLogger,
    change: FinalizerChange,
) -> CycleOutcome {
    let target = ctx.serving().target();
    let patched = application::apply(target, body, logger, &Patch::new(), Some(&change)).await;
    CycleOutcome {
        gone: matches!(patched, crate::clients::patching::Patched::Gone),
        patched_version: patched.version(),
        ..CycleOutcome::default()
    }
}
