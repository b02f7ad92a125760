//! The library surface: manifests, test hooks, shutdown, durability across restarts.

use kopf_apiserver::{RunningServer, ServerConfig};
use kopf_test_support::*;
use serde_json::json;

#[tokio::test]
async fn apply_manifests_creates_then_updates() {
    let ts = start().await;
    let crd_yaml =
        serde_yaml_ng::to_string(&serde_json::from_str::<serde_json::Value>(CRD).unwrap()).unwrap();
    let manifest = format!(
        "{crd_yaml}---\napiVersion: kopf.dev/v1\nkind: KopfExample\nmetadata:\n  name: k\nspec:\n  a: 1\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: kube-system\ndata:\n  x: y\n"
    );
    let applied = ts.server.apply_manifests(&manifest).await.unwrap();
    assert_eq!(
        applied,
        [
            "customresourcedefinition/kopfexamples.kopf.dev",
            "kopfexample/k",
            "configmap/c"
        ]
    );
    let (code, body) = ts
        .raw(
            "GET",
            "/apis/kopf.dev/v1/namespaces/default/kopfexamples/k",
            None,
            "",
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(body["spec"]["a"], 1);
    let again = ts
        .server
        .apply_manifests(&manifest.replace("a: 1", "a: 2"))
        .await
        .unwrap();
    assert_eq!(again.len(), 3);
    let (_, body) = ts
        .raw(
            "GET",
            "/apis/kopf.dev/v1/namespaces/default/kopfexamples/k",
            None,
            "",
        )
        .await;
    assert_eq!(body["spec"]["a"], 2);
    assert!(ts.server.apply_manifests("kind: [").await.is_err());
    assert!(
        ts.server
            .apply_manifests("apiVersion: nope/v1\nkind: Nope\nmetadata:\n  name: x\n")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn request_counts_and_recording() {
    let ts = start().await;
    let control = ts.server.control();
    control.reset_request_counts();
    control.record_requests(true);
    ts.raw(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        Some("application/json"),
        r#"{"metadata":{"name":"c"}}"#,
    )
    .await;
    ts.raw(
        "PATCH",
        "/api/v1/namespaces/default/configmaps/c?fieldManager=x",
        Some("application/merge-patch+json"),
        r#"{"data":{"a":"b"}}"#,
    )
    .await;
    ts.raw("GET", "/api/v1/namespaces/default/configmaps/c", None, "")
        .await;
    ts.raw("GET", "/api/v1/namespaces/default/configmaps", None, "")
        .await;
    control.record_requests(false);
    ts.raw(
        "DELETE",
        "/api/v1/namespaces/default/configmaps/c",
        None,
        "",
    )
    .await;
    let counts = control.request_counts();
    for verb in ["create", "patch", "get", "list", "delete"] {
        assert_eq!(counts.get(verb), Some(&1), "{verb}: {counts:?}");
    }
    let recorded = control.recorded_requests();
    assert_eq!(recorded.len(), 4);
    let patch = &recorded[1];
    assert_eq!(patch.method, "PATCH");
    assert_eq!(patch.path, "/api/v1/namespaces/default/configmaps/c");
    assert_eq!(patch.query, "fieldManager=x");
    assert_eq!(patch.content_type, "application/merge-patch+json");
    assert_eq!(patch.body, r#"{"data":{"a":"b"}}"#);
}

#[tokio::test]
async fn durable_storage_survives_a_restart_with_crds() {
    let dir = scratch_dir("durable").join("data");
    let server = RunningServer::start(ServerConfig::durable(&dir))
        .await
        .unwrap();
    let ts = TestServer::wrap(server).await;
    create_crd(&ts).await;
    let (code, _) = ts
        .raw(
            "POST",
            "/apis/kopf.dev/v1/namespaces/default/kopfexamples",
            Some("application/json"),
            r#"{"metadata":{"name":"k"},"spec":{"a":1}}"#,
        )
        .await;
    assert_eq!(code, 201);
    let rv = ts.server.control().resource_version();
    ts.server.shutdown().await;

    let server = RunningServer::start(ServerConfig::durable(&dir))
        .await
        .unwrap();
    assert!(server.control().resource_version() >= rv);
    let ts = TestServer::wrap(server).await;
    let (code, body) = ts
        .raw(
            "GET",
            "/apis/kopf.dev/v1/namespaces/default/kopfexamples/k",
            None,
            "",
        )
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["spec"], json!({"a": 1}));
    let (code, _) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            Some("application/json"),
            r#"{"metadata":{"name":"c"}}"#,
        )
        .await;
    assert_eq!(code, 201);
    assert!(ts.server.control().resource_version() > rv);
    ts.server.shutdown().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn shutdown_ends_watches_and_stops_listening() {
    let ts = start().await;
    let addr = ts.server.addr();
    let request = http::Request::get("/api/v1/namespaces/default/configmaps?watch=true")
        .body(Vec::new())
        .unwrap();
    let response = ts
        .client
        .send(request.map(kube::client::Body::from))
        .await
        .unwrap();
    let TestServer { server, .. } = ts;
    tokio::time::timeout(std::time::Duration::from_secs(10), server.shutdown())
        .await
        .unwrap();
    use http_body_util::BodyExt;
    let end = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        response.into_body().collect(),
    )
    .await;
    assert!(end.is_ok(), "the watch ended");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
