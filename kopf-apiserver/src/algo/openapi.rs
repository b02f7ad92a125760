//! Per-group-version OpenAPI 3.0 documents, enough for kubectl's field-validation probe (API-20, API-21).

use serde_json::{Map, Value, json};

/// What the document needs to know about one served resource.
#[derive(Clone, Debug)]
pub struct OpenApiResource {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
    pub schema: Option<Value>,
    pub has_status: bool,
}

fn schema_name(group: &str, version: &str, kind: &str) -> String {
    let group = if group.is_empty() { "core" } else { group };
    let reversed: Vec<&str> = group.split('.').rev().collect();
    format!("{}.{version}.{kind}", reversed.join("."))
}

fn operation(verb: &str, gvk: &Value, reference: &str, kind: &str) -> Value {
    let mut op = json!({
        "operationId": format!("{verb}{kind}"),
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": reference}}}}},
        "x-kubernetes-action": verb,
        "x-kubernetes-group-version-kind": gvk,
    });
    let mut params = vec![
        json!({"name": "dryRun", "in": "query", "schema": {"type": "string"}}),
        json!({"name": "fieldManager", "in": "query", "schema": {"type": "string"}}),
    ];
    if matches!(verb, "patch" | "put" | "post") {
        params
            .push(json!({"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}));
    }
    if verb == "patch" {
        params.push(json!({"name": "force", "in": "query", "schema": {"type": "boolean"}}));
    }
    op["parameters"] = Value::Array(params);
    if matches!(verb, "patch" | "put" | "post") {
        op["requestBody"] =
            json!({"content": {"application/json": {"schema": {"$ref": reference}}}});
    }
    op
}

/// Build the document for one group-version.
pub fn document(group: &str, version: &str, resources: &[OpenApiResource]) -> Value {
    let prefix = if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    };
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for r in resources {
        let gvk = json!({"group": r.group, "version": r.version, "kind": r.kind});
        let name = schema_name(&r.group, &r.version, &r.kind);
        let reference = format!("#/components/schemas/{name}");
        let mut schema = r.schema.clone().unwrap_or_else(
            || json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        );
        if let Value::Object(m) = &mut schema {
            m.insert(
                "x-kubernetes-group-version-kind".into(),
                json!([gvk.clone()]),
            );
        }
        schemas.insert(name, schema);
        let base = if r.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}", r.plural)
        } else {
            format!("{prefix}/{}", r.plural)
        };
        let mut coll = Map::new();
        for verb in ["get", "post", "delete"] {
            let action = match verb {
                "get" => "list",
                "post" => "post",
                _ => "deletecollection",
            };
            coll.insert(verb.into(), operation(action, &gvk, &reference, &r.kind));
        }
        paths.insert(base.clone(), Value::Object(coll));
        let item_ops = |suffix: &str| {
            let mut item = Map::new();
            for verb in ["get", "put", "delete", "patch"] {
                item.insert(
                    verb.into(),
                    operation(verb, &gvk, &reference, &format!("{}{suffix}", r.kind)),
                );
            }
            Value::Object(item)
        };
        paths.insert(format!("{base}/{{name}}"), item_ops(""));
        if r.has_status {
            paths.insert(format!("{base}/{{name}}/status"), item_ops("Status"));
        }
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

/// A stable hex hash (FNV-1a 64) of the serialized document.
pub fn hash(document: &Value) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in document.to_string().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016X}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(plural: &str) -> OpenApiResource {
        OpenApiResource {
            group: "kopf.dev".into(),
            version: "v1".into(),
            kind: "KopfExample".into(),
            plural: plural.into(),
            namespaced: true,
            schema: None,
            has_status: true,
        }
    }

    #[test]
    fn patch_carries_gvk_and_field_validation() {
        let doc = document("kopf.dev", "v1", &[res("kopfexamples")]);
        let patch =
            &doc["paths"]["/apis/kopf.dev/v1/namespaces/{namespace}/kopfexamples/{name}"]["patch"];
        assert_eq!(
            patch["x-kubernetes-group-version-kind"],
            json!({"group": "kopf.dev", "version": "v1", "kind": "KopfExample"})
        );
        assert!(
            patch["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "fieldValidation")
        );
        assert!(
            doc["paths"]
                .get("/apis/kopf.dev/v1/namespaces/{namespace}/kopfexamples/{name}/status")
                .is_some()
        );
        assert!(doc["components"]["schemas"]["dev.kopf.v1.KopfExample"].is_object());
        assert_eq!(
            hash(&doc),
            hash(&document("kopf.dev", "v1", &[res("kopfexamples")]))
        );
        assert_ne!(
            hash(&doc),
            hash(&document("kopf.dev", "v1", &[res("others")]))
        );
    }
}
