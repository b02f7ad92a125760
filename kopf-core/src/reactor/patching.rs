//! Sending a cycle's patches: the resource, its status, JSON patches — in kopf's order
//! and with kopf's log lines.

use crate::Body;
use crate::logging::ObjectLogger;
use crate::reactor::processing::ResourceContext;
use crate::repr::python_repr;
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

/// Sends `merge` (split into resource and status parts as discovery says) and `json_ops`.
pub async fn apply(
    ctx: &ResourceContext,
    body: &Body,
    logger: &ObjectLogger,
    mut merge: Value,
    json_ops: Option<Value>,
) -> Patched {
    let Some(name) = body.name() else {
        return Patched::Nothing;
    };
    let namespace = if ctx.resource.namespaced {
        body.namespace()
    } else {
        None
    };
    let request = Request::new(ctx.resource.url(namespace));
    let params = PatchParams::default();
    let mut outcome = Patched::Nothing;

    let status = if ctx.resource.has_status_subresource {
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
        match send(ctx, http, logger).await {
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
        match send(ctx, http, logger).await {
            Sent::Ok(version) => outcome = Patched::Version(version),
            Sent::Gone => return Patched::Gone,
            Sent::Failed => return Patched::Skipped,
        }
    }
    if let Some(mut ops) = json_ops {
        // The resourceVersion guard must name the freshest version: our own merge-patch
        // above has just changed it.
        if let (Some(version), Some(guard)) = (outcome.version(), ops.pointer_mut("/0"))
            && guard.get("op").and_then(Value::as_str) == Some("test")
            && guard.get("path").and_then(Value::as_str) == Some("/metadata/resourceVersion")
        {
            guard["value"] = Value::String(version);
        }
        logger.debug(format!(
            "JSON-patching the resource with: {}",
            python_repr(&ops)
        ));
        let parsed: json_patch::Patch = match serde_json::from_value(ops.clone()) {
            Ok(parsed) => parsed,
            Err(err) => {
                logger.error(format!(
                    "Cannot build the JSON patch {}: {err}",
                    python_repr(&ops)
                ));
                return Patched::Skipped;
            }
        };
        let http = request.patch(name, &params, &Patch::Json::<()>(parsed));
        match send(ctx, http, logger).await {
            Sent::Ok(version) => outcome = Patched::Version(version),
            Sent::Gone => return Patched::Gone,
            Sent::Failed => {
                logger.debug(format!(
                    "Could not apply the patch in full due to conflicts with newer changes. Will try on the next cycle soon. Remaining: {}",
                    python_repr(&ops)
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

async fn send(
    ctx: &ResourceContext,
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
    match ctx.client.request::<Value>(http).await {
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
