//! Authentication and (opt-in) RBAC authorization.
//!
//! A request is the admin's (the cluster's token), a service account's (a token issued by a
//! TokenRequest, see `tokens`), or anonymous (plain HTTP without a token). With
//! `ServerConfig::rbac`, a service account's resource requests are authorized against the
//! stored Roles, ClusterRoles, RoleBindings and ClusterRoleBindings as Kubernetes' RBAC
//! authorizer does (ClusterRoleBindings everywhere, RoleBindings in their namespace, a
//! RoleBinding may refer to a ClusterRole); denied ones get kube-apiserver's 403. The
//! admin and anonymous users keep full access, as does every user without `rbac`.
//!
//! Left out: ClusterRole aggregation; non-resource URLs (discovery, `/version`, health) are
//! open to every authenticated user, as the default `system:discovery` role makes them.

pub mod rules;
pub mod tokens;

use crate::status::ApiError;
use crate::store::State;
use rules::{Attributes, User, rule_allows, subject_is};
use serde_json::{Value, json};
use tokens::Tokens;

const CLUSTER_ROLE_BINDINGS: &str = "rbac.authorization.k8s.io/clusterrolebindings";
const ROLE_BINDINGS: &str = "rbac.authorization.k8s.io/rolebindings";
const CLUSTER_ROLES: &str = "rbac.authorization.k8s.io/clusterroles";
const ROLES: &str = "rbac.authorization.k8s.io/roles";

/// Who sent the request, from its `Authorization` header: the admin token, an issued
/// service account token, or (only without an admin token, i.e. plain HTTP) nobody.
pub fn authenticate(
    admin_token: Option<&str>,
    tokens: &Tokens,
    header: Option<&str>,
) -> Result<User, ApiError> {
    let bearer = header.and_then(|h| h.strip_prefix("Bearer "));
    if let Some(given) = bearer {
        if admin_token == Some(given) {
            return Ok(User::Admin);
        }
        if let Some(user) = tokens.user_of(given) {
            return Ok(user);
        }
    }
    match admin_token {
        Some(_) => Err(ApiError::unauthorized()),
        None => Ok(User::Anonymous),
    }
}

/// Whether `user` may do what `attrs` asks (always, unless RBAC is on and the user is a
/// service account).
pub fn allows(state: &State, enforced: bool, user: &User, attrs: &Attributes) -> bool {
    if !enforced || !matches!(user, User::ServiceAccount { .. }) {
        return true;
    }
    rules_of(state, user, &attrs.namespace)
        .iter()
        .any(|rule| rule_allows(rule, attrs))
}

/// `Ok` if allowed, else kube-apiserver's 403.
pub fn authorize(
    state: &State,
    enforced: bool,
    user: &User,
    attrs: &Attributes,
) -> Result<(), ApiError> {
    if allows(state, enforced, user, attrs) {
        return Ok(());
    }
    Err(
        ApiError::forbidden(rules::forbidden_message(user, attrs)).with_details(json!({
            "name": attrs.name,
            "group": attrs.group,
            "kind": attrs.resource,
        })),
    )
}

/// Every rule that applies to `user` in `namespace` (cluster-wide ones only when it is
/// empty): from the ClusterRoles of matching ClusterRoleBindings, and the Roles or
/// ClusterRoles of matching RoleBindings in that namespace.
pub fn rules_of(state: &State, user: &User, namespace: &str) -> Vec<Value> {
    let mut found = Vec::new();
    let mut collect = |binding: &Value, binding_namespace: &str| {
        let bound = binding
            .get("subjects")
            .and_then(Value::as_array)
            .is_some_and(|subjects| {
                subjects
                    .iter()
                    .any(|s| subject_is(s, user, binding_namespace))
            });
        if !bound {
            return;
        }
        let role_ref = |f: &str| {
            binding
                .pointer(&format!("/roleRef/{f}"))
                .and_then(Value::as_str)
                .unwrap_or("")
        };
        let role = match role_ref("kind") {
            "ClusterRole" => state.get(CLUSTER_ROLES, "", role_ref("name")),
            "Role" if !binding_namespace.is_empty() => {
                state.get(ROLES, binding_namespace, role_ref("name"))
            }
            _ => None,
        };
        if let Some(rules) = role
            .as_deref()
            .and_then(|r| r.get("rules"))
            .and_then(Value::as_array)
        {
            found.extend(rules.iter().cloned());
        }
    };
    for binding in state.list(CLUSTER_ROLE_BINDINGS, None) {
        collect(&binding, "");
    }
    if !namespace.is_empty() {
        for binding in state.list(ROLE_BINDINGS, Some(namespace)) {
            collect(&binding, namespace);
        }
    }
    found
}
