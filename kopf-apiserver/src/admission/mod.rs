//! Dynamic admission control, as kube-apiserver does it: the stored webhook
//! configurations are read (`config`), each write is matched against their webhooks
//! (`matching`), sent as an `AdmissionReview` (`review`) over HTTPS (`calling`); mutating
//! webhooks run first, in order, their JSON Patches applied (and re-run once when
//! `reinvocationPolicy: IfNeeded` and a later webhook changed the object); validating
//! webhooks then run in parallel. Runs without the store's lock: a slow webhook holds up
//! only the request that called it.

pub mod attributes;
pub mod calling;
pub mod config;
pub mod matching;
pub mod review;
pub mod trust;

use crate::glue;
use crate::status::ApiError;
use attributes::Attributes;
use config::{FailurePolicy, Phase, Webhook};
use review::Answer;
use serde_json::Value;
use std::sync::Arc;

/// The webhooks of the stored configurations.
#[derive(Clone, Debug, Default)]
pub struct Webhooks {
    pub mutating: Vec<Webhook>,
    pub validating: Vec<Webhook>,
}

impl Webhooks {
    pub fn read(mutating: &[Arc<Value>], validating: &[Arc<Value>]) -> Self {
        Webhooks {
            mutating: config::webhooks(mutating, Phase::Mutating),
            validating: config::webhooks(validating, Phase::Validating),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.mutating.is_empty() && self.validating.is_empty()
    }
}

/// Known `Status` reasons a webhook may give (others are dropped: the reason is a code).
const REASONS: &[&str] = &[
    "BadRequest",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "AlreadyExists",
    "Conflict",
    "Gone",
    "Invalid",
    "ServerTimeout",
    "Timeout",
    "TooManyRequests",
    "MethodNotAllowed",
    "NotAcceptable",
    "RequestEntityTooLarge",
    "UnsupportedMediaType",
    "InternalError",
    "Expired",
    "ServiceUnavailable",
];

/// A denial: the webhook's code (at least 400) and message, prefixed by its name.
fn denial(webhook: &Webhook, answer: &Answer) -> ApiError {
    let code = answer.code.filter(|c| *c >= 400).unwrap_or(400);
    let reason = REASONS
        .iter()
        .find(|r| **r == answer.reason)
        .copied()
        .unwrap_or("");
    let denied = format!("admission webhook {:?} denied the request", webhook.name);
    let message = if !answer.message.is_empty() {
        format!("{denied}: {}", answer.message)
    } else if !answer.reason.is_empty() {
        format!("{denied}: {}", answer.reason)
    } else {
        format!("{denied} without explanation")
    };
    ApiError::new(code, reason, message)
}

/// A failed call: ignored (`None`) or the request's end, as `failurePolicy` says.
fn failure(webhook: &Webhook, reason: String) -> Result<Option<Answer>, ApiError> {
    let message = format!("failed calling webhook {:?}: {reason}", webhook.name);
    match webhook.failure_policy {
        FailurePolicy::Ignore => {
            let configuration = &webhook.configuration;
            tracing::warn!("{message} (in {configuration}; ignored: failurePolicy is Ignore)");
            Ok(None)
        }
        FailurePolicy::Fail => Err(ApiError::internal(format!(
            "Internal error occurred: {message}"
        ))),
    }
}

/// Calls one webhook if the request is for it; `None` when it is not, or its failure is
/// ignored. A dry run never reaches a webhook that may have side effects.
async fn call(webhook: &Webhook, attrs: &Attributes) -> Result<Option<(Answer, String)>, ApiError> {
    let Some(version) = matching::matches(webhook, attrs) else {
        return Ok(None);
    };
    if attrs.dry_run && !webhook.dry_run_safe {
        return Err(ApiError::bad_request(format!(
            "admission webhook {:?} does not support dry run",
            webhook.name
        )));
    }
    let uid = uuid::Uuid::new_v4().to_string();
    let body = serde_json::to_vec(&review::request(attrs, &version, &uid))
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let answer = match calling::post(&webhook.client, body, webhook.timeout).await {
        Ok(bytes) => review::parse(&bytes, &uid)
            .map_err(|e| format!("received invalid webhook response: {e}")),
        Err(err) => Err(format!("failed to call webhook: {err}")),
    };
    match answer {
        Ok(answer) => Ok(Some((answer, version))),
        Err(reason) => failure(webhook, reason).map(|a| a.map(|a| (a, version))),
    }
}

/// The admission of one write, as it goes.
struct Run {
    warnings: Vec<String>,
    /// How many times a mutating webhook changed the object.
    changes: usize,
}

impl Run {
    fn refuse(&self, err: ApiError) -> ApiError {
        err.with_warnings(self.warnings.clone())
    }

    /// One mutating call; `Some(changes so far)` when the webhook was called.
    async fn mutate(
        &mut self,
        webhook: &Webhook,
        attrs: &mut Attributes,
    ) -> Result<Option<usize>, ApiError> {
        let Some((answer, version)) = call(webhook, attrs).await.map_err(|e| self.refuse(e))?
        else {
            return Ok(None);
        };
        self.warnings.extend(answer.warnings.iter().cloned());
        if !answer.allowed {
            return Err(self.refuse(denial(webhook, &answer)));
        }
        if let (Some(ops), Some(object)) = (&answer.patch, attrs.object.as_mut()) {
            // The webhook patched the object at its version; the write keeps the request's.
            let api_version = object.get("apiVersion").cloned();
            match glue::json_patch(object, ops) {
                Ok(mut patched) if patched.is_object() => {
                    if let Some(api_version) = api_version {
                        patched["apiVersion"] = api_version;
                    }
                    if patched != *object {
                        *object = patched;
                        self.changes += 1;
                    }
                }
                Ok(_) => {
                    let reason = "the patch made the object a non-object".to_string();
                    failure(webhook, reason).map_err(|e| self.refuse(e))?;
                }
                Err(err) => {
                    let reason = format!("the patch did not apply: {err:?} (at {version})");
                    failure(webhook, reason).map_err(|e| self.refuse(e))?;
                }
            }
        }
        Ok(Some(self.changes))
    }
}

/// Runs the request through the webhooks: `attrs.object` ends as the mutating webhooks
/// left it. Returns the warnings; a denial or a failed call (with `failurePolicy: Fail`)
/// is the error to answer with, warnings attached.
pub async fn admit(webhooks: &Webhooks, attrs: &mut Attributes) -> Result<Vec<String>, ApiError> {
    let mut run = Run {
        warnings: Vec::new(),
        changes: 0,
    };
    let mut seen = vec![None; webhooks.mutating.len()];
    for (webhook, seen) in webhooks.mutating.iter().zip(seen.iter_mut()) {
        *seen = run.mutate(webhook, attrs).await?;
    }
    for (webhook, seen) in webhooks.mutating.iter().zip(&seen) {
        if webhook.reinvoke && seen.is_some_and(|changes| changes < run.changes) {
            run.mutate(webhook, attrs).await?;
        }
    }
    let attrs = &*attrs;
    let answers =
        futures::future::join_all(webhooks.validating.iter().map(|w| call(w, attrs))).await;
    let mut refusal = None;
    for (webhook, answer) in webhooks.validating.iter().zip(answers) {
        match answer {
            Err(err) => {
                refusal.get_or_insert(err);
            }
            Ok(Some((answer, _))) => {
                run.warnings.extend(answer.warnings.iter().cloned());
                if !answer.allowed {
                    refusal.get_or_insert_with(|| denial(webhook, &answer));
                }
            }
            Ok(None) => {}
        }
    }
    match refusal {
        Some(err) => Err(run.refuse(err)),
        None => Ok(run.warnings),
    }
}
