//! `/openapi/v3` (API-20, API-21): the index and per-group-version documents.

use crate::registry::Resource;
use crate::responses::{RespBody, value_response};
use crate::shared::Shared;
use crate::status::ApiError;
use hyper::Response;
use serde_json::{Map, Value, json};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// The document path of a group-version: `api/v1` or `apis/G/V`.
fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// A per-GV document: every resource's paths with a PATCH that kubectl's verifier accepts.
fn document(resources: &[Arc<Resource>]) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for r in resources {
        let gvk = json!({"group": r.group, "version": r.version, "kind": r.kind});
        let prefix = if r.group.is_empty() {
            format!("/api/{}", r.version)
        } else {
            format!("/apis/{}/{}", r.group, r.version)
        };
        let scope = if r.namespaced {
            "/namespaces/{namespace}"
        } else {
            ""
        };
        let item = format!("{prefix}{scope}/{}/{{name}}", r.plural);
        let collection = format!("{prefix}{scope}/{}", r.plural);
        let model = format!(
            "{}.{}.{}",
            if r.group.is_empty() {
                "io.k8s.api.core"
            } else {
                r.group.as_str()
            },
            r.version,
            r.kind
        );
        let reference = json!({"$ref": format!("#/components/schemas/{model}")});
        let op = |verb: &str| {
            json!({
                "operationId": format!("{verb}{}", r.kind),
                "parameters": [
                    {"name": "dryRun", "in": "query", "schema": {"type": "string"}},
                    {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
                    {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": reference}}}},
                "x-kubernetes-action": verb,
                "x-kubernetes-group-version-kind": gvk,
            })
        };
        paths.insert(item, json!({"get": op("get"), "put": op("put"), "patch": op("patch"), "delete": op("delete")}));
        paths.insert(collection, json!({"get": op("list"), "post": op("post")}));
        let mut schema = r.schema.clone().unwrap_or_else(
            || json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        );
        schema["x-kubernetes-group-version-kind"] = json!([gvk]);
        schemas.insert(model, schema);
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

/// Changes whenever the GV's resources change (API-20).
fn hash(document: &Value) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    document.to_string().hash(&mut hasher);
    format!("{:016X}", hasher.finish())
}

/// Serves `/openapi/v3/<rest>`.
pub fn serve(
    shared: &Shared,
    rest: &[&str],
    _hash: Option<&str>,
) -> Result<Response<RespBody>, ApiError> {
    let registry = shared.lock().registry.clone();
    match rest {
        [] => {
            let mut gvs: Vec<(String, String)> = Vec::new();
            for r in &registry.resources {
                let gv = (r.group.clone(), r.version.clone());
                if !gvs.contains(&gv) {
                    gvs.push(gv);
                }
            }
            let mut paths = Map::new();
            for (group, version) in gvs {
                let doc = document(&registry.in_group_version(&group, &version));
                let path = gv_path(&group, &version);
                paths.insert(
                    path.clone(),
                    json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={}", hash(&doc))}),
                );
            }
            Ok(value_response(200, &json!({"paths": paths})))
        }
        ["api", version] => gv_document(&registry, "", version),
        ["apis", group, version] => gv_document(&registry, group, version),
        _ => Err(ApiError::not_found_generic()),
    }
}

fn gv_document(
    registry: &crate::registry::Registry,
    group: &str,
    version: &str,
) -> Result<Response<RespBody>, ApiError> {
    let resources = registry.in_group_version(group, version);
    if resources.is_empty() {
        return Err(ApiError::not_found_generic());
    }
    Ok(value_response(200, &document(&resources)))
}
