//! An embedded `kopf_apiserver::RunningServer` ready for tests: started on a loopback port,
//! with a scratch directory, its kubeconfig written there, a kube client, kubectl and raw
//! requests against it.

use crate::{client_for, kubectl, kubectl_ok, scratch_dir};
use http_body_util::BodyExt;
use kopf_apiserver::{RunningServer, ServerConfig, Transport};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Output;

/// A started server and what tests use to reach it.
pub struct TestServer {
    pub server: RunningServer,
    pub client: kube::Client,
    /// The scratch directory: the kubeconfig, kubectl's HOME, files written by the test.
    pub dir: PathBuf,
    pub kubeconfig: PathBuf,
}

/// A server in memory over HTTPS with a bearer token.
pub async fn start() -> TestServer {
    start_with(ServerConfig::in_memory()).await
}

/// A server in memory over plain HTTP without authentication.
pub async fn start_http() -> TestServer {
    start_with(ServerConfig {
        transport: Transport::InsecureHttp,
        ..ServerConfig::in_memory()
    })
    .await
}

/// A server with any configuration.
pub async fn start_with(config: ServerConfig) -> TestServer {
    let server = RunningServer::start(config)
        .await
        .expect("the server starts");
    TestServer::wrap(server).await
}

impl TestServer {
    /// Wraps an already started server, with a new scratch dir.
    pub async fn wrap(server: RunningServer) -> TestServer {
        TestServer::wrap_in(server, scratch_dir("apiserver")).await
    }

    /// Wraps an already started server, with `dir` for its kubeconfig and kubectl's HOME.
    pub async fn wrap_in(server: RunningServer, dir: PathBuf) -> TestServer {
        let kubeconfig = dir.join("kubeconfig");
        server
            .write_kubeconfig(&kubeconfig)
            .expect("write the kubeconfig");
        let client = client_for(&server.kubeconfig()).await;
        TestServer {
            server,
            client,
            dir,
            kubeconfig,
        }
    }

    /// A raw request through the kube client (auth and TLS included): status and JSON body
    /// (or the body as a JSON string if it is not JSON).
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

    /// A raw request: status and body bytes.
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
        let request = builder.body(body.as_bytes().to_vec()).expect("a request");
        let response = self
            .client
            .send(request.map(kube::client::Body::from))
            .await
            .unwrap_or_else(|err| panic!("{method} {path}: {err}"));
        let code = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .unwrap_or_else(|err| panic!("{method} {path}: reading the body: {err}"))
            .to_bytes()
            .to_vec();
        (code, bytes)
    }

    /// A GET with an `Accept` header: status and JSON body.
    pub async fn raw_accept(&self, path: &str, accept: &str) -> (u16, Value) {
        let request = http::Request::builder()
            .method("GET")
            .uri(path)
            .header("accept", accept)
            .body(Vec::new())
            .expect("a request");
        let response = self
            .client
            .send(request.map(kube::client::Body::from))
            .await
            .unwrap_or_else(|err| panic!("GET {path}: {err}"));
        let code = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .unwrap_or_else(|err| panic!("GET {path}: reading the body: {err}"))
            .to_bytes();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (code, value)
    }

    /// kubectl against this server (blocking: use a multi-thread runtime in async tests).
    pub fn kubectl(&self, args: &[&str]) -> Output {
        kubectl(&self.kubeconfig, &self.dir, args)
    }

    /// kubectl against this server; asserts success and returns stdout.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        kubectl_ok(&self.kubeconfig, &self.dir, args)
    }

    /// kubectl against this server, expected to fail; returns its stderr (the server's
    /// message as kubectl prints it).
    pub fn kubectl_fails(&self, args: &[&str]) -> String {
        let output = self.kubectl(args);
        assert!(!output.status.success(), "kubectl {args:?} succeeded");
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    /// The object as JSON via `kubectl get -o json`, or `None` when kubectl fails (e.g.
    /// because it does not exist).
    pub fn get_json(&self, kind: &str, name: &str) -> Option<Value> {
        let output = self.kubectl(&["get", kind, name, "-o", "json"]);
        if !output.status.success() {
            return None;
        }
        serde_json::from_slice(&output.stdout).ok()
    }

    /// Writes a file into the scratch dir and returns its path.
    pub fn write_file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, text)
            .unwrap_or_else(|err| panic!("cannot write {}: {err}", path.display()));
        path
    }
}
