//! End-to-end support specific to kopf-cli: an embedded API server owned by a runtime of
//! its own (the tests are synchronous), `kopf run` processes sharing one build cache, and
//! the deadlines those builds need. Everything generic comes from `kopf-test-support`.

#![allow(dead_code)]

use kopf_apiserver::{RunningServer, ServerConfig};
use kopf_test_support::{Process, TestServer, python_with_kopf, scratch_dir};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The first `kopf run` of a test run compiles kube & co. into the shared cache: be patient.
pub const BUILD_DEADLINE: Duration = Duration::from_secs(900);
pub const STEP_DEADLINE: Duration = Duration::from_secs(60);

/// The cache shared by every `kopf run` of the test suite, so the operator build is reused.
pub fn kopf_cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("kopf-run-cache")
}

/// An embedded API server (in memory, HTTPS + token) with its kubeconfig on disk, served
/// by a runtime of its own; dereferences to the shared [`TestServer`] for kubectl & co.
pub struct Cluster {
    server: Option<TestServer>,
    runtime: tokio::runtime::Runtime,
}

impl Cluster {
    pub fn start(name: &str) -> Cluster {
        Cluster::start_with(name, ServerConfig::in_memory())
    }

    /// A cluster with this configuration (RBAC, faults…).
    pub fn start_with(name: &str, config: ServerConfig) -> Cluster {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let server = runtime.block_on(async {
            let server = RunningServer::start(config)
                .await
                .expect("the embedded server starts");
            TestServer::wrap_in(server, scratch_dir(name)).await
        });
        Cluster {
            server: Some(server),
            runtime,
        }
    }

    /// Runs a future on the cluster's runtime (for the kube client of the server).
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Starts `kopf run FILE ARGS…` against this cluster.
    pub fn kopf_run(&self, file: &Path, args: &[&str]) -> Process {
        self.kopf_run_with_env(file, args, &[])
    }

    /// Starts `kopf run FILE ARGS…` against this cluster, with these environment variables.
    pub fn kopf_run_with_env(&self, file: &Path, args: &[&str], envs: &[(&str, &str)]) -> Process {
        Process::spawn(
            Command::new(env!("CARGO_BIN_EXE_kopf"))
                .arg("run")
                .arg(file)
                .args(args)
                .envs(envs.iter().copied())
                .env("KUBECONFIG", &self.kubeconfig)
                .env("KOPF_CACHE_DIR", kopf_cache_dir())
                // As kopf's own e2e suite: no lengthy sleeps on the simulated retries.
                .env("KOPF_RUN_DEFAULT_BACKOFF", "1"),
        )
    }
}

impl std::ops::Deref for Cluster {
    type Target = TestServer;

    fn deref(&self) -> &TestServer {
        self.server
            .as_ref()
            .expect("the cluster runs until dropped")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(ts) = self.server.take() {
            self.runtime.block_on(ts.server.shutdown());
        }
    }
}

/// A test operator under `tests/operators/`.
pub fn operator_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/operators")
        .join(name)
}

/// Python kopf 1.45.2 running a test operator against this cluster, as kopf's e2e runs it.
pub fn python_kopf(cluster: &Cluster, file: &str) -> Process {
    python_kopf_with_env(cluster, file, &[])
}

/// Python kopf 1.45.2 running a test operator, with these environment variables.
pub fn python_kopf_with_env(cluster: &Cluster, file: &str, envs: &[(&str, &str)]) -> Process {
    python_kopf_with(cluster, file, &["--standalone", "-A", "--verbose"], envs)
}

/// Python kopf 1.45.2 running a test operator with these `kopf run` options.
pub fn python_kopf_with(
    cluster: &Cluster,
    file: &str,
    args: &[&str],
    envs: &[(&str, &str)],
) -> Process {
    Process::spawn(
        Command::new(python_with_kopf())
            .args(["-m", "kopf", "run"])
            .args(args)
            .arg(operator_file(file))
            .envs(envs.iter().copied())
            .env("KUBECONFIG", &cluster.kubeconfig),
    )
}

/// Runs `kopf ARGS…` (freeze, resume, …) against this cluster and waits for it.
pub fn kopf_command(cluster: &Cluster, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kopf"))
        .args(args)
        .env("KUBECONFIG", &cluster.kubeconfig)
        .output()
        .expect("the kopf command runs")
}

/// What both operators must leave the same on an object: kopf's annotations, the
/// finalizers and the status (kubectl's last-applied aside).
pub fn observable(object: &Value) -> Value {
    let mut annotations = object
        .pointer("/metadata/annotations")
        .cloned()
        .unwrap_or(json!({}));
    if let Some(map) = annotations.as_object_mut() {
        map.remove("kubectl.kubernetes.io/last-applied-configuration");
    }
    json!({
        "annotations": annotations,
        "finalizers": object.pointer("/metadata/finalizers").cloned().unwrap_or(json!([])),
        "status": object.get("status").cloned().unwrap_or(json!({})),
    })
}
