//! kopf's indexing handlers (`index`): every event of an indexed resource updates what
//! its object contributes to each index; an object that is gone or no longer matches
//! takes its entries back. Failures are logged and keep the earlier entries.

use crate::actions::execution;
use crate::intents::causes::{IndexingCause, ObjectCause};
use crate::intents::families::Indexing;
use crate::intents::handlers::Handler;
use crate::invocation::outcome::Outcome;
use crate::logging::ObjectLogger;
use crate::storage::progress::HandlerState;
use crate::structs::body::Body;
use crate::structs::memo::Memo;
use crate::structs::patch::Patch;
use crate::structs::resource::Resource;
use crate::structs::shared::OperatorShared;
use jiff::Timestamp;
use std::sync::Arc;

/// One state of an object as the indexers see it.
pub struct Indexed<'a> {
    pub body: &'a Body,
    pub logger: &'a ObjectLogger,
    pub memo: &'a Memo,
    /// The object is gone (a `DELETED` event).
    pub gone: bool,
}

/// Updates every index of this resource with one state of one object.
pub async fn process(
    client: &kube::Client,
    resource: &Arc<Resource>,
    handlers: &[Arc<Handler<Indexing>>],
    shared: &OperatorShared,
    object: Indexed<'_>,
) {
    let Some(uid) = object.body.uid() else { return };
    for handler in handlers {
        let index = shared.indices.index(&handler.id);
        if object.gone || !handler.prematches(object.body) {
            index.replace(uid, None);
            continue;
        }
        let cause = IndexingCause {
            object: ObjectCause {
                body: object.body.clone(),
                resource: resource.clone(),
                patch: Patch::new(),
                logger: object.logger.clone(),
                memo: object.memo.clone(),
                param: handler.param.clone(),
                handler_id: handler.id.as_str().into(),
                client: client.clone(),
                shared: shared.clone(),
            },
        };
        let outcome = handler.invoke(cause).await;
        if let Outcome::Success(returned) = &outcome {
            index.replace(uid, returned.clone());
        }
        let label = format!("Indexer '{}'", handler.id);
        let now = Timestamp::now();
        let state = HandlerState::new("index", now);
        let recorded =
            execution::record_outcome(&label, &state, &outcome, &handler.policy, 0.0, now);
        object.logger.log(recorded.level, &recorded.message);
    }
}
