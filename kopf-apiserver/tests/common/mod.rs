//! Shared helpers for the conformance tests: a started server, a kube client, raw requests,
//! kubectl, and waiting on conditions.

#![allow(dead_code)]

use http_body_util::BodyExt;
use kopf_apiserver::{RunningServer, ServerConfig, Transport};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub struct TestServer {
    pub server: RunningServer,
    pub client: kube::Client,
    pub dir: PathBuf,
    pub kubeconfig: PathBuf,
}

/// A server over HTTPS with a token, a kube client for it, and a kubeconfig file.
pub async fn start() -> TestServer {
    start_with(ServerConfig::in_memory()).await
}

/// The same over plain HTTP without authentication.
pub async fn start_http() -> TestServer {
    start_with(ServerConfig {
        transport: Transport::InsecureHttp,
        ..ServerConfig::in_memory()
    })
    .await
}

pub async fn start_with(config: ServerConfig) -> TestServer {
    let server = RunningServer::start(config)
        .await
        .expect("the server starts");
    TestServer::wrap(server).await
}

impl TestServer {
    /// Wraps an already started server: a scratch dir, its kubeconfig and a client.
    pub async fn wrap(server: RunningServer) -> TestServer {
        let dir =
            std::env::temp_dir().join(format!("kopf-apiserver-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let kubeconfig = dir.join("kubeconfig");
        server.write_kubeconfig(&kubeconfig).unwrap();
        let client = client_for(&server).await;
        TestServer {
            server,
            client,
            dir,
            kubeconfig,
        }
    }
}

pub async fn client_for(server: &RunningServer) -> kube::Client {
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&server.kubeconfig()).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    kube::Client::try_from(config).unwrap()
}

impl TestServer {
    /// A raw request through the kube client (auth and TLS included): status and JSON body.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &str,
    ) -> (u16, Value) {
        let (code, bytes) = self.raw_bytes(method, path, content_type, body).await;
        let value = serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (code, value)
    }

    pub async fn raw_bytes(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &str,
    ) -> (u16, Vec<u8>) {
        let mut builder = http::Request::builder().method(method).uri(path);
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        let request = builder.body(body.as_bytes().to_vec()).unwrap();
        let response = self
            .client
            .send(request.map(kube::client::Body::from))
            .await
            .unwrap();
        let code = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        (code, bytes)
    }

    pub fn kubectl(&self, args: &[&str]) -> Output {
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .env("HOME", &self.dir)
            .output()
            .expect("kubectl runs")
    }

    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let output = self.kubectl(args);
        assert!(
            output.status.success(),
            "kubectl {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    pub fn write_file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

/// Polls `check` until it returns `Some`, failing after `timeout`.
pub async fn wait_for<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A CRD for `kopfexamples.kopf.dev` with a status subresource and a schema that preserves
/// unknown fields under `spec` and `status`.
pub const CRD: &str = r#"{
  "apiVersion": "apiextensions.k8s.io/v1",
  "kind": "CustomResourceDefinition",
  "metadata": {"name": "kopfexamples.kopf.dev"},
  "spec": {
    "group": "kopf.dev",
    "scope": "Namespaced",
    "names": {"plural": "kopfexamples", "singular": "kopfexample", "kind": "KopfExample", "shortNames": ["kex"]},
    "versions": [{
      "name": "v1", "served": true, "storage": true,
      "subresources": {"status": {}},
      "schema": {"openAPIV3Schema": {
        "type": "object",
        "properties": {
          "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
          "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
        }
      }}
    }]
  }
}"#;

pub async fn create_crd(ts: &TestServer) {
    let (code, body) = ts
        .raw(
            "POST",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            Some("application/json"),
            CRD,
        )
        .await;
    assert_eq!(code, 201, "{body}");
}

/// The namespaced collection of the test CRD's objects.
pub const KEX: &str = "/apis/kopf.dev/v1/namespaces/default/kopfexamples";

/// Creates a test-CRD object in `default`; asserts the 201.
pub async fn kex(ts: &TestServer, body: Value) -> Value {
    let (code, created) = ts
        .raw("POST", KEX, Some("application/json"), &body.to_string())
        .await;
    assert_eq!(code, 201, "{created}");
    created
}

/// A JSON merge-patch of `path`: status and body.
pub async fn merge(ts: &TestServer, path: &str, patch: Value) -> (u16, Value) {
    ts.raw(
        "PATCH",
        path,
        Some("application/merge-patch+json"),
        &patch.to_string(),
    )
    .await
}
