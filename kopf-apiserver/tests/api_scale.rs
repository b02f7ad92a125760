//! Rule API-123: `/scale` (autoscaling/v1 Scale) is served for CRDs that declare
//! `subresources.scale` and for deployments: GET shows the replicas and the selector,
//! PUT and PATCH write `spec.replicas` into the object, discovery lists `…/scale`, and
//! `kubectl scale` works.

use kopf_test_support::start;
use serde_json::json;

const GIZMO_CRD: &str = r#"{
  "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
  "metadata": {"name": "gizmos.example.com"},
  "spec": {"group": "example.com", "scope": "Namespaced",
    "names": {"plural": "gizmos", "singular": "gizmo", "kind": "Gizmo", "shortNames": ["gz"]},
    "versions": [{"name": "v1", "served": true, "storage": true,
      "subresources": {"status": {}, "scale": {
        "specReplicasPath": ".spec.size", "statusReplicasPath": ".status.size",
        "labelSelectorPath": ".status.selector"}},
      "schema": {"openAPIV3Schema": {"type": "object", "properties": {
        "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}]}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_123_scale_subresource_for_crds_and_deployments() {
    let ts = start().await;
    kopf_test_support::create_crd_from(&ts, GIZMO_CRD).await;
    let gizmos = "/apis/example.com/v1/namespaces/default/gizmos";
    let gizmo = json!({"apiVersion": "example.com/v1", "kind": "Gizmo",
        "metadata": {"name": "g1"}, "spec": {"size": 1}});
    let (code, body) = ts
        .raw("POST", gizmos, Some("application/json"), &gizmo.to_string())
        .await;
    assert_eq!(code, 201, "{body}");

    let (code, discovery) = ts.raw("GET", "/apis/example.com/v1", None, "").await;
    assert_eq!(code, 200);
    let row = discovery["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "gizmos/scale"))
        .cloned()
        .expect("gizmos/scale is discovered");
    assert_eq!(
        (&row["group"], &row["version"], &row["kind"]),
        (&json!("autoscaling"), &json!("v1"), &json!("Scale"))
    );

    let (code, scale) = ts.raw("GET", &format!("{gizmos}/g1/scale"), None, "").await;
    assert_eq!(code, 200, "{scale}");
    assert_eq!(
        (
            &scale["kind"],
            &scale["apiVersion"],
            &scale["spec"]["replicas"]
        ),
        (&json!("Scale"), &json!("autoscaling/v1"), &json!(1))
    );

    ts.kubectl_ok(&["scale", "gizmo", "g1", "--replicas=5"]);
    let (_, object) = ts.raw("GET", &format!("{gizmos}/g1"), None, "").await;
    assert_eq!(object["spec"]["size"], 5, "{object}");

    let put = json!({"apiVersion": "autoscaling/v1", "kind": "Scale",
        "metadata": {"name": "g1", "namespace": "default"}, "spec": {"replicas": 2}});
    let (code, scale) = ts
        .raw(
            "PUT",
            &format!("{gizmos}/g1/scale"),
            Some("application/json"),
            &put.to_string(),
        )
        .await;
    assert_eq!(
        (code, &scale["spec"]["replicas"]),
        (200, &json!(2)),
        "{scale}"
    );
    let (code, error) = ts
        .raw(
            "PATCH",
            &format!("{gizmos}/g1/scale"),
            Some("application/merge-patch+json"),
            r#"{"spec":{"replicas":-1}}"#,
        )
        .await;
    assert_eq!(code, 422, "{error}");

    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}});
    let file = ts.write_file("deployment.json", &deployment.to_string());
    ts.kubectl_ok(&["apply", "-f", file.to_str().unwrap()]);
    ts.kubectl_ok(&["scale", "deployment", "web", "--replicas=3"]);
    let (_, scale) = ts
        .raw(
            "GET",
            "/apis/apps/v1/namespaces/default/deployments/web/scale",
            None,
            "",
        )
        .await;
    assert_eq!(scale["spec"]["replicas"], 3, "{scale}");
    assert_eq!(scale["status"]["selector"], "app=web");

    // A Scale's table: kube-apiserver's NAME, DESIRED and AVAILABLE.
    let out = ts.kubectl_ok(&["get", "deployment", "web", "--subresource=scale"]);
    let lines: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines,
        [vec!["NAME", "DESIRED", "AVAILABLE"], vec!["web", "3", "0"]],
        "{out}"
    );
}
