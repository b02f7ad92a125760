//! Rule API-127: server-side apply merges and owns lists by their types. A CRD's schema
//! declares them (`x-kubernetes-list-type: map` with `x-kubernetes-list-map-keys`, `set`,
//! `atomic`, the default); built-in kinds' keyed lists (containers by name, ports by port
//! and protocol, env, volumes, conditions…) are maps; `metadata.finalizers` is a set and
//! `ownerReferences` a map by uid. Managers own map items' fields (`k:{"name":"web"}`) and
//! set items (`v:"x"`) one by one: two managers each applying their own items both keep
//! them; a conflict names the item's field as kube-apiserver prints it
//! (`.spec.containers[name="web"].image`); an item a manager stops applying, and alone
//! owned, is removed.

use kopf_test_support::start;
use serde_json::{Value, json};

const WIDGET_CRD: &str = r#"{
  "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
  "metadata": {"name": "widgets.example.com"},
  "spec": {"group": "example.com", "scope": "Namespaced",
    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
    "versions": [{"name": "v1", "served": true, "storage": true,
      "schema": {"openAPIV3Schema": {"type": "object", "properties": {
        "spec": {"type": "object", "properties": {
          "ports": {"type": "array", "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "items": {"type": "object", "properties": {
              "name": {"type": "string"}, "port": {"type": "integer"}}}},
          "tags": {"type": "array", "x-kubernetes-list-type": "set",
            "items": {"type": "string"}},
          "args": {"type": "array", "items": {"type": "string"}}}}}}}}]}}"#;

const WIDGETS: &str = "/apis/example.com/v1/namespaces/default/widgets";

/// A manager's `Apply` entry's FieldsV1, if it has one.
fn fields_of<'a>(object: &'a Value, manager: &str) -> Option<&'a Value> {
    object["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager && e["operation"] == "Apply")
        .map(|e| &e["fieldsV1"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_127_schema_list_types_merge_and_own_items() {
    let ts = start().await;
    kopf_test_support::create_crd_from(&ts, WIDGET_CRD).await;
    let apply = |manager: &str, spec: Value| {
        let body = json!({"apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w1"}, "spec": spec});
        let path = format!("{WIDGETS}/w1?fieldManager={manager}");
        let ts = &ts;
        async move {
            ts.raw(
                "PATCH",
                &path,
                Some("application/apply-patch+yaml"),
                &body.to_string(),
            )
            .await
        }
    };

    let (code, body) = apply(
        "a",
        json!({"ports": [{"name": "http", "port": 80}], "tags": ["blue"], "args": ["-v"]}),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    let (code, merged) = apply(
        "b",
        json!({"ports": [{"name": "metrics", "port": 9090}], "tags": ["fast"]}),
    )
    .await;
    assert_eq!(code, 200, "{merged}");
    assert_eq!(
        merged["spec"],
        json!({"ports": [{"name": "http", "port": 80}, {"name": "metrics", "port": 9090}],
               "tags": ["blue", "fast"], "args": ["-v"]})
    );
    assert_eq!(
        fields_of(&merged, "b"),
        Some(&json!({"f:spec": {
            "f:ports": {"k:{\"name\":\"metrics\"}": {".": {}, "f:name": {}, "f:port": {}}},
            "f:tags": {"v:\"fast\"": {}}}}))
    );

    // An atomic list is one field: another value for it conflicts as a whole.
    let (code, refused) = apply("b", json!({"args": ["-q"]})).await;
    assert_eq!(code, 409, "{refused}");
    assert_eq!(
        refused["message"],
        "Apply failed with 1 conflict: conflict with \"a\": .spec.args"
    );
    // Another value for a's item's field conflicts on that field alone.
    let (code, refused) = apply("b", json!({"ports": [{"name": "http", "port": 8080}]})).await;
    assert_eq!(code, 409, "{refused}");
    assert_eq!(
        refused["message"],
        "Apply failed with 1 conflict: conflict with \"a\": .spec.ports[name=\"http\"].port"
    );

    // a stops applying its port and tag: it alone owned them, so they go; b's stay.
    let (code, after) = apply("a", json!({"args": ["-v"]})).await;
    assert_eq!(code, 200, "{after}");
    assert_eq!(
        after["spec"],
        json!({"ports": [{"name": "metrics", "port": 9090}], "tags": ["fast"], "args": ["-v"]})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_127_kubectl_managers_share_a_deployments_containers() {
    let ts = start().await;
    let web = ts.write_file(
        "web.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\n\
         spec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    \
         spec:\n      containers:\n      - {name: web, image: \"nginx:1\"}\n",
    );
    let side = ts.write_file(
        "side.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\n\
         spec:\n  template:\n    spec:\n      containers:\n      - {name: side, image: envoy}\n",
    );
    let bump = ts.write_file(
        "bump.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\n\
         spec:\n  template:\n    spec:\n      containers:\n      - {name: web, image: \"nginx:2\"}\n",
    );
    let path = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let apply = |manager: &str, file: &std::path::Path, force: bool| {
        let mut args = vec![
            "apply".to_string(),
            "--server-side".into(),
            format!("--field-manager={manager}"),
            "-f".into(),
            path(file),
        ];
        if force {
            args.push("--force-conflicts".into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ts.kubectl(&args)
    };
    let images = || {
        ts.kubectl_ok(&[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={range .spec.template.spec.containers[*]}{.name}={.image} {end}",
        ])
    };

    assert!(apply("a", &web, false).status.success());
    let added = apply("b", &side, false);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    assert_eq!(images().trim(), "web=nginx:1 side=envoy");

    let refused = apply("b", &bump, false);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(
            "Apply failed with 1 conflict: conflict with \"a\": .spec.template.spec.containers[name=\"web\"].image"
        ),
        "{stderr}"
    );
    let forced = apply("b", &bump, true);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    // b's config now has web's image and no sidecar: the sidecar, b's alone, is gone.
    assert_eq!(images().trim(), "web=nginx:2");
    let shown = ts.kubectl_ok(&[
        "get",
        "deployment",
        "web",
        "-o",
        "yaml",
        "--show-managed-fields",
    ]);
    assert!(shown.contains(r#"k:{"name":"web"}:"#), "{shown}");
}
