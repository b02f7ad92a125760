//! Rule API-128: a custom object's values are validated against its CRD's schema on every
//! write (types, enums, required fields, bounds, lengths, patterns, counts), refused with
//! kube-apiserver's 422 and wording; an update is refused only for values it changed
//! (validation ratcheting). Every object's labels and annotations are validated too.

use kopf_test_support::start;
use serde_json::{Value, json};

const CRD: &str = r#"{
  "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
  "metadata": {"name": "widgets.valid.test"},
  "spec": {"group": "valid.test", "scope": "Namespaced",
    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
    "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
      "schema": {"openAPIV3Schema": {"type": "object", "properties": {
        "spec": {"type": "object", "required": ["color"], "properties": {
          "color": {"type": "string", "enum": ["red", "green", "blue"]},
          "replicas": {"type": "integer", "minimum": 0, "maximum": 10},
          "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 8}}},
        "status": {"type": "object", "properties": {
          "phase": {"type": "string", "enum": ["Pending", "Ready"]}}}}}}}]}}"#;

const WIDGETS: &str = "/apis/valid.test/v1/namespaces/default/widgets";

fn widget(spec: Value) -> String {
    json!({"apiVersion": "valid.test/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": spec})
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_128_invalid_values_are_refused_with_kube_apiservers_status() {
    let ts = start().await;
    kopf_test_support::create_crd_from(&ts, CRD).await;
    let (code, status) = ts
        .raw(
            "POST",
            WIDGETS,
            Some("application/json"),
            &widget(json!({"color": "pink", "replicas": -1})),
        )
        .await;
    assert_eq!(code, 422, "{status}");
    assert_eq!(status["reason"], "Invalid");
    assert_eq!(
        status["message"],
        "Widget.valid.test \"w1\" is invalid: [spec.color: Unsupported value: \"pink\": supported values: \"red\", \"green\", \"blue\", spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0]"
    );
    assert_eq!(
        status["details"]["causes"],
        json!([
            {"reason": "FieldValueNotSupported", "field": "spec.color",
             "message": "Unsupported value: \"pink\": supported values: \"red\", \"green\", \"blue\""},
            {"reason": "FieldValueInvalid", "field": "spec.replicas",
             "message": "Invalid value: -1: spec.replicas in body should be greater than or equal to 0"}
        ])
    );
    // A null where the schema allows none is dropped first (kube-apiserver prunes them
    // before defaulting): here that leaves `color` missing.
    let (code, status) = ts
        .raw(
            "POST",
            WIDGETS,
            Some("application/json"),
            &widget(json!({"replicas": "three", "color": null})),
        )
        .await;
    assert_eq!(code, 422, "{status}");
    assert_eq!(
        status["details"]["causes"],
        json!([
            {"reason": "FieldValueRequired", "field": "spec.color", "message": "Required value"},
            {"reason": "FieldValueTypeInvalid", "field": "spec.replicas",
             "message": "Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\""}
        ])
    );

    // Through kubectl: a valid object goes in; invalid patches of it (main resource and
    // status) are refused with the server's words, and nothing is stored.
    let (code, _) = ts
        .raw(
            "POST",
            WIDGETS,
            Some("application/json"),
            &widget(json!({"color": "red", "name": "abc"})),
        )
        .await;
    assert_eq!(code, 201);
    let stderr = ts.kubectl_fails(&[
        "patch",
        "wd",
        "w1",
        "--type=merge",
        "-p",
        r#"{"spec":{"name":"ABC","replicas":11}}"#,
    ]);
    assert!(
        stderr.contains("spec.name: Invalid value: \"ABC\": spec.name in body should match '^[a-z]+$'")
            && stderr.contains("spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10"),
        "{stderr}"
    );
    let refused = ts.kubectl_fails(&[
        "patch",
        "wd",
        "w1",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"phase":"Lost"}}"#,
    ]);
    assert!(
        refused.contains(
            "status.phase: Unsupported value: \"Lost\": supported values: \"Pending\", \"Ready\""
        ),
        "{}",
        refused
    );
    let stored = ts.get_json("wd", "w1").expect("the widget");
    assert_eq!(stored["spec"], json!({"color": "red", "name": "abc"}));
    assert_eq!(stored.get("status"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_128_an_update_is_refused_only_for_the_values_it_changes() {
    let ts = start().await;
    kopf_test_support::create_crd_from(&ts, CRD).await;
    let (code, _) = ts
        .raw(
            "POST",
            WIDGETS,
            Some("application/json"),
            &widget(json!({"color": "red", "replicas": 8})),
        )
        .await;
    assert_eq!(code, 201);
    // The schema tightens: the stored 8 is now over the maximum.
    let crd_path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.valid.test";
    let (_, mut crd) = ts.raw("GET", crd_path, None, "").await;
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["replicas"]
        ["maximum"] = json!(5);
    let (code, body) = ts
        .raw("PUT", crd_path, Some("application/json"), &crd.to_string())
        .await;
    assert_eq!(code, 200, "{body}");
    // Changing another field passes; changing the invalid one to another invalid value does not.
    let (code, body) = ts
        .raw(
            "PATCH",
            &format!("{WIDGETS}/w1"),
            Some("application/merge-patch+json"),
            r#"{"spec":{"color":"green"}}"#,
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = ts
        .raw(
            "PATCH",
            &format!("{WIDGETS}/w1"),
            Some("application/merge-patch+json"),
            r#"{"spec":{"replicas":9}}"#,
        )
        .await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(
        body["details"]["causes"][0]["message"],
        "Invalid value: 9: spec.replicas in body should be less than or equal to 5"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_128_labels_are_validated_on_every_kind() {
    let ts = start().await;
    ts.kubectl_ok(&["create", "configmap", "cm1", "--from-literal=a=b"]);
    let stderr = ts.kubectl_fails(&["label", "configmap", "cm1", "bad key!=x"]);
    assert!(
        stderr.contains("metadata.labels: Invalid value: \"bad key!\""),
        "{stderr}"
    );
    ts.kubectl_fails(&["label", "configmap", "cm1", "ok=bad value!"]);
    ts.kubectl_ok(&["label", "configmap", "cm1", "ok=fine"]);
    let cm = ts.get_json("configmap", "cm1").expect("the config map");
    assert_eq!(cm["metadata"]["labels"], json!({"ok": "fine"}));
}

/// API-131: a CRD whose schema is not structural is refused with every error at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_131_crds_with_non_structural_schemas_are_refused() {
    let ts = start().await;
    let crd = ts.write_file(
        "loose.yaml",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: looses.valid.test}\nspec:\n  group: valid.test\n  scope: Namespaced\n  names: {plural: looses, singular: loose, kind: Loose}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        properties:\n          spec:\n            properties:\n              size: {type: integer}\n",
    );
    let stderr = ts.kubectl_fails(&["apply", "-f", crd.to_str().unwrap()]);
    for line in [
        "spec.versions[0].schema.openAPIV3Schema.type: Required value: must not be empty at the root",
        "spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields",
    ] {
        assert!(stderr.contains(line), "{line} is not in: {stderr}");
    }
    let (code, _) = ts
        .raw(
            "GET",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/looses.valid.test",
            None,
            "",
        )
        .await;
    assert_eq!(code, 404);
}
