//! kopf's admission engine: one admission review in, its answer out.
//!
//! The review names a resource, which must be one the admission handlers select; the
//! handlers of that resource run once each, in declaration order — only the one whose id
//! the webhook URL ends with, when it does (as kopf's managed configurations route them).
//! Every failure refuses the request: the answer carries the most specific error (an
//! `AdmissionError` first, then permanent, temporary and other errors) with its message
//! and code; the handlers' warnings; and what the mutating handlers changed on the
//! `Patch`, as a JSON Patch. What validating handlers change on theirs is ignored: kopf
//! would send it, and the API server refuses a validating webhook's answer with a patch.

use crate::actions::execution;
use crate::intents::causes::ObjectCause;
use crate::intents::families::{Admission, WebhookType};
use crate::intents::filters::Change;
use crate::intents::handlers::{Handler, deduplicated};
use crate::intents::webhooks::AdmissionCause;
use crate::invocation::outcome::Outcome;
use crate::logging::ObjectLogger;
use crate::storage::progress::HandlerState;
use crate::structs::body::Body;
use crate::structs::diff::diff;
use crate::structs::memo::Memo;
use crate::structs::patch::Patch;
use crate::structs::repr::{python_repr, str_repr};
use crate::structs::resource::Resource;
use crate::structs::reviews::{
    HeaderMap, MissingDataError, Operation, ReviewRequest, ReviewResponse, ReviewStatus, Warnings,
    json_patch_of,
};
use crate::structs::shared::OperatorShared;
use jiff::Timestamp;
use serde_json::{Value, json};
use std::sync::Arc;

/// A webhook request that is bad itself, not the API operation under review: answered
/// with an HTTP error rather than a denial (kopf's `WebhookError` and its kinds).
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// 400: a field kopf needs is absent.
    #[error(transparent)]
    MissingData(#[from] MissingDataError),
    /// 404: no admission handler selects this resource.
    #[error("The specified resource has no handlers: {0}")]
    UnknownResource(String),
    /// 409: several served resources fit the request.
    #[error("The specified resource is ambiguous: {0}")]
    AmbiguousResource(String),
    /// 400: the body is not JSON.
    #[error("{0}")]
    BadRequest(String),
}

/// What serving a review needs from the operator.
pub struct AdmissionContext {
    pub client: kube::Client,
    /// The admission handlers, in declaration order.
    pub handlers: Vec<Arc<Handler<Admission>>>,
    /// The resources the admission handlers' selectors resolved to.
    pub resources: Vec<Resource>,
    pub shared: OperatorShared,
}

/// What the webhook server passes along with a review.
#[derive(Clone, Debug, Default)]
pub struct WebhookCall {
    /// The handler id the URL path ends with (kopf's `webhook`); `None` runs them all.
    pub webhook: Option<String>,
    pub headers: HeaderMap,
}

/// Serves one admission review: kopf's `serve_admission_request`. Returns the
/// `AdmissionReview` to answer with.
pub async fn serve_admission_request(
    context: &AdmissionContext,
    request: &ReviewRequest,
    call: WebhookCall,
) -> Result<Value, WebhookError> {
    let resource = Arc::new(find_resource(request, &context.resources)?);
    let subresource = request.subresource();
    let operation = request.operation();
    let user_info = request.user_info()?;
    let new = request.object().cloned().map(Body::new);
    let old = request.old_object().cloned().map(Body::new);
    let body = match (&new, &old) {
        (Some(body), _) | (None, Some(body)) => body.clone(),
        (None, None) => {
            return Err(MissingDataError(
                "Either old or new object is missing from the admission request.".into(),
            )
            .into());
        }
    };
    let changes = diff(old.as_ref().map(Body::raw), new.as_ref().map(Body::raw));
    let change = Change {
        old: old.as_ref().map(Body::raw),
        new: new.as_ref().map(Body::raw),
        diff: &changes,
    };
    let handlers = select(
        context,
        &resource,
        (&body, change),
        operation,
        subresource.as_deref(),
        call.webhook.as_deref(),
    );
    let patch = Patch::new();
    let warnings = Warnings::new();
    let logger = ObjectLogger::for_object(&resource, &body);
    // One memo per review: admission reviews are not tied to the reactor's objects.
    let memo = Memo::new();
    let mut failures: Vec<Outcome> = Vec::new();
    for handler in handlers {
        let label = format!("Webhook {}", str_repr(&handler.id));
        let cause = AdmissionCause {
            object: ObjectCause {
                body: body.clone(),
                resource: resource.clone(),
                patch: match handler.options.reason {
                    WebhookType::Mutating => patch.clone(),
                    WebhookType::Validating => Patch::new(),
                },
                logger: logger.clone(),
                memo: memo.clone(),
                param: handler.param.clone(),
                handler_id: handler.id.as_str().into(),
                client: context.client.clone(),
                shared: context.shared.clone(),
            },
            operation,
            dry_run: request.dry_run(),
            warnings: warnings.clone(),
            user_info: user_info.clone(),
            headers: call.headers.clone(),
            subresource: subresource.clone(),
            old: old.clone(),
            new: new.clone(),
            diff: changes.clone(),
        };
        logger.debug(format!("{label} is invoked."));
        let outcome = handler.invoke(cause).await;
        let now = Timestamp::now();
        let state = HandlerState::new("admission", now);
        let recorded =
            execution::record_outcome(&label, &state, &outcome, &handler.policy, 0.0, now);
        logger.log(recorded.level, &recorded.message);
        if !matches!(outcome, Outcome::Success(_)) {
            failures.push(outcome);
        }
    }
    let response = ReviewResponse {
        allowed: failures.is_empty(),
        warnings: warnings.snapshot(),
        status: answer_status(failures),
        patch: json_patch_of(body.raw(), &patch.snapshot()),
    };
    Ok(response.to_review(request))
}

/// The served resource the review is about, by its exact group, version and plural.
fn find_resource(
    request: &ReviewRequest,
    resources: &[Resource],
) -> Result<Resource, WebhookError> {
    let (group, version, plural) = request.resource()?;
    let found: Vec<&Resource> = resources
        .iter()
        .filter(|r| r.group == group && r.version == version && r.plural == plural)
        .collect();
    let described =
        || python_repr(&json!({"group": group, "version": version, "resource": plural}));
    match found.as_slice() {
        [] => Err(WebhookError::UnknownResource(described())),
        [one] => Ok((*one).clone()),
        _ => Err(WebhookError::AmbiguousResource(described())),
    }
}

/// The handlers to run, as kopf selects them: the hinted one only (when hinted); mutating
/// handlers skip deletions unless they are only for deletions; then the resource, the
/// subresource, and the usual filters (`when` callbacks can take the whole objects' `Old`,
/// `New` and `Diff`).
fn select(
    context: &AdmissionContext,
    resource: &Resource,
    (body, change): (&Body, Change<'_>),
    operation: Option<Operation>,
    subresource: Option<&str>,
    webhook: Option<&str>,
) -> Vec<Arc<Handler<Admission>>> {
    let matching = context
        .handlers
        .iter()
        .filter(|h| webhook.is_none_or(|id| id == h.id))
        .filter(|h| {
            let options = &h.options;
            options.reason != WebhookType::Mutating
                || operation != Some(Operation::Delete)
                || (!options.operations.is_empty()
                    && options.operations.iter().all(|op| *op == Operation::Delete))
        })
        .filter(|h| h.selector.matches(resource))
        .filter(|h| match &h.options.subresource {
            Some(wanted) => wanted == "*" || Some(wanted.as_ref()) == subresource,
            None => subresource.is_none(),
        })
        .filter(|h| {
            h.filters
                .prematch_in(h.field.as_deref(), body, Some(change))
        })
        .cloned()
        .collect();
    deduplicated(matching)
}

/// The status of a refused request: the most specific failure's message and code.
fn answer_status(mut failures: Vec<Outcome>) -> Option<ReviewStatus> {
    // A stable sort: among equals, the first handler's failure wins.
    failures.sort_by_key(|outcome| match outcome {
        Outcome::Admission { .. } => 0,
        Outcome::Permanent { .. } => 1,
        Outcome::Temporary { .. } => 2,
        _ => 9,
    });
    let first = failures.into_iter().next()?;
    let (class, message, code) = match first {
        Outcome::Admission { message, code } => ("AdmissionError", message, code),
        Outcome::Permanent { message } => ("PermanentError", message, 500),
        Outcome::Temporary { message, .. } => ("TemporaryError", message, 500),
        Outcome::Exception { message } => ("Exception", message, 500),
        Outcome::Unfinished { .. } | Outcome::Success(_) => ("Exception", String::new(), 500),
    };
    // kopf's `str(error) or repr(error)`: an error without a message is named.
    let message = if message.is_empty() {
        format!("{class}({})", str_repr(""))
    } else {
        message
    };
    Some(ReviewStatus {
        message,
        code: if code == 0 { 500 } else { code },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admission_errors_win_over_others_and_keep_their_code() {
        let status = answer_status(vec![
            Outcome::Exception {
                message: "boom".into(),
            },
            Outcome::Permanent {
                message: "never".into(),
            },
            Outcome::Admission {
                message: "refused".into(),
                code: 403,
            },
        ]);
        assert_eq!(
            status,
            Some(ReviewStatus {
                message: "refused".into(),
                code: 403
            })
        );
        let status = answer_status(vec![
            Outcome::Exception {
                message: "boom".into(),
            },
            Outcome::Temporary {
                message: "later".into(),
                delay: None,
            },
        ]);
        assert_eq!(
            status,
            Some(ReviewStatus {
                message: "later".into(),
                code: 500
            })
        );
        let status = answer_status(vec![Outcome::Admission {
            message: String::new(),
            code: 400,
        }]);
        assert_eq!(status.unwrap().message, "AdmissionError('')");
        assert_eq!(answer_status(vec![]), None);
    }
}
