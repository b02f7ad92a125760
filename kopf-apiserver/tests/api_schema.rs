//! Structural schemas of custom resources: pruning, defaults, strict field validation;
//! and strategic merge by list keys on built-ins.

use kopf_test_support::start;
use serde_json::{Value, json};

const CRD: &str = r#"{
  "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
  "metadata": {"name": "widgets.schema.test"},
  "spec": {"group": "schema.test", "scope": "Namespaced",
    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
    "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
      "schema": {"openAPIV3Schema": {"type": "object", "properties": {
        "spec": {"type": "object", "properties": {
          "size": {"type": "string", "default": "1G"},
          "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}},
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}]}}"#;

const WIDGETS: &str = "/apis/schema.test/v1/namespaces/default/widgets";

async fn with_crd() -> kopf_test_support::TestServer {
    let ts = start().await;
    kopf_test_support::create_crd_from(&ts, CRD).await;
    ts
}

#[tokio::test]
async fn api_111_undeclared_fields_are_pruned_unless_preserved() {
    let ts = with_crd().await;
    let object = json!({"apiVersion": "schema.test/v1", "kind": "Widget", "metadata": {"name": "w"},
        "spec": {"size": "2G", "junk": 1, "free": {"anything": {"goes": true}}}});
    let (code, created) = ts
        .raw(
            "POST",
            WIDGETS,
            Some("application/json"),
            &object.to_string(),
        )
        .await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(
        created["spec"],
        json!({"size": "2G", "free": {"anything": {"goes": true}}})
    );
    // kopf's status survives only through preserve-unknown-fields: it does here.
    let status = json!({"status": {"kopf": {"progress": {"x": 1}}}});
    let (code, patched) = ts
        .raw(
            "PATCH",
            &format!("{WIDGETS}/w/status"),
            Some("application/merge-patch+json"),
            &status.to_string(),
        )
        .await;
    assert_eq!(code, 200, "{patched}");
    assert_eq!(patched["status"]["kopf"]["progress"]["x"], 1);
}

#[tokio::test]
async fn api_112_schema_defaults_are_applied() {
    let ts = with_crd().await;
    let object = json!({"apiVersion": "schema.test/v1", "kind": "Widget", "metadata": {"name": "d"}, "spec": {}});
    let (code, created) = ts
        .raw(
            "POST",
            WIDGETS,
            Some("application/json"),
            &object.to_string(),
        )
        .await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["spec"]["size"], "1G");
}

#[tokio::test]
async fn api_22_strict_field_validation_rejects_unknown_fields() {
    let ts = with_crd().await;
    let object = json!({"apiVersion": "schema.test/v1", "kind": "Widget", "metadata": {"name": "s"}, "spec": {"x": 1}});
    let (code, status) = ts
        .raw(
            "POST",
            &format!("{WIDGETS}?fieldValidation=Strict"),
            Some("application/json"),
            &object.to_string(),
        )
        .await;
    assert_eq!(code, 400, "{status}");
    assert_eq!(status["reason"], "BadRequest");
    assert!(
        status["message"]
            .as_str()
            .unwrap_or_default()
            .contains("strict decoding error: unknown field \"spec.x\"")
    );
    // Without Strict, the unknown field is silently dropped.
    let (code, _) = ts
        .raw(
            "POST",
            WIDGETS,
            Some("application/json"),
            &object.to_string(),
        )
        .await;
    assert_eq!(code, 201);
}

#[tokio::test]
async fn api_83_strategic_merge_keeps_other_list_items_on_built_ins() {
    let ts = start().await;
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}},
          "spec": {"containers": [{"name": "app", "image": "a:1", "ports": [{"containerPort": 80}]},
                                  {"name": "sidecar", "image": "s:1"}]}}}});
    let path = "/apis/apps/v1/namespaces/default/deployments";
    let (code, created) = ts
        .raw(
            "POST",
            path,
            Some("application/json"),
            &deployment.to_string(),
        )
        .await;
    assert_eq!(code, 201, "{created}");
    let patch =
        json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a:2"}]}}}});
    let (code, patched) = ts
        .raw(
            "PATCH",
            &format!("{path}/web"),
            Some("application/strategic-merge-patch+json"),
            &patch.to_string(),
        )
        .await;
    assert_eq!(code, 200, "{patched}");
    let containers = patched
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .unwrap();
    assert_eq!(containers.len(), 2, "the sidecar stays: {patched}");
    assert_eq!(containers[0]["image"], "a:2");
    assert_eq!(
        containers[0]["ports"],
        json!([{"containerPort": 80, "protocol": "TCP"}]),
        "fields not in the patch stay (with the protocol defaulted, API-132)"
    );
}
