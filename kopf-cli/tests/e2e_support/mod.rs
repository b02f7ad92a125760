//! End-to-end test support: an embedded API server on a real port, kubectl against it,
//! and `kopf run` processes whose output lines can be awaited with deadlines.

#![allow(dead_code)]

use kopf_apiserver::{RunningServer, ServerConfig};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The first `kopf run` of a test run compiles kube & co. into the shared cache: be patient.
pub const BUILD_DEADLINE: Duration = Duration::from_secs(900);
pub const STEP_DEADLINE: Duration = Duration::from_secs(60);

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh directory under the cargo target's temp dir.
pub fn scratch_dir(name: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch dir");
    dir
}

/// The cache shared by every `kopf run` of the test suite, so the operator build is reused.
pub fn kopf_cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("kopf-run-cache")
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// An embedded API server (in memory, HTTPS + token) with its kubeconfig on disk.
pub struct Cluster {
    pub server: Option<RunningServer>,
    pub runtime: tokio::runtime::Runtime,
    pub dir: PathBuf,
    pub kubeconfig: PathBuf,
}

impl Cluster {
    pub fn start(name: &str) -> Cluster {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let server = runtime
            .block_on(RunningServer::start(ServerConfig::in_memory()))
            .expect("the embedded server starts");
        let dir = scratch_dir(name);
        let kubeconfig = dir.join("kubeconfig");
        server
            .write_kubeconfig(&kubeconfig)
            .expect("write the kubeconfig");
        Cluster {
            server: Some(server),
            runtime,
            dir,
            kubeconfig,
        }
    }

    /// Runs kubectl against this cluster; panics with its output when it fails.
    pub fn kubectl(&self, args: &[&str]) -> String {
        let output = self.kubectl_output(args);
        assert!(
            output.status.success(),
            "kubectl {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    pub fn kubectl_output(&self, args: &[&str]) -> Output {
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .env("HOME", &self.dir)
            .output()
            .expect("kubectl runs")
    }

    /// The object as JSON, or `None` when it does not exist.
    pub fn get_json(&self, kind: &str, name: &str) -> Option<serde_json::Value> {
        let output = self.kubectl_output(&["get", kind, name, "-o", "json"]);
        if !output.status.success() {
            return None;
        }
        serde_json::from_slice(&output.stdout).ok()
    }

    /// Polls `check` until it returns `Some`, or panics after `deadline`.
    pub fn wait_until<T>(
        &self,
        what: &str,
        deadline: Duration,
        mut check: impl FnMut() -> Option<T>,
    ) -> T {
        let until = Instant::now() + deadline;
        loop {
            if let Some(value) = check() {
                return value;
            }
            assert!(Instant::now() < until, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Starts `kopf run FILE ARGS…` against this cluster.
    pub fn kopf_run(&self, file: &Path, args: &[&str]) -> Operator {
        Operator::spawn(
            Command::new(env!("CARGO_BIN_EXE_kopf"))
                .arg("run")
                .arg(file)
                .args(args)
                .env("KUBECONFIG", &self.kubeconfig)
                .env("KOPF_CACHE_DIR", kopf_cache_dir()),
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.shutdown());
        }
    }
}

/// A running process whose stdout and stderr lines are collected as they come.
pub struct Operator {
    child: Child,
    lines: Arc<(Mutex<Vec<String>>, Condvar)>,
}

impl Operator {
    pub fn spawn(command: &mut Command) -> Operator {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the process starts");
        let lines: Arc<(Mutex<Vec<String>>, Condvar)> = Arc::default();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        for stream in [
            Box::new(stdout) as Box<dyn std::io::Read + Send>,
            Box::new(stderr),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    eprintln!("| {line}");
                    let (store, signal) = &*lines;
                    store.lock().unwrap_or_else(|p| p.into_inner()).push(line);
                    signal.notify_all();
                }
            });
        }
        Operator { child, lines }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// How many lines contain `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.lines().iter().filter(|l| l.contains(needle)).count()
    }

    /// Waits until `count(needle) >= times`; panics with the output after `deadline`.
    pub fn wait_for_count(&mut self, needle: &str, times: usize, deadline: Duration) {
        let until = Instant::now() + deadline;
        let (store, signal) = &*self.lines;
        let mut guard = store.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if guard.iter().filter(|l| l.contains(needle)).count() >= times {
                return;
            }
            let now = Instant::now();
            if now >= until {
                let text = guard.join("\n");
                drop(guard);
                let _ = self.child.kill();
                panic!("timed out waiting for {times}× {needle:?}; output:\n{text}");
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the reader threads catch up with the last lines.
                let (g, _) = signal
                    .wait_timeout(guard, Duration::from_millis(300))
                    .unwrap_or_else(|p| p.into_inner());
                guard = g;
                if guard.iter().filter(|l| l.contains(needle)).count() >= times {
                    return;
                }
                panic!(
                    "the process exited ({status}) before {needle:?}; output:\n{}",
                    guard.join("\n")
                );
            }
            let wait = (until - now).min(Duration::from_millis(200));
            guard = signal
                .wait_timeout(guard, wait)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    pub fn wait_for(&mut self, needle: &str, deadline: Duration) {
        self.wait_for_count(needle, 1, deadline);
    }

    /// Sends SIGINT, as Ctrl-C in a terminal does, and waits for the exit.
    pub fn interrupt(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-INT")
            .arg(self.child.id().to_string())
            .status();
        self.wait_exit(Duration::from_secs(60))
    }

    pub fn wait_exit(&mut self, deadline: Duration) -> std::process::ExitStatus {
        let until = Instant::now() + deadline;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if Instant::now() >= until {
                let _ = self.child.kill();
                panic!(
                    "the process did not exit in {deadline:?}; output:\n{}",
                    self.lines().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
