//! Sending a cycle's patches: the resource, its status, then the finalizer's JSON patch —
//! in kopf's order and with kopf's log lines.

use crate::clients::client::ERROR_BACKOFFS;
use crate::logging::ObjectLogger;
use crate::settings::ProgressStorage;
use crate::structs::body::Body;
use crate::structs::finalizers::FinalizerChange;
use crate::structs::repr::python_repr;
use crate::structs::resource::Resource;
use kube::Client;
use kube::api::{Patch, PatchParams};
use kube::core::Request;
use serde_json::Value;

/// What patching came to.
#[derive(Debug)]
pub enum Patched {
    /// Nothing was sent.
    Nothing,
    /// The server accepted; the last response's resourceVersion.
    Version(String),
    /// A patch was rejected as conflicting (422) or failed; the next event retries.
    Skipped,
    /// The object does not exist anymore.
    Gone,
}

impl Patched {
    pub fn version(&self) -> Option<String> {
        match self {
            Patched::Version(version) => Some(version.clone()),
            _ => None,
        }
    }
}

/// Where patches go: the client and the object's resource; and where the progress storage
/// keeps the touch-dummy, which patches remove and touches set.
#[derive(Clone, Copy)]
pub struct Target<'a> {
    pub client: &'a Client,
    pub resource: &'a Resource,
    pub storage: &'a ProgressStorage,
}

/// Sends `merge` (split into resource and status parts as discovery says), then the
/// finalizer change, its version guard re-based on our own merge-patch's version.
pub async fn apply(
    target: Target<'_>,
    body: &Body,
    logger: &ObjectLogger,
    mut merge: Value,
    finalizer: Option<&FinalizerChange>,
) -> Patched {
    let Target {
        client, resource, ..
    } = target;
    let Some(name) = body.name() else {
        return Patched::Nothing;
    };
    let namespace = if resource.namespaced {
        body.namespace()
    } else {
        None
    };
    let request = Request::new(resource.url(namespace));
    let params = PatchParams::default();
    let mut outcome = Patched::Nothing;

    let status = if resource.has_status_subresource {
        merge.as_object_mut().and_then(|m| m.remove("status"))
    } else {
        None
    };
    if merge.as_object().is_some_and(|m| !m.is_empty()) {
        logger.debug(format!(
            "Merge-patching the resource with: {}",
            python_repr(&merge)
        ));
        let http = request.patch(name, &params, &Patch::Merge(&merge));
        match send(client, http, logger).await {
            Sent::Ok(version) => outcome = Patched::Version(version),
            Sent::Gone => return Patched::Gone,
            Sent::Failed => return Patched::Skipped,
        }
    }
    if let Some(status) = status.filter(|s| s.as_object().is_none_or(|m| !m.is_empty())) {
        let wrapped = serde_json::json!({ "status": status });
        logger.debug(format!(
            "Merge-patching the status with: {}",
            python_repr(&wrapped)
        ));
        let http = request.patch_subresource("status", name, &params, &Patch::Merge(&wrapped));
        match send(client, http, logger).await {
            Sent::Ok(version) => outcome = Patched::Version(version),
            Sent::Gone => return Patched::Gone,
            Sent::Failed => return Patched::Skipped,
        }
    }
    if let Some(change) = finalizer {
        let ops = change.guarded(outcome.version().as_deref());
        let shown = python_repr(&serde_json::to_value(&ops).unwrap_or(Value::Null));
        logger.debug(format!("JSON-patching the resource with: {shown}"));
        let parsed: json_patch::Patch =
            match serde_json::to_value(&ops).and_then(serde_json::from_value) {
                Ok(parsed) => parsed,
                Err(err) => {
                    logger.error(format!("Cannot build the JSON patch {shown}: {err}"));
                    return Patched::Skipped;
                }
            };
        let http = request.patch(name, &params, &Patch::Json::<()>(parsed));
        match send(client, http, logger).await {
            Sent::Ok(version) => outcome = Patched::Version(version),
            Sent::Gone => return Patched::Gone,
            Sent::Failed => {
                logger.debug(format!(
                    "Could not apply the patch in full due to conflicts with newer changes. Will try on the next cycle soon. Remaining: {shown}"
                ));
                return Patched::Skipped;
            }
        }
    }
    outcome
}

enum Sent {
    Ok(String),
    Gone,
    Failed,
}

/// Errors that another attempt may not meet: the server's trouble, throttling, the
/// connection (kopf also retries 403, which clusters answer during upgrades).
fn is_transient(err: &kube::Error) -> bool {
    match err {
        kube::Error::Api(status) => status.code >= 500 || matches!(status.code, 403 | 429),
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

/// A copy of a request, for its next attempt.
fn again(http: &http::Request<Vec<u8>>) -> http::Request<Vec<u8>> {
    let mut copy = http::Request::new(http.body().clone());
    *copy.method_mut() = http.method().clone();
    *copy.uri_mut() = http.uri().clone();
    *copy.headers_mut() = http.headers().clone();
    copy
}

/// Sends a request with kopf's attempts: transient failures are retried after each of the
/// backoffs, logged as kopf logs them, before the last one is given up.
async fn request_with_retries(
    client: &Client,
    http: http::Request<Vec<u8>>,
) -> Result<Value, kube::Error> {
    const TARGET: &str = "kopf._cogs.clients.api";
    let count = ERROR_BACKOFFS.len() + 1;
    let what = format!("{} {}", http.method(), http.uri());
    let mut backoffs = ERROR_BACKOFFS.iter();
    let mut attempt = 1;
    loop {
        if attempt > 1 {
            tracing::debug!(target: TARGET, "Request attempt #{attempt}/{count}: {what}");
        }
        match client.request::<Value>(again(&http)).await {
            Ok(value) => {
                if attempt > 1 {
                    tracing::debug!(target: TARGET, "Request attempt #{attempt}/{count} succeeded: {what}");
                }
                return Ok(value);
            }
            Err(err) if is_transient(&err) => match backoffs.next() {
                Some(backoff) => {
                    tracing::error!(target: TARGET, "Request attempt #{attempt}/{count} failed; will retry: {what} -> {err}");
                    tokio::time::sleep(std::time::Duration::from_secs(*backoff)).await;
                    attempt += 1;
                }
                None => {
                    tracing::error!(target: TARGET, "Request attempt #{attempt}/{count} failed; escalating: {what} -> {err}");
                    return Err(err);
                }
            },
            Err(err) => return Err(err),
        }
    }
}

async fn send(
    client: &Client,
    http: Result<http::Request<Vec<u8>>, kube::core::request::Error>,
    logger: &ObjectLogger,
) -> Sent {
    let http = match http {
        Ok(http) => http,
        Err(err) => {
            logger.error(format!("Cannot build the patch request: {err}"));
            return Sent::Failed;
        }
    };
    match request_with_retries(client, http).await {
        Ok(object) => Sent::Ok(
            object
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        ),
        Err(kube::Error::Api(status)) if status.code == 404 => {
            logger.debug("Patching was skipped: the object does not exist anymore.");
            Sent::Gone
        }
        Err(kube::Error::Api(status)) if status.code == 422 => Sent::Failed,
        Err(err) => {
            logger.error(format!("Patching failed: {err}"));
            Sent::Failed
        }
    }
}
