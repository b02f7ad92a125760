//! Conformance through unmodified kubectl (§15): get, apply, patch, replace, delete with
//! finalizers, watch, server-side apply.

use kopf_test_support::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

const KEX_YAML: &str =
    "apiVersion: kopf.dev/v1\nkind: KopfExample\nmetadata:\n  name: kex1\nspec:\n  field: value\n";

fn crd_file(ts: &TestServer) -> std::path::PathBuf {
    ts.write_file("crd.json", CRD)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_version_and_get() {
    let ts = start().await;
    let out = ts.kubectl_ok(&["version", "-o", "json"]);
    let version: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(version["serverVersion"]["minor"], "32");
    let out = ts.kubectl_ok(&["get", "namespaces"]);
    assert!(out.contains("kube-system"), "{out}");
    let out = ts.kubectl_ok(&["get", "configmaps", "-A"]);
    assert!(
        out.is_empty() || out.contains("No resources") || out.contains("NAME"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_apply_with_default_validation() {
    let ts = start().await;
    let crd = crd_file(&ts);
    ts.kubectl_ok(&["apply", "-f", crd.to_str().unwrap()]);
    ts.kubectl_ok(&[
        "wait",
        "--for",
        "condition=established",
        "crd/kopfexamples.kopf.dev",
        "--timeout=10s",
    ]);
    let file = ts.write_file("kex.yaml", KEX_YAML);
    ts.kubectl_ok(&["apply", "-f", file.to_str().unwrap()]);
    let out = ts.kubectl_ok(&["get", "kopfexamples", "kex1", "-o", "json"]);
    let object: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(object["spec"]["field"], "value");
    assert!(
        object["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .is_string()
    );
    // A second apply with a change goes through a patch.
    let file = ts.write_file("kex2.yaml", &KEX_YAML.replace("value", "changed"));
    ts.kubectl_ok(&["apply", "-f", file.to_str().unwrap()]);
    let out = ts.kubectl_ok(&["get", "kex", "kex1", "-o", "jsonpath={.spec.field}"]);
    assert_eq!(out, "changed");
    let out = ts.kubectl_ok(&["get", "kopfexamples", "-A"]);
    assert!(out.contains("kex1"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_patch_types() {
    let ts = start().await;
    create_crd(&ts).await;
    ts.raw(
        "POST",
        "/apis/kopf.dev/v1/namespaces/default/kopfexamples",
        Some("application/json"),
        r#"{"metadata":{"name":"k"},"spec":{"a":1}}"#,
    )
    .await;
    ts.kubectl_ok(&[
        "patch",
        "kex",
        "k",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"b":2}}"#,
    ]);
    ts.kubectl_ok(&[
        "patch",
        "kex",
        "k",
        "--type",
        "json",
        "-p",
        r#"[{"op":"replace","path":"/spec/a","value":5}]"#,
    ]);
    let (_, object) = ts
        .raw(
            "GET",
            "/apis/kopf.dev/v1/namespaces/default/kopfexamples/k",
            None,
            "",
        )
        .await;
    assert_eq!(object["spec"], json!({"a": 5, "b": 2}));
    let output = ts.kubectl(&["patch", "kex", "k", "-p", r#"{"spec":{"c":3}}"#]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"),
        "{stderr}"
    );
    // Strategic on a built-in works.
    ts.raw(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        Some("application/json"),
        r#"{"metadata":{"name":"c"}}"#,
    )
    .await;
    ts.kubectl_ok(&["patch", "configmap", "c", "-p", r#"{"data":{"x":"y"}}"#]);
    let out = ts.kubectl_ok(&["get", "cm", "c", "-o", "jsonpath={.data.x}"]);
    assert_eq!(out, "y");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_replace() {
    let ts = start().await;
    ts.raw(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        Some("application/json"),
        r#"{"metadata":{"name":"c"},"data":{"a":"1"}}"#,
    )
    .await;
    let out = ts.kubectl_ok(&["get", "cm", "c", "-o", "json"]);
    let mut object: Value = serde_json::from_str(&out).unwrap();
    object["data"]["a"] = json!("2");
    let file = ts.write_file("c.json", &object.to_string());
    ts.kubectl_ok(&["replace", "-f", file.to_str().unwrap()]);
    let out = ts.kubectl_ok(&["get", "cm", "c", "-o", "jsonpath={.data.a}"]);
    assert_eq!(out, "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_delete_waits_for_finalizers() {
    let ts = start().await;
    create_crd(&ts).await;
    ts.raw(
        "POST",
        "/apis/kopf.dev/v1/namespaces/default/kopfexamples",
        Some("application/json"),
        r#"{"metadata":{"name":"k","finalizers":["kopf.zalando.org/KopfFinalizerMarker"]},"spec":{}}"#,
    )
    .await;
    let kubeconfig = ts.kubeconfig.clone();
    let home = ts.dir.clone();
    let delete = tokio::task::spawn_blocking(move || {
        kubectl(&kubeconfig, &home, &["delete", "kex", "k", "--timeout=30s"])
    });
    wait_for("deletionTimestamp", Duration::from_secs(10), || async {
        let (_, object) = ts
            .raw(
                "GET",
                "/apis/kopf.dev/v1/namespaces/default/kopfexamples/k",
                None,
                "",
            )
            .await;
        object["metadata"]["deletionTimestamp"]
            .is_string()
            .then_some(())
    })
    .await;
    assert!(!delete.is_finished(), "kubectl must wait for the finalizer");
    let (code, _) = ts
        .raw(
            "PATCH",
            "/apis/kopf.dev/v1/namespaces/default/kopfexamples/k",
            Some("application/merge-patch+json"),
            r#"{"metadata":{"finalizers":null}}"#,
        )
        .await;
    assert_eq!(code, 200);
    let output = tokio::time::timeout(Duration::from_secs(20), delete)
        .await
        .unwrap()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("deleted"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_watch_prints_changes() {
    let ts = start().await;
    ts.raw(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        Some("application/json"),
        r#"{"metadata":{"name":"first"}}"#,
    )
    .await;
    let mut child = kubectl_command(&ts.kubeconfig, &ts.dir)
        .args(["get", "configmaps", "-w", "--no-headers"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    let first = tokio::time::timeout(Duration::from_secs(15), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(first.starts_with("first"), "{first}");
    ts.raw(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        Some("application/json"),
        r#"{"metadata":{"name":"second"}}"#,
    )
    .await;
    let second = tokio::time::timeout(Duration::from_secs(15), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(second.starts_with("second"), "{second}");
    child.kill().unwrap();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_apply_server_side() {
    let ts = start().await;
    let file = ts.write_file(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: b\n",
    );
    ts.kubectl_ok(&["apply", "--server-side", "-f", file.to_str().unwrap()]);
    let out = ts.kubectl_ok(&["get", "cm", "ssa", "-o", "json"]);
    let object: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(object["data"]["a"], "b");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_04_kubectl_create_generators_post_protobuf() {
    let ts = start().await;
    ts.kubectl_ok(&["create", "namespace", "gen-ns"]);
    ts.kubectl_ok(&[
        "create",
        "configmap",
        "gen-cm",
        "--from-literal=a=b",
        "-n",
        "gen-ns",
    ]);
    ts.kubectl_ok(&[
        "create",
        "secret",
        "generic",
        "gen-s",
        "--from-literal=a=b",
        "-n",
        "gen-ns",
    ]);
    let (_, ns) = ts.raw("GET", "/api/v1/namespaces/gen-ns", None, "").await;
    assert_eq!(ns["status"]["phase"], "Active");
    let (_, cm) = ts
        .raw(
            "GET",
            "/api/v1/namespaces/gen-ns/configmaps/gen-cm",
            None,
            "",
        )
        .await;
    assert_eq!(cm["data"], json!({"a": "b"}));
    let (_, secret) = ts
        .raw("GET", "/api/v1/namespaces/gen-ns/secrets/gen-s", None, "")
        .await;
    assert_eq!(secret["data"], json!({"a": "Yg=="}));
    assert_eq!(secret["type"], "Opaque");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_03_kubectl_get_prints_names_and_ages() {
    let ts = start().await;
    create_crd(&ts).await;
    ts.raw(
        "POST",
        "/apis/kopf.dev/v1/namespaces/default/kopfexamples",
        Some("application/json"),
        r#"{"metadata":{"name":"k1"},"spec":{}}"#,
    )
    .await;
    let out = ts.kubectl_ok(&["get", "kopfexamples"]);
    eprintln!("{out}");
    let header = out.lines().next().unwrap();
    assert!(header.starts_with("NAME"), "{out}");
    assert!(header.contains("AGE"), "{out}");
    assert!(out.lines().nth(1).unwrap().starts_with("k1"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_115_kubectl_describe_shows_kopf_events() {
    let ts = start().await;
    create_crd(&ts).await;
    let (_, object) = ts
        .raw(
            "POST",
            "/apis/kopf.dev/v1/namespaces/default/kopfexamples",
            Some("application/json"),
            r#"{"metadata":{"name":"k"},"spec":{}}"#,
        )
        .await;
    let event = json!({
        "metadata": {"generateName": "kopf-event-"},
        "involvedObject": {"apiVersion": "kopf.dev/v1", "kind": "KopfExample", "name": "k", "namespace": "default", "uid": object["metadata"]["uid"]},
        "reason": "Logging", "message": "Handler 'create_fn' succeeded.", "type": "Normal",
        "source": {"component": "kopf"},
        "firstTimestamp": "2026-11-25T05:36:56Z", "lastTimestamp": "2026-11-25T05:36:56Z",
        "eventTime": "2026-11-25T05:36:56.928290Z",
        "action": "Action", "reportingComponent": "kopf", "reportingInstance": "dev",
    });
    let (code, _) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/default/events",
            Some("application/json"),
            &event.to_string(),
        )
        .await;
    assert_eq!(code, 201);
    let out = ts.kubectl_ok(&["describe", "kopfexample", "k"]);
    assert!(out.contains("Handler 'create_fn' succeeded."), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_83_kubectl_apply_twice_on_a_builtin_uses_strategic_merge() {
    let ts = start().await;
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        image: nginx:1\n        ports:\n        - containerPort: 80\n";
    let file = ts.write_file("deploy.yaml", deployment);
    ts.kubectl_ok(&["apply", "-f", file.to_str().unwrap()]);
    let file = ts.write_file(
        "deploy2.yaml",
        &deployment
            .replace("nginx:1", "nginx:2")
            .replace("replicas: 1", "replicas: 3"),
    );
    ts.kubectl_ok(&["apply", "-f", file.to_str().unwrap()]);
    let out = ts.kubectl_ok(&["get", "deployment", "web", "-o", "json"]);
    let object: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(object["spec"]["replicas"], 3);
    let container = &object["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "nginx:2");
    assert_eq!(container["name"], "web");
    let text = object.to_string();
    assert!(!text.contains("$setElementOrder"), "{text}");
}

/// API-129: `kubectl get all` lists the workloads and services (built-ins carry the `all`
/// category); the namespaces kube-apiserver never deletes are refused; a patch that renames
/// the object is a 400; a conflict with an `Update` manager names when it wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_129_kubectl_get_all_immortal_namespaces_renames_and_update_conflicts() {
    let ts = start().await;
    ts.kubectl_ok(&["create", "deployment", "web", "--image=nginx"]);
    ts.kubectl_ok(&["create", "service", "clusterip", "web", "--tcp=80:8080"]);
    ts.kubectl_ok(&["create", "configmap", "cm1", "--from-literal=a=b"]);
    let all = ts.kubectl_ok(&["get", "all", "-o", "name"]);
    let mut names: Vec<&str> = all.lines().collect();
    names.sort();
    assert_eq!(names, ["deployment.apps/web", "service/web"], "{all}");

    for namespace in ["default", "kube-system"] {
        let refused = ts.kubectl_fails(&["delete", "namespace", namespace]);
        assert!(
            refused.contains(&format!(
                "namespaces \"{namespace}\" is forbidden: this namespace may not be deleted"
            )),
            "{}",
            refused
        );
    }
    ts.kubectl_ok(&["create", "configmap", "still-there"]);
    // Namespaces are labelled with their names; kubectl's protobuf body leaves no empty
    // generateName behind.
    ts.kubectl_ok(&["create", "namespace", "ns1"]);
    for namespace in ["default", "ns1"] {
        let ns = ts.get_json("namespace", namespace).expect("the namespace");
        assert_eq!(
            ns["metadata"]["labels"],
            json!({"kubernetes.io/metadata.name": namespace}),
            "{ns}"
        );
        assert_eq!(ns["metadata"].get("generateName"), None, "{ns}");
    }

    let refused = ts.kubectl_fails(&[
        "patch",
        "configmap",
        "cm1",
        "--type=merge",
        "-p",
        r#"{"metadata":{"name":"renamed"}}"#,
    ]);
    assert!(
        refused
            .contains("the name of the object (renamed) does not match the name on the URL (cm1)"),
        "{}",
        refused
    );

    // `kubectl scale` writes as an Update manager; a server-side apply of the same field
    // then conflicts with it, and the message says when it wrote (RFC 3339, UTC).
    ts.kubectl_ok(&["scale", "deployment", "web", "--replicas=3"]);
    let manifest = ts.write_file(
        "web.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 5\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - {name: nginx, image: nginx}\n",
    );
    let stderr = ts.kubectl_fails(&[
        "apply",
        "--server-side",
        "--field-manager=ci",
        "-f",
        manifest.to_str().unwrap(),
    ]);
    let at = stderr
        .split("conflict with \"kubectl\" with subresource \"scale\" using apps/v1 at ")
        .nth(1)
        .unwrap_or_else(|| panic!("no scale writer and time in: {stderr}"));
    let time = &at[..at
        .find(": .spec.replicas")
        .expect("the field after the time")];
    assert!(
        time.parse::<jiff::Timestamp>().is_ok() && time.ends_with('Z'),
        "{time}"
    );
    let (_, web) = ts
        .raw(
            "GET",
            "/apis/apps/v1/namespaces/default/deployments/web",
            None,
            "",
        )
        .await;
    let scaler = web["metadata"]["managedFields"]
        .as_array()
        .and_then(|entries| entries.iter().find(|e| e["manager"] == "kubectl"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (
            &scaler["operation"],
            &scaler["subresource"],
            &scaler["fieldsV1"]
        ),
        (
            &json!("Update"),
            &json!("scale"),
            &json!({"f:spec": {"f:replicas": {}}})
        ),
        "{web}"
    );
}
