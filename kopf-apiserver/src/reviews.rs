//! Access and identity reviews (`authorization.k8s.io/v1` and `authentication.k8s.io/v1`):
//! answered, never stored, so that `kubectl auth can-i` and `kubectl auth whoami` work.
//! Access reviews answer for the caller as the authorizer would decide its requests: with
//! RBAC enforced, a service account gets its roles' answer; everyone else is allowed.

use crate::rbac::rules::{Attributes, User};
use crate::registry::Resource;
use serde_json::{Value, json};

/// The groups whose `…reviews` resources are answered here.
const GROUPS: [&str; 2] = ["authorization.k8s.io", "authentication.k8s.io"];

/// Whether `resource` is a review: created to get an answer, never stored or read.
pub fn is_review(resource: &Resource) -> bool {
    GROUPS.contains(&resource.group.as_str()) && resource.plural.ends_with("reviews")
}

/// Whom a review asks about: the caller for the `selfsubject…` ones, else `spec.user` (a
/// service account's username names it; any other user is taken as the caller).
fn subject(resource: &Resource, spec: &Value, caller: &User) -> User {
    if resource.plural.starts_with("selfsubject") {
        return caller.clone();
    }
    let named = spec.get("user").and_then(Value::as_str).unwrap_or("");
    match named
        .strip_prefix("system:serviceaccount:")
        .and_then(|r| r.split_once(':'))
    {
        Some((namespace, name)) => User::ServiceAccount {
            namespace: namespace.to_string(),
            name: name.to_string(),
        },
        None => caller.clone(),
    }
}

/// The review with its `status` filled in, as kube-apiserver answers a create. `can` is
/// the authorizer's decision for a user; `rules` the caller's RBAC rules in a namespace
/// (`None` when nothing restricts the caller).
pub fn answer(
    resource: &Resource,
    mut review: Value,
    user: &User,
    can: impl Fn(&User, &Attributes) -> bool,
    rules: impl Fn(&str) -> Option<Vec<Value>>,
) -> Value {
    let spec = review.get("spec").cloned().unwrap_or(Value::Null);
    let status = match resource.plural.as_str() {
        "selfsubjectreviews" => {
            json!({"userInfo": {"username": user.username(), "groups": user.groups()}})
        }
        "selfsubjectrulesreviews" => {
            let namespace = spec.get("namespace").and_then(Value::as_str).unwrap_or("");
            match rules(namespace) {
                Some(rules) => json!({
                    "resourceRules": rules,
                    "nonResourceRules": [],
                    "incomplete": false,
                }),
                None => json!({
                    "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                    "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
                    "incomplete": false,
                }),
            }
        }
        _ => match spec.get("resourceAttributes") {
            Some(attributes)
                if can(
                    &subject(resource, &spec, user),
                    &Attributes::from_review(attributes),
                ) =>
            {
                json!({"allowed": true, "reason": "allowed by the embedded cluster's authorizer"})
            }
            Some(_) => json!({"allowed": false}),
            // Non-resource URLs are open to every authenticated user.
            None => json!({"allowed": true}),
        },
    };
    if let Some(map) = review.as_object_mut() {
        map.insert("apiVersion".into(), json!(resource.api_version()));
        map.insert("kind".into(), json!(resource.kind));
        map.entry("metadata").or_insert_with(|| json!({}));
        map.insert("status".into(), status);
    }
    review
}
