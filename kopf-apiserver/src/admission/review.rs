//! `AdmissionReview` v1: the request the server sends and the answer it accepts. Answers
//! are outside input: anything but a well-formed v1 review for this request is garbage.

use super::attributes::{Attributes, Gvn};
use base64::Engine;
use serde_json::{Value, json};

/// Why an answer is not usable (a call failure, subject to `failurePolicy`).
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("the answer is not JSON: {0}")]
    NotJson(#[from] serde_json::Error),
    #[error("expected response of type admission.k8s.io/v1 AdmissionReview, got {0}")]
    WrongType(String),
    #[error("the answer has no response")]
    NoResponse,
    #[error("expected response.uid={expected}, got {got}")]
    WrongUid { expected: String, got: String },
    #[error("the answer has no response.allowed")]
    NoAllowed,
    #[error("expected patchType JSONPatch, got {0}")]
    PatchType(String),
    #[error("the patch is not base64 of a JSON Patch: {0}")]
    BadPatch(String),
}

/// A webhook's usable answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Answer {
    pub allowed: bool,
    /// `status.code`, `status.message` and `status.reason`, when given.
    pub code: Option<u16>,
    pub message: String,
    pub reason: String,
    /// The JSON Patch operations of a mutating webhook.
    pub patch: Option<Value>,
    pub warnings: Vec<String>,
}

fn gvk(gvn: &Gvn) -> Value {
    json!({"group": gvn.group, "version": gvn.version, "kind": gvn.name})
}

fn gvr(gvn: &Gvn) -> Value {
    json!({"group": gvn.group, "version": gvn.version, "resource": gvn.name})
}

/// The object with its `apiVersion` at `version` (the only conversion served versions
/// need here), when the webhook sees the request at another version.
fn at_version(object: &Option<Value>, kind: &Gvn) -> Value {
    let Some(object) = object else {
        return Value::Null;
    };
    let mut object = object.clone();
    if object.is_object() {
        object["apiVersion"] = json!(if kind.group.is_empty() {
            kind.version.clone()
        } else {
            format!("{}/{}", kind.group, kind.version)
        });
    }
    object
}

/// The identity every request of the embedded server has (the admin token's).
fn user_info() -> Value {
    json!({"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]})
}

/// The review for one call: `version` is the one the webhook's rules took the request at.
pub fn request(attrs: &Attributes, version: &str, uid: &str) -> Value {
    let converted = |gvn: &Gvn| Gvn {
        version: if gvn.group == attrs.resource.group {
            version.to_string()
        } else {
            gvn.version.clone()
        },
        ..gvn.clone()
    };
    let (kind, resource) = (converted(&attrs.kind), converted(&attrs.resource));
    let mut options = attrs.options.clone();
    if options.is_object() {
        options["apiVersion"] = json!("meta.k8s.io/v1");
        options["kind"] = json!(attrs.operation.options_kind());
    }
    let mut request = json!({
        "uid": uid,
        "kind": gvk(&kind),
        "resource": gvr(&resource),
        "requestKind": gvk(&attrs.kind),
        "requestResource": gvr(&attrs.resource),
        "name": attrs.name,
        "operation": attrs.operation.as_str(),
        "userInfo": user_info(),
        "object": at_version(&attrs.object, &kind),
        "oldObject": at_version(&attrs.old_object, &kind),
        "dryRun": attrs.dry_run,
        "options": options,
    });
    if !attrs.sub_resource.is_empty() {
        request["subResource"] = json!(attrs.sub_resource);
        request["requestSubResource"] = json!(attrs.sub_resource);
    }
    if !attrs.namespace.is_empty() {
        request["namespace"] = json!(attrs.namespace);
    }
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request})
}

/// Reads a webhook's answer to the review with `uid`.
pub fn parse(body: &[u8], uid: &str) -> Result<Answer, ReviewError> {
    let review: Value = serde_json::from_slice(body)?;
    let api_version = review.get("apiVersion").and_then(Value::as_str);
    let kind = review.get("kind").and_then(Value::as_str);
    if api_version != Some("admission.k8s.io/v1") || kind != Some("AdmissionReview") {
        return Err(ReviewError::WrongType(format!(
            "{} {}",
            api_version.unwrap_or(""),
            kind.unwrap_or("")
        )));
    }
    let response = review
        .get("response")
        .filter(|r| r.is_object())
        .ok_or(ReviewError::NoResponse)?;
    let got = response.get("uid").and_then(Value::as_str).unwrap_or("");
    if got != uid {
        return Err(ReviewError::WrongUid {
            expected: uid.to_string(),
            got: got.to_string(),
        });
    }
    let allowed = response
        .get("allowed")
        .and_then(Value::as_bool)
        .ok_or(ReviewError::NoAllowed)?;
    let text = |pointer: &str| {
        response
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let code = response
        .pointer("/status/code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok());
    let warnings = response
        .get("warnings")
        .and_then(Value::as_array)
        .map(|w| {
            w.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let patch = match response.get("patch").and_then(Value::as_str) {
        None | Some("") => None,
        Some(encoded) => {
            let patch_type = text("/patchType");
            if patch_type != "JSONPatch" {
                return Err(ReviewError::PatchType(patch_type));
            }
            let raw = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|e| ReviewError::BadPatch(e.to_string()))?;
            let ops: Value =
                serde_json::from_slice(&raw).map_err(|e| ReviewError::BadPatch(e.to_string()))?;
            if !ops.is_array() {
                return Err(ReviewError::BadPatch("not a list of operations".into()));
            }
            Some(ops)
        }
    };
    Ok(Answer {
        allowed,
        code,
        message: text("/status/message"),
        reason: text("/status/reason"),
        patch,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::attributes::Operation;

    #[test]
    fn answers_are_checked() {
        let ok = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "response": {"uid": "u", "allowed": false, "status": {"code": 403, "message": "no"},
                         "warnings": ["careful"]}});
        let answer = parse(ok.to_string().as_bytes(), "u").expect("usable");
        assert_eq!(
            (answer.allowed, answer.code, answer.message.as_str()),
            (false, Some(403), "no")
        );
        assert_eq!(answer.warnings, ["careful"]);
        assert!(matches!(
            parse(ok.to_string().as_bytes(), "v"),
            Err(ReviewError::WrongUid { .. })
        ));
        assert!(parse(b"<html>", "u").is_err());
        let v1beta1 = json!({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview",
            "response": {"uid": "u", "allowed": true}});
        assert!(parse(v1beta1.to_string().as_bytes(), "u").is_err());
        let patch = base64::engine::general_purpose::STANDARD
            .encode(br#"[{"op": "add", "path": "/spec", "value": {}}]"#);
        let mutated = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "response": {"uid": "u", "allowed": true, "patch": patch, "patchType": "JSONPatch"}});
        let answer = parse(mutated.to_string().as_bytes(), "u").expect("usable");
        assert_eq!(
            answer.patch,
            Some(json!([{"op": "add", "path": "/spec", "value": {}}]))
        );
        let untyped = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "response": {"uid": "u", "allowed": true, "patch": patch}});
        assert!(parse(untyped.to_string().as_bytes(), "u").is_err());
    }

    #[test]
    fn requests_carry_the_request() {
        let gvn = |name: &str| Gvn {
            group: "apps".into(),
            version: "v1".into(),
            name: name.into(),
        };
        let attrs = Attributes {
            resource: gvn("deployments"),
            sub_resource: String::new(),
            kind: gvn("Deployment"),
            namespaced: true,
            namespace: "ns".into(),
            name: "web".into(),
            operation: Operation::Delete,
            object: None,
            old_object: Some(json!({"apiVersion": "apps/v1", "kind": "Deployment"})),
            namespace_labels: None,
            other_versions: vec![],
            dry_run: true,
            options: json!({"propagationPolicy": "Background"}),
        };
        let review = request(&attrs, "v1", "u");
        let request = &review["request"];
        assert_eq!(request["operation"], "DELETE");
        assert_eq!(request["object"], Value::Null);
        assert_eq!(request["oldObject"]["kind"], "Deployment");
        assert_eq!(request["options"]["kind"], "DeleteOptions");
        assert_eq!(request["dryRun"], true);
        assert_eq!(request["resource"]["resource"], "deployments");
        assert_eq!(request["namespace"], "ns");
    }
}
