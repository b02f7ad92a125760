//! Admission reviews as the API server sends them and expects them back
//! (`admission.k8s.io/v1` `AdmissionReview`), and the operations and users they are about.
//!
//! Only the parts kopf reads are typed; the request stays JSON so that a field the API
//! server adds later is neither refused nor lost.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// The API operation under review: kopf's `Literal['CREATE', 'UPDATE', 'DELETE', 'CONNECT']`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
}

impl Operation {
    /// As Kubernetes spells it: `CREATE`, `UPDATE`, `DELETE`, `CONNECT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }

    /// The operation of this spelling, if it is one.
    pub fn parse(text: &str) -> Option<Operation> {
        match text {
            "CREATE" => Some(Operation::Create),
            "UPDATE" => Some(Operation::Update),
            "DELETE" => Some(Operation::Delete),
            "CONNECT" => Some(Operation::Connect),
            _ => None,
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who made the API request under review (`request.userInfo`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub uid: String,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Vec<String>>,
}

/// The warnings admission handlers give the user (kopf's `warnings` list): shared by all
/// handlers of one review, sent with the answer, and printed by kubectl.
#[derive(Clone, Debug, Default)]
pub struct Warnings(Arc<Mutex<Vec<String>>>);

impl Warnings {
    pub fn new() -> Self {
        Warnings::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        // A panicking handler must not lose the other handlers' warnings.
        self.0.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    /// Adds a warning (kopf's `warnings.append(…)`).
    pub fn push(&self, warning: impl Into<String>) {
        self.lock().push(warning.into());
    }

    /// The warnings so far.
    pub fn snapshot(&self) -> Vec<String> {
        self.lock().clone()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

/// The HTTP headers of the webhook request (from the API server, not the user), by
/// lowercase name.
pub type HeaderMap = BTreeMap<String, String>;

/// The parts of an `AdmissionReview` request that kopf reads, taken from its JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct ReviewRequest {
    /// The whole review as sent, for the fields the response echoes.
    pub raw: Value,
}

/// What is missing or malformed in a review (answered as a bad request, not a denial).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MissingDataError(pub String);

impl ReviewRequest {
    pub fn new(raw: Value) -> Self {
        ReviewRequest { raw }
    }

    fn payload(&self) -> &Value {
        &self.raw["request"]
    }

    fn text(&self, key: &str) -> Option<&str> {
        self.payload().get(key).and_then(Value::as_str)
    }

    /// `request.uid`, echoed in the response (empty when absent, as kopf does).
    pub fn uid(&self) -> &str {
        self.text("uid").unwrap_or("")
    }

    /// `request.resource` as (group, version, plural): mandatory, as in kopf.
    pub fn resource(&self) -> Result<(String, String, String), MissingDataError> {
        let resource = self.payload().get("resource").ok_or_else(|| {
            MissingDataError("The resource is missing from the admission request.".into())
        })?;
        let part = |key: &str| {
            resource.get(key).and_then(Value::as_str).ok_or_else(|| {
                MissingDataError(format!(
                    "The resource's {key} is missing from the admission request."
                ))
            })
        };
        Ok((
            part("group")?.to_string(),
            part("version")?.to_string(),
            part("resource")?.to_string(),
        ))
    }

    /// `request.operation`; `None` if absent or unknown.
    pub fn operation(&self) -> Option<Operation> {
        self.text("operation").and_then(Operation::parse)
    }

    /// `request.subResource`: `status`, `scale`, …; `None` for the main resource.
    pub fn subresource(&self) -> Option<String> {
        self.text("subResource").map(str::to_string)
    }

    /// `request.dryRun`: the request will not be persisted.
    pub fn dry_run(&self) -> bool {
        self.payload()
            .get("dryRun")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// `request.userInfo`: mandatory, as in kopf.
    pub fn user_info(&self) -> Result<UserInfo, MissingDataError> {
        match self.payload().get("userInfo") {
            None | Some(Value::Null) => Err(MissingDataError(
                "User info is missing from the admission request.".into(),
            )),
            Some(value) => serde_json::from_value(value.clone())
                .map_err(|err| MissingDataError(format!("User info is malformed: {err}"))),
        }
    }

    /// `request.object` (the new state), `None` when absent or null (e.g. on deletion).
    pub fn object(&self) -> Option<&Value> {
        self.payload().get("object").filter(|v| !v.is_null())
    }

    /// `request.oldObject` (the current state), `None` when absent or null (e.g. on creation).
    pub fn old_object(&self) -> Option<&Value> {
        self.payload().get("oldObject").filter(|v| !v.is_null())
    }
}

/// The status of a refused request: what the API server tells the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewStatus {
    pub message: String,
    pub code: u16,
}

/// The answer to one review, as kopf builds it.
#[derive(Clone, Debug, PartialEq)]
pub struct ReviewResponse {
    pub allowed: bool,
    pub warnings: Vec<String>,
    pub status: Option<ReviewStatus>,
    /// JSON Patch operations (RFC 6902); sent base64-encoded when not empty.
    pub patch: Vec<Value>,
}

impl ReviewResponse {
    /// The `AdmissionReview` JSON: the request's `apiVersion` and `kind` echoed (kopf's
    /// defaults when absent), `response.uid` from the request, and only the fields that
    /// have something to say.
    pub fn to_review(&self, request: &ReviewRequest) -> Value {
        use base64::Engine;
        let echo = |key: &str, default: &str| {
            request
                .raw
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or(default)
                .to_string()
        };
        let mut response = Map::new();
        response.insert("uid".into(), json!(request.uid()));
        response.insert("allowed".into(), json!(self.allowed));
        if !self.warnings.is_empty() {
            response.insert("warnings".into(), json!(self.warnings));
        }
        if !self.patch.is_empty() {
            let text = Value::Array(self.patch.clone()).to_string();
            let encoded = base64::engine::general_purpose::STANDARD.encode(text);
            response.insert("patch".into(), json!(encoded));
            response.insert("patchType".into(), json!("JSONPatch"));
        }
        if let Some(status) = &self.status {
            response.insert(
                "status".into(),
                json!({"message": status.message, "code": status.code}),
            );
        }
        json!({
            "apiVersion": echo("apiVersion", "admission.k8s.io/v1"),
            "kind": echo("kind", "AdmissionReview"),
            "response": response,
        })
    }
}

/// The JSON Patch that turns `body` into `body` with the merge-patch applied: kopf's
/// `Patch.as_json_patch()` (no `test` operations; no-op changes vanish).
pub fn json_patch_of(body: &Value, merge_patch: &Value) -> Vec<Value> {
    let empty = match merge_patch {
        Value::Object(map) => map.is_empty(),
        Value::Null => true,
        _ => false,
    };
    if empty {
        return Vec::new();
    }
    let mut patched = body.clone();
    json_patch::merge(&mut patched, merge_patch);
    let ops = json_patch::diff(body, &patched);
    match serde_json::to_value(ops) {
        Ok(Value::Array(ops)) => ops,
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review() -> ReviewRequest {
        ReviewRequest::new(json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "u-1",
                "resource": {"group": "kopf.dev", "version": "v1", "resource": "kopfexamples"},
                "operation": "CREATE",
                "dryRun": true,
                "userInfo": {"username": "admin", "groups": ["system:masters"]},
                "object": {"metadata": {"name": "x"}, "spec": {"a": 1}},
                "oldObject": null,
            }
        }))
    }

    #[test]
    fn requests_are_read_as_kopf_reads_them() {
        let request = review();
        assert_eq!(request.uid(), "u-1");
        assert_eq!(
            request.resource().unwrap(),
            ("kopf.dev".into(), "v1".into(), "kopfexamples".into())
        );
        assert_eq!(request.operation(), Some(Operation::Create));
        assert!(request.dry_run());
        assert_eq!(request.user_info().unwrap().username, "admin");
        assert!(request.old_object().is_none());
        assert_eq!(request.subresource(), None);
        let bare = ReviewRequest::new(json!({"request": {}}));
        assert!(bare.user_info().is_err());
        assert!(bare.resource().is_err());
    }

    #[test]
    fn responses_carry_only_what_has_something_to_say() {
        let request = review();
        let allowed = ReviewResponse {
            allowed: true,
            warnings: vec![],
            status: None,
            patch: vec![],
        };
        assert_eq!(
            allowed.to_review(&request),
            json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                   "response": {"uid": "u-1", "allowed": true}})
        );
        let denied = ReviewResponse {
            allowed: false,
            warnings: vec!["careful".into()],
            status: Some(ReviewStatus {
                message: "no".into(),
                code: 403,
            }),
            patch: vec![json!({"op": "add", "path": "/spec/b", "value": 2})],
        };
        let review = denied.to_review(&request);
        assert_eq!(
            review["response"]["status"],
            json!({"message": "no", "code": 403})
        );
        assert_eq!(review["response"]["warnings"], json!(["careful"]));
        assert_eq!(review["response"]["patchType"], "JSONPatch");
        use base64::Engine;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(review["response"]["patch"].as_str().unwrap())
            .unwrap();
        let ops: Value = serde_json::from_slice(&decoded).unwrap();
        assert_eq!(ops, json!([{"op": "add", "path": "/spec/b", "value": 2}]));
    }

    #[test]
    fn merge_patches_become_json_patches_against_the_body() {
        let body = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"x": 1, "y": 2}});
        let ops = json_patch_of(
            &body,
            &json!({"metadata": {"labels": {"b": "2"}}, "spec": {"x": 1, "y": null}}),
        );
        assert_eq!(
            ops,
            vec![
                json!({"op": "add", "path": "/metadata/labels/b", "value": "2"}),
                json!({"op": "remove", "path": "/spec/y"}),
            ]
        );
        assert!(json_patch_of(&body, &json!({})).is_empty());
        assert!(json_patch_of(&body, &json!({"spec": {"x": 1}})).is_empty());
    }
}
