//! The pure part of RBAC, as Kubernetes' RBAC authorizer evaluates it: who a request comes
//! from, what it asks to do, whether a binding's subject is that user and whether a
//! `PolicyRule` covers the request. No state here: `rbac` feeds it the stored roles.

use serde_json::Value;

/// Who a request comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum User {
    /// The cluster's admin token: everything is allowed.
    Admin,
    /// No token configured (plain HTTP): everything is allowed, as before RBAC.
    Anonymous,
    /// A token issued by a TokenRequest for this service account.
    ServiceAccount { namespace: String, name: String },
    /// Any other user, as impersonated (`kubectl --as=jane --as-group=dev`).
    Named { name: String, groups: Vec<String> },
}

impl User {
    pub fn username(&self) -> String {
        match self {
            User::Admin => "kubernetes-admin".into(),
            User::Anonymous => "system:anonymous".into(),
            User::ServiceAccount { namespace, name } => {
                format!("system:serviceaccount:{namespace}:{name}")
            }
            User::Named { name, .. } => name.clone(),
        }
    }

    /// Whether RBAC (when enforced) decides what this user may do: the admin and
    /// anonymous users keep full access.
    pub fn is_restricted(&self) -> bool {
        matches!(self, User::ServiceAccount { .. } | User::Named { .. })
    }

    pub fn groups(&self) -> Vec<String> {
        match self {
            User::Admin => vec!["system:masters".into(), "system:authenticated".into()],
            User::Anonymous => vec!["system:unauthenticated".into()],
            User::ServiceAccount { namespace, .. } => vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{namespace}"),
                "system:authenticated".into(),
            ],
            User::Named { groups, .. } => {
                let mut all = groups.clone();
                if !all.iter().any(|g| g == "system:authenticated") {
                    all.push("system:authenticated".into());
                }
                all
            }
        }
    }
}

/// What a resource request asks to do (kube-apiserver's authorizer attributes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attributes {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`.
    pub verb: String,
    pub group: String,
    /// The plural, e.g. `pods`.
    pub resource: String,
    /// e.g. `status`; empty for the main resource.
    pub subresource: String,
    /// Empty for cluster-scoped resources and requests across all namespaces.
    pub namespace: String,
    /// Empty for collections and creates.
    pub name: String,
}

impl Attributes {
    /// kube-apiserver's verb for an HTTP method on an object (`named`) or a collection.
    pub fn verb(method: &str, named: bool, watch: bool) -> String {
        match method {
            "GET" if named => "get",
            "GET" if watch => "watch",
            "GET" => "list",
            "POST" => "create",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" if named => "delete",
            "DELETE" => "deletecollection",
            other => return other.to_ascii_lowercase(),
        }
        .to_string()
    }

    /// `resource/subresource`, or the resource alone.
    pub fn combined_resource(&self) -> String {
        if self.subresource.is_empty() {
            self.resource.clone()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        }
    }

    /// The attributes of a `SelfSubjectAccessReview`'s `spec.resourceAttributes`.
    pub fn from_review(spec: &Value) -> Attributes {
        let text = |field: &str| {
            spec.get(field)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        Attributes {
            verb: text("verb"),
            group: text("group"),
            resource: text("resource"),
            subresource: text("subresource"),
            namespace: text("namespace"),
            name: text("name"),
        }
    }
}

fn strings(value: &Value, field: &str) -> Vec<String> {
    value
        .get(field)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a binding's subject (`{kind, name, namespace}`) is `user`. A ServiceAccount
/// subject without a namespace means the binding's own namespace.
pub fn subject_is(subject: &Value, user: &User, binding_namespace: &str) -> bool {
    let field = |f: &str| subject.get(f).and_then(Value::as_str).unwrap_or("");
    match field("kind") {
        "ServiceAccount" => {
            let namespace = match field("namespace") {
                "" => binding_namespace,
                ns => ns,
            };
            matches!(user, User::ServiceAccount { namespace: n, name }
                if !namespace.is_empty() && n == namespace && name == field("name"))
        }
        "User" => field("name") == user.username(),
        "Group" => user.groups().iter().any(|g| g == field("name")),
        _ => false,
    }
}

/// Whether one `PolicyRule` allows the request: verb, API group, resource (with
/// `resource/subresource`, `*` and `*/subresource`) and, if listed, the object's name.
pub fn rule_allows(rule: &Value, attrs: &Attributes) -> bool {
    let verbs = strings(rule, "verbs");
    let groups = strings(rule, "apiGroups");
    let resources = strings(rule, "resources");
    let names = strings(rule, "resourceNames");
    let verb_ok = verbs.iter().any(|v| v == "*" || *v == attrs.verb);
    let group_ok = groups.iter().any(|g| g == "*" || *g == attrs.group);
    let combined = attrs.combined_resource();
    let resource_ok = resources.iter().any(|r| {
        r == "*"
            || *r == combined
            || (!attrs.subresource.is_empty()
                && r.strip_prefix("*/") == Some(attrs.subresource.as_str()))
    });
    let name_ok = names.is_empty() || names.contains(&attrs.name);
    verb_ok && group_ok && resource_ok && name_ok
}

/// kube-apiserver's 403 message for a denied resource request.
pub fn forbidden_message(user: &User, attrs: &Attributes) -> String {
    let qualified = if attrs.group.is_empty() {
        attrs.resource.clone()
    } else {
        format!("{}.{}", attrs.resource, attrs.group)
    };
    let subject = if attrs.name.is_empty() {
        format!("{qualified} is forbidden")
    } else {
        format!("{qualified} \"{}\" is forbidden", attrs.name)
    };
    let scope = if attrs.namespace.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace \"{}\"", attrs.namespace)
    };
    format!(
        "{subject}: User \"{}\" cannot {} resource \"{}\" in API group \"{}\" {scope}",
        user.username(),
        attrs.verb,
        attrs.combined_resource(),
        attrs.group
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sa() -> User {
        User::ServiceAccount {
            namespace: "ns1".into(),
            name: "robot".into(),
        }
    }

    fn attrs(verb: &str, group: &str, resource: &str, sub: &str, name: &str) -> Attributes {
        Attributes {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            subresource: sub.into(),
            namespace: "ns1".into(),
            name: name.into(),
        }
    }

    #[test]
    fn subjects_match_service_accounts_their_groups_and_usernames() {
        let user = sa();
        assert!(subject_is(
            &json!({"kind": "ServiceAccount", "name": "robot", "namespace": "ns1"}),
            &user,
            "other"
        ));
        assert!(subject_is(
            &json!({"kind": "ServiceAccount", "name": "robot"}),
            &user,
            "ns1"
        ));
        assert!(!subject_is(
            &json!({"kind": "ServiceAccount", "name": "robot"}),
            &user,
            "ns2"
        ));
        assert!(subject_is(
            &json!({"kind": "Group", "name": "system:serviceaccounts:ns1"}),
            &user,
            ""
        ));
        assert!(subject_is(
            &json!({"kind": "User", "name": "system:serviceaccount:ns1:robot"}),
            &user,
            ""
        ));
        assert!(!subject_is(
            &json!({"kind": "User", "name": "robot"}),
            &user,
            ""
        ));
    }

    #[test]
    fn rules_match_verbs_groups_resources_subresources_and_names() {
        let rule = json!({"apiGroups": [""], "resources": ["pods", "pods/status"], "verbs": ["get", "list"]});
        assert!(rule_allows(&rule, &attrs("get", "", "pods", "", "p")));
        assert!(rule_allows(&rule, &attrs("get", "", "pods", "status", "p")));
        assert!(!rule_allows(&rule, &attrs("get", "", "pods", "log", "p")));
        assert!(!rule_allows(&rule, &attrs("delete", "", "pods", "", "p")));
        assert!(!rule_allows(&rule, &attrs("get", "apps", "pods", "", "p")));
        let star = json!({"apiGroups": ["*"], "resources": ["*/status"], "verbs": ["*"]});
        assert!(rule_allows(
            &star,
            &attrs("patch", "apps", "deployments", "status", "d")
        ));
        assert!(!rule_allows(
            &star,
            &attrs("patch", "apps", "deployments", "", "d")
        ));
        let named = json!({"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["one"], "verbs": ["get"]});
        assert!(rule_allows(
            &named,
            &attrs("get", "", "configmaps", "", "one")
        ));
        assert!(!rule_allows(
            &named,
            &attrs("get", "", "configmaps", "", "two")
        ));
        assert!(!rule_allows(
            &named,
            &attrs("get", "", "configmaps", "", "")
        ));
    }

    #[test]
    fn the_forbidden_message_is_kube_apiservers() {
        assert_eq!(
            forbidden_message(&sa(), &attrs("delete", "", "configmaps", "", "x")),
            "configmaps \"x\" is forbidden: User \"system:serviceaccount:ns1:robot\" cannot delete resource \"configmaps\" in API group \"\" in the namespace \"ns1\""
        );
        let mut cluster = attrs("list", "apps", "deployments", "", "");
        cluster.namespace.clear();
        assert_eq!(
            forbidden_message(&sa(), &cluster),
            "deployments.apps is forbidden: User \"system:serviceaccount:ns1:robot\" cannot list resource \"deployments\" in API group \"apps\" at the cluster scope"
        );
    }
}
