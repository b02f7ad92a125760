//! Rule API-133: a built-in object with a value of the wrong type is refused as
//! kube-apiserver's decoder refuses it — 400 BadRequest, `KIND in version "V" cannot be
//! handled as a KIND: json: cannot unmarshal TYPE into Go struct field STRUCT.path of type
//! GOTYPE` — and nothing is stored; what Go's decoding accepts (quantities as numbers, ports
//! by name, nulls) is accepted.

use kopf_test_support::*;
use serde_json::{Value, json};

const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";

fn deployment(name: &str, replicas: Value, port: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "nginx",
                    "ports": [{"containerPort": port}],
                    "resources": {"limits": {"cpu": 1, "memory": "64Mi"}}}]}}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_133_values_of_the_wrong_type_are_refused_as_kube_apiserver_decodes() {
    let ts = start().await;
    let post = |body: Value| {
        let ts = &ts;
        async move {
            ts.raw(
                "POST",
                DEPLOYMENTS,
                Some("application/json"),
                &body.to_string(),
            )
            .await
        }
    };
    let (code, status) = post(deployment("two", json!("two"), json!(80))).await;
    assert_eq!(code, 400, "{status}");
    assert_eq!(status["reason"], "BadRequest");
    assert_eq!(
        status["message"],
        "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
    );
    let (code, _) = ts.raw("GET", &format!("{DEPLOYMENTS}/two"), None, "").await;
    assert_eq!(code, 404, "nothing is stored");

    // Quantities as numbers, a null and a port by number are what Go accepts.
    let (code, created) = post(deployment("web", json!(null), json!(80))).await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(
        created["spec"]["replicas"], 1,
        "a null is left out, then defaulted"
    );

    // A patch that would store a value of the wrong type is refused; the object stays.
    let patch = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "app", "ports": [{"containerPort": "80"}]}]}}}});
    let (code, status) = ts
        .raw(
            "PATCH",
            &format!("{DEPLOYMENTS}/web"),
            Some("application/strategic-merge-patch+json"),
            &patch.to_string(),
        )
        .await;
    assert_eq!(code, 400, "{status}");
    assert_eq!(
        status["message"],
        "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field ContainerPort.spec.template.spec.containers.ports.containerPort of type int32"
    );
    let (_, stored) = ts.raw("GET", &format!("{DEPLOYMENTS}/web"), None, "").await;
    assert_eq!(
        stored["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"],
        80
    );
}

/// The mistake kubectl users make most: a number in a ConfigMap's data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_133_kubectl_shows_the_decoders_message() {
    let ts = start().await;
    let manifest = ts.dir.join("cm.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  port: 8080\n",
    )
    .expect("write the manifest");
    let path = manifest.to_string_lossy().to_string();
    let stderr = ts.kubectl_fails(&["apply", "-f", &path]);
    assert!(
        stderr.contains(
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("Error from server (BadRequest)"),
        "{stderr}"
    );
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  port: \"8080\"\n",
    )
    .expect("write the manifest");
    ts.kubectl_ok(&["apply", "-f", &path]);
    let stored = ts.kubectl_ok(&["get", "cm", "settings", "-o", "jsonpath={.data.port}"]);
    assert_eq!(stored, "8080");
}
