//! Which webhooks a request goes to: their rules (groups, versions, resources with
//! subresources, operations, scope), `matchPolicy`, `namespaceSelector` and
//! `objectSelector`, as kube-apiserver decides it.

use super::attributes::{Attributes, labels_of};
use super::config::{MatchPolicy, Rule, Webhook};
use serde_json::{Map, Value};

fn listed(list: &[String], value: &str) -> bool {
    list.iter().any(|item| item == "*" || item == value)
}

/// `resources` entries: `*` (all resources, no subresources), `*/*` (everything),
/// `pods` (the resource), `pods/status`, `pods/*` (its subresources), `*/status`.
fn resource_listed(list: &[String], resource: &str, sub: &str) -> bool {
    list.iter().any(|entry| match entry.split_once('/') {
        None => sub.is_empty() && (entry == "*" || entry == resource),
        Some(("*", "*")) => true,
        Some((res, "*")) => !sub.is_empty() && res == resource,
        Some((res, want)) => (res == "*" || res == resource) && want == sub,
    })
}

fn scope_fits(scope: Option<&str>, namespaced: bool) -> bool {
    match scope {
        Some("Cluster") => !namespaced,
        Some("Namespaced") => namespaced,
        _ => true,
    }
}

/// One rule against the request at `version`.
fn rule_fits(rule: &Rule, attrs: &Attributes, version: &str) -> bool {
    listed(&rule.operations, attrs.operation.as_str())
        && listed(&rule.api_groups, &attrs.resource.group)
        && listed(&rule.api_versions, version)
        && resource_listed(&rule.resources, &attrs.resource.name, &attrs.sub_resource)
        && scope_fits(rule.scope.as_deref(), attrs.namespaced)
}

/// The version the webhook sees the request at, if its rules take the request: the
/// request's own, or (with `matchPolicy: Equivalent`) another served version.
pub fn rules_version(webhook: &Webhook, attrs: &Attributes) -> Option<String> {
    let fits = |version: &str| webhook.rules.iter().any(|r| rule_fits(r, attrs, version));
    if fits(&attrs.resource.version) {
        return Some(attrs.resource.version.clone());
    }
    if webhook.match_policy == MatchPolicy::Equivalent {
        return attrs.other_versions.iter().find(|v| fits(v)).cloned();
    }
    None
}

/// A `LabelSelector` object against labels. Absent and empty selectors take all; an
/// unreadable one takes nothing (kube-apiserver refuses such configurations).
pub fn selector_matches(selector: Option<&Value>, labels: &Map<String, Value>) -> bool {
    let Some(selector) = selector else {
        return true;
    };
    let label = |key: &str| labels.get(key).and_then(Value::as_str);
    if let Some(wanted) = selector.get("matchLabels") {
        let Some(wanted) = wanted.as_object() else {
            return false;
        };
        if !wanted
            .iter()
            .all(|(k, v)| v.as_str().is_some() && label(k) == v.as_str())
        {
            return false;
        }
    }
    let expressions = match selector.get("matchExpressions") {
        None | Some(Value::Null) => return true,
        Some(Value::Array(expressions)) => expressions,
        Some(_) => return false,
    };
    expressions.iter().all(|expression| {
        let Some(key) = expression.get("key").and_then(Value::as_str) else {
            return false;
        };
        let values: Vec<&str> = expression
            .get("values")
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        match expression.get("operator").and_then(Value::as_str) {
            Some("In") => label(key).is_some_and(|v| values.contains(&v)),
            Some("NotIn") => label(key).is_none_or(|v| !values.contains(&v)),
            Some("Exists") => labels.contains_key(key),
            Some("DoesNotExist") => !labels.contains_key(key),
            _ => false,
        }
    })
}

/// `objectSelector`: the old or the new object matches.
fn object_selected(webhook: &Webhook, attrs: &Attributes) -> bool {
    let selector = webhook.object_selector.as_ref();
    let objects: Vec<&Value> = [attrs.old_object.as_ref(), attrs.object.as_ref()]
        .into_iter()
        .flatten()
        .collect();
    if objects.is_empty() {
        return selector_matches(selector, &Map::new());
    }
    objects
        .into_iter()
        .any(|o| selector_matches(selector, &labels_of(Some(o))))
}

/// The version the webhook is called at, or `None` when the request is not for it.
pub fn matches(webhook: &Webhook, attrs: &Attributes) -> Option<String> {
    let version = rules_version(webhook, attrs)?;
    if let Some(labels) = attrs.labels_for_namespace_selector()
        && !selector_matches(webhook.namespace_selector.as_ref(), &labels)
    {
        return None;
    }
    object_selected(webhook, attrs).then_some(version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::attributes::{Gvn, Operation};
    use crate::admission::config::{Phase, webhooks};
    use serde_json::json;
    use std::sync::Arc;

    fn hook(spec: Value) -> Webhook {
        let mut spec = spec;
        spec["name"] = json!("w");
        let config = Arc::new(json!({"metadata": {"name": "c"}, "webhooks": [spec]}));
        webhooks(&[config], Phase::Validating).remove(0)
    }

    fn attrs(resource: &str, sub: &str, namespaced: bool, operation: Operation) -> Attributes {
        Attributes {
            resource: Gvn {
                group: "kopf.dev".into(),
                version: "v1".into(),
                name: resource.into(),
            },
            sub_resource: sub.into(),
            kind: Gvn {
                group: "kopf.dev".into(),
                version: "v1".into(),
                name: "Thing".into(),
            },
            namespaced,
            namespace: "ns".into(),
            name: "x".into(),
            operation,
            object: Some(json!({"metadata": {"labels": {"app": "web"}}})),
            old_object: None,
            namespace_labels: Some(
                json!({"env": "dev"})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            ),
            other_versions: vec!["v2".into()],
            dry_run: false,
            options: json!({}),
        }
    }

    fn rule(resources: Value) -> Value {
        json!({"rules": [{"apiGroups": ["kopf.dev"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": resources}]})
    }

    #[test]
    fn resources_and_subresources() {
        let create = Operation::Create;
        let things = attrs("things", "", true, create);
        let status = attrs("things", "status", true, create);
        assert!(matches(&hook(rule(json!(["things"]))), &things).is_some());
        assert!(matches(&hook(rule(json!(["things"]))), &status).is_none());
        assert!(matches(&hook(rule(json!(["*"]))), &status).is_none());
        assert!(matches(&hook(rule(json!(["*/*"]))), &status).is_some());
        assert!(matches(&hook(rule(json!(["things/status"]))), &status).is_some());
        assert!(matches(&hook(rule(json!(["*/status"]))), &status).is_some());
        assert!(matches(&hook(rule(json!(["things/*"]))), &things).is_none());
        assert!(matches(&hook(rule(json!(["others"]))), &things).is_none());
        let delete = attrs("things", "", true, Operation::Delete);
        assert!(matches(&hook(rule(json!(["things"]))), &delete).is_none());
    }

    #[test]
    fn scope_and_equivalent_versions() {
        let mut spec = rule(json!(["things"]));
        spec["rules"][0]["scope"] = json!("Cluster");
        assert!(
            matches(
                &hook(spec.clone()),
                &attrs("things", "", true, Operation::Create)
            )
            .is_none()
        );
        assert!(matches(&hook(spec), &attrs("things", "", false, Operation::Create)).is_some());
        let mut spec = rule(json!(["things"]));
        spec["rules"][0]["apiVersions"] = json!(["v2"]);
        let request = attrs("things", "", true, Operation::Create);
        assert_eq!(
            matches(&hook(spec.clone()), &request).as_deref(),
            Some("v2")
        );
        spec["matchPolicy"] = json!("Exact");
        assert!(matches(&hook(spec), &request).is_none());
    }

    #[test]
    fn selectors() {
        let request = attrs("things", "", true, Operation::Create);
        let mut spec = rule(json!(["things"]));
        spec["namespaceSelector"] = json!({"matchLabels": {"env": "dev"}});
        spec["objectSelector"] =
            json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]});
        assert!(matches(&hook(spec.clone()), &request).is_some());
        spec["namespaceSelector"] =
            json!({"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]});
        assert!(matches(&hook(spec.clone()), &request).is_none());
        let cluster = attrs("things", "", false, Operation::Create);
        assert!(
            matches(&hook(spec.clone()), &cluster).is_some(),
            "not for cluster-scoped"
        );
        spec["namespaceSelector"] = json!({});
        spec["objectSelector"] =
            json!({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]});
        assert!(matches(&hook(spec.clone()), &request).is_none());
        let mut update = attrs("things", "", true, Operation::Update);
        update.old_object = Some(json!({"metadata": {"labels": {"app": "db"}}}));
        assert!(
            matches(&hook(spec), &update).is_some(),
            "the old object matches"
        );
    }
}
