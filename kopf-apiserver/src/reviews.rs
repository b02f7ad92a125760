//! Access and identity reviews (`authorization.k8s.io/v1` and `authentication.k8s.io/v1`):
//! answered, never stored, so that `kubectl auth can-i` and `kubectl auth whoami` work.
//! Every request this server lets in is allowed (the token is the cluster's admin), so the
//! answers say so: allowed, with `*` rules.

use crate::registry::Resource;
use serde_json::{Value, json};

/// The groups whose `…reviews` resources are answered here.
const GROUPS: [&str; 2] = ["authorization.k8s.io", "authentication.k8s.io"];

/// Whether `resource` is a review: created to get an answer, never stored or read.
pub fn is_review(resource: &Resource) -> bool {
    GROUPS.contains(&resource.group.as_str()) && resource.plural.ends_with("reviews")
}

/// Who the requests come from: the admin of the token, or anonymous without one.
fn user(authenticated: bool) -> Value {
    if authenticated {
        json!({"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]})
    } else {
        json!({"username": "system:anonymous", "groups": ["system:unauthenticated"]})
    }
}

/// The review with its `status` filled in, as kube-apiserver answers a create.
pub fn answer(resource: &Resource, mut review: Value, authenticated: bool) -> Value {
    let status = match resource.plural.as_str() {
        "selfsubjectreviews" => json!({"userInfo": user(authenticated)}),
        "selfsubjectrulesreviews" => json!({
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": false,
        }),
        _ => {
            json!({"allowed": true, "reason": "the embedded cluster allows every authenticated request"})
        }
    };
    if let Some(map) = review.as_object_mut() {
        map.insert("apiVersion".into(), json!(resource.api_version()));
        map.insert("kind".into(), json!(resource.kind));
        map.entry("metadata").or_insert_with(|| json!({}));
        map.insert("status".into(), status);
    }
    review
}
