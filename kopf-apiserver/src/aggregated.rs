//! Aggregated discovery (`apidiscovery.k8s.io/v2`, and `v2beta1`): what current kubectl
//! and client-go ask `/api` and `/apis` for first — every group, version and resource
//! (with their subresources) in one response instead of one request per group-version.

use crate::registry::{Registry, Resource, VERBS};
use crate::reviews;
use serde_json::{Value, json};

/// The version of aggregated discovery the client accepts, if any.
pub fn wanted(accept: &str) -> Option<&'static str> {
    let asks = |version: &str| {
        accept.split(',').any(|part| {
            part.contains("g=apidiscovery.k8s.io")
                && part.contains("as=APIGroupDiscoveryList")
                && part.split(';').any(|p| p.trim() == format!("v={version}"))
        })
    };
    if asks("v2") {
        Some("v2")
    } else if asks("v2beta1") {
        Some("v2beta1")
    } else {
        None
    }
}

/// The content type of the answer.
pub fn content_type(version: &str) -> String {
    format!("application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList")
}

fn kind_of(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "version": version, "kind": kind})
}

fn resource(r: &Resource) -> Value {
    let verbs: &[&str] = if reviews::is_review(r) {
        &["create"]
    } else {
        &VERBS
    };
    let mut subresources = Vec::new();
    if r.status {
        subresources.push(json!({"subresource": "status",
            "responseKind": kind_of(&r.group, &r.version, &r.kind),
            "verbs": ["get", "patch", "update"]}));
    }
    if r.scale.is_some() {
        subresources.push(json!({"subresource": "scale",
            "responseKind": kind_of("autoscaling", "v1", "Scale"),
            "verbs": ["get", "patch", "update"]}));
    }
    let mut entry = json!({
        "resource": r.plural,
        "responseKind": kind_of(&r.group, &r.version, &r.kind),
        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": r.singular,
        "verbs": verbs,
    });
    if !r.short_names.is_empty() {
        entry["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        entry["categories"] = json!(r.categories);
    }
    if !subresources.is_empty() {
        entry["subresources"] = json!(subresources);
    }
    entry
}

/// The `APIGroupDiscoveryList` of the core group (`core`) or of all the others.
pub fn document(registry: &Registry, core: bool, version: &str) -> Value {
    let groups: Vec<(String, Vec<String>)> = if core {
        vec![(String::new(), vec!["v1".to_string()])]
    } else {
        registry.groups()
    };
    let items: Vec<Value> = groups
        .iter()
        .map(|(group, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|v| {
                    let resources: Vec<Value> = registry
                        .in_group_version(group, v)
                        .iter()
                        .map(|r| resource(r))
                        .collect();
                    json!({"version": v, "resources": resources, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": group, "creationTimestamp": null}, "versions": versions})
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("apidiscovery.k8s.io/{version}"),
        "metadata": {},
        "items": items,
    })
}
