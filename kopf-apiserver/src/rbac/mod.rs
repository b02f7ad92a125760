//! Authentication and (opt-in) RBAC authorization.
//!
//! A request is the admin's (the cluster's token), a service account's (a token issued by a
//! TokenRequest, see `tokens`), or anonymous (plain HTTP without a token). With
//! `ServerConfig::rbac`, a service account's resource requests are authorized against the
//! stored Roles, ClusterRoles, RoleBindings and ClusterRoleBindings as Kubernetes' RBAC
//! authorizer does (ClusterRoleBindings everywhere, RoleBindings in their namespace, a
//! RoleBinding may refer to a ClusterRole); denied ones get kube-apiserver's 403. The
//! admin and anonymous users keep full access, as does every user without `rbac`.
//! `Impersonate-User`/`Impersonate-Group` (`kubectl --as`) make the request the named
//! user's, judged by RBAC as such, when the caller may impersonate them (API-130).
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

/// The user a request acts as: `Impersonate-User` (and its `Impersonate-Group`s), when
/// the caller may impersonate them — with RBAC on, a restricted caller needs the
/// `impersonate` verb on `users` (or the service account, or each group), as
/// kube-apiserver checks it.
pub fn impersonate(
    state: &State,
    enforced: bool,
    caller: User,
    as_user: Option<&str>,
    as_groups: &[String],
) -> Result<User, ApiError> {
    let Some(name) = as_user else {
        if as_groups.is_empty() {
            return Ok(caller);
        }
        return Err(ApiError::bad_request(format!(
            "requested {} without impersonating a user",
            as_groups
                .iter()
                .map(|g| format!("{{Group {g}}}"))
                .collect::<Vec<_>>()
                .join(" ")
        )));
    };
    let service_account = name
        .strip_prefix("system:serviceaccount:")
        .and_then(|rest| rest.split_once(':'));
    let mut asked = vec![match service_account {
        Some((namespace, account)) => Attributes {
            verb: "impersonate".into(),
            resource: "serviceaccounts".into(),
            namespace: namespace.into(),
            name: account.into(),
            ..Attributes::default()
        },
        None => Attributes {
            verb: "impersonate".into(),
            resource: "users".into(),
            name: name.into(),
            ..Attributes::default()
        },
    }];
    asked.extend(as_groups.iter().map(|group| Attributes {
        verb: "impersonate".into(),
        resource: "groups".into(),
        name: group.clone(),
        ..Attributes::default()
    }));
    for attrs in &asked {
        if !allows(state, enforced, &caller, attrs) {
            return Err(ApiError::forbidden(format!(
                "{} \"{}\" is forbidden: User \"{}\" cannot impersonate resource \"{}\" in API group \"\"{}",
                attrs.resource,
                attrs.name,
                caller.username(),
                attrs.resource,
                if attrs.namespace.is_empty() {
                    " at the cluster scope".to_string()
                } else {
                    format!(" in the namespace \"{}\"", attrs.namespace)
                }
            ))
            .with_details(json!({"name": attrs.name, "kind": attrs.resource})));
        }
    }
    Ok(match service_account {
        Some((namespace, account)) if as_groups.is_empty() => User::ServiceAccount {
            namespace: namespace.into(),
            name: account.into(),
        },
        _ => User::Named {
            name: name.into(),
            groups: as_groups.to_vec(),
        },
    })
}

/// Whether `user` may do what `attrs` asks (always, unless RBAC is on and the user is a
/// service account).
pub fn allows(state: &State, enforced: bool, user: &User, attrs: &Attributes) -> bool {
    if !enforced || !user.is_restricted() {
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
