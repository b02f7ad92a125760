//! kopf's watching handlers (`on.event`): every raw event of the resource, the initial
//! listing included, handed to the handlers as it comes. No progress, no finalizer, no
//! retries: a failure is logged and ignored, as kopf does by default.

use crate::actions::application;
use crate::actions::execution;
use crate::clients::patching::Target;
use crate::clients::watching::EventKind;
use crate::intents::causes::{ObjectCause, WatchingCause};
use crate::intents::families::Watching;
use crate::intents::handlers::{Handler, deduplicated};
use crate::logging::ObjectLogger;
use crate::settings::ProgressStorage;
use crate::storage::progress::HandlerState;
use crate::structs::body::Body;
use crate::structs::memo::Memo;
use crate::structs::patch::Patch;
use crate::structs::resource::Resource;
use crate::structs::shared::OperatorShared;
use jiff::Timestamp;
use std::sync::Arc;

/// One raw event as the watching handlers get it.
pub struct RawObject<'a> {
    pub kind: EventKind,
    pub body: &'a Body,
    pub logger: &'a ObjectLogger,
    pub memo: &'a Memo,
    pub shared: &'a OperatorShared,
    /// Where the touch-dummy lives, which a patch removes.
    pub storage: &'a ProgressStorage,
}

/// Calls every matching watching handler once with this event, then applies what they
/// patched.
pub async fn process(
    client: &kube::Client,
    resource: &Arc<Resource>,
    handlers: &[Arc<Handler<Watching>>],
    event: RawObject<'_>,
) {
    let patch = Patch::new();
    let matching = handlers
        .iter()
        .filter(|h| h.prematches(event.body))
        .cloned()
        .collect();
    for handler in deduplicated(matching) {
        let label = format!("Handler '{}'", handler.id);
        let cause = WatchingCause {
            object: ObjectCause {
                body: event.body.clone(),
                resource: resource.clone(),
                patch: patch.clone(),
                logger: event.logger.clone(),
                memo: event.memo.clone(),
                param: handler.param.clone(),
                handler_id: handler.id.as_str().into(),
                client: client.clone(),
                shared: event.shared.clone(),
            },
            event_kind: event.kind,
        };
        event.logger.debug(format!("{label} is invoked."));
        let outcome = handler.invoke(cause).await;
        let now = Timestamp::now();
        let recorded = execution::record_outcome(
            &label,
            &HandlerState::new("event", now),
            &outcome,
            &handler.policy,
            0.0,
            now,
        );
        event.logger.log(recorded.level, &recorded.message);
    }
    if !patch.is_empty() && event.kind != EventKind::Deleted {
        let target = Target {
            client,
            resource,
            storage: event.storage,
        };
        application::apply(target, event.body, event.logger, &patch, None).await;
    }
}
