//! Shared helpers of the `ops_*` tests: clients built from the server's own kubeconfig,
//! kubectl runs, scratch directories and condition waits with deadlines.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh directory under cargo's per-target temp dir.
pub fn scratch_dir(name: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ops-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch dir");
    dir
}

/// A kube config from kubeconfig YAML, exactly as a user's client would read it.
pub async fn config_for(kubeconfig_yaml: &str) -> kube::Config {
    let kubeconfig =
        kube::config::Kubeconfig::from_yaml(kubeconfig_yaml).expect("the kubeconfig parses");
    kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
        .await
        .expect("kube accepts the kubeconfig")
}

/// A kube client from kubeconfig YAML.
pub async fn client_for(kubeconfig_yaml: &str) -> kube::Client {
    kube::Client::try_from(config_for(kubeconfig_yaml).await).expect("a kube client")
}

/// A kube client that does not retry 429/5xx itself, so that injected failures are seen.
pub async fn client_without_retries(kubeconfig_yaml: &str) -> kube::Client {
    let mut config = config_for(kubeconfig_yaml).await;
    config.default_retry = false;
    kube::Client::try_from(config).expect("a kube client")
}

/// Runs kubectl with its own HOME (so its discovery cache is private to the test), off
/// the async runtime (the server under test runs on it).
pub async fn kubectl(kubeconfig: &Path, home: &Path, args: &[&str]) -> Output {
    let mut command = Command::new("kubectl");
    command
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .env("HOME", home)
        .env_remove("KUBECONFIG");
    tokio::task::spawn_blocking(move || command.output().expect("kubectl runs"))
        .await
        .expect("kubectl joins")
}

/// The HTTP status code of a kube error, if it is an API error.
pub fn api_code(err: &kube::Error) -> Option<u16> {
    match err {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}

/// Polls `check` until it returns `Some`, or panics after `deadline`.
pub async fn wait_for<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let until = Instant::now() + deadline;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
