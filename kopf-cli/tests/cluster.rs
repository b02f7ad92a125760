//! `kopf cluster` as a user runs it: the built binary in the foreground, kubectl against
//! the kubeconfig it announces, and a clean stop on Ctrl-C (SIGINT).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(60);

fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cluster-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A `kopf cluster` process with its stdout lines arriving on a channel; killed if dropped.
struct ClusterProcess {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl ClusterProcess {
    fn spawn(args: &[&str], home: &Path) -> ClusterProcess {
        ClusterProcess::spawn_with_env(args, home, &[])
    }

    fn spawn_with_env(args: &[&str], home: &Path, env: &[(&str, &Path)]) -> ClusterProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kopf"))
            .arg("cluster")
            .args(args)
            .env("HOME", home)
            .env_remove("XDG_DATA_HOME")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kopf cluster starts");
        let (sender, lines) = mpsc::channel();
        for reader in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let sender = sender.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(reader).lines().map_while(Result::ok) {
                    if sender.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        ClusterProcess {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The first line (stdout or stderr) that starts with `prefix`.
    fn wait_for_line(&mut self, prefix: &str) -> String {
        if let Some(line) = self.seen.iter().find(|l| l.starts_with(prefix)) {
            return line.clone();
        }
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.starts_with(prefix) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no line starting with {prefix:?}; output so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// The kubeconfig path from the `export KUBECONFIG=…` line.
    fn kubeconfig(&mut self) -> PathBuf {
        let line = self.wait_for_line("export KUBECONFIG=");
        PathBuf::from(line.trim_start_matches("export KUBECONFIG="))
    }

    /// Sends SIGINT (what Ctrl-C does) and waits for the exit.
    fn interrupt(&mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "kopf cluster did not stop on SIGINT"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for ClusterProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn kubectl(kubeconfig: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .env("HOME", home)
        .output()
        .expect("kubectl runs")
}

fn assert_ok(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn in_memory_cluster_serves_kubectl_and_stops_on_sigint() {
    let home = scratch_dir("in-memory");
    let mut cluster = ClusterProcess::spawn(&["--port", "0", "--in-memory"], &home);
    let kubeconfig = cluster.kubeconfig();
    let port_line = cluster.wait_for_line("kopf cluster: port ");
    let port: u16 = port_line
        .trim_start_matches("kopf cluster: port ")
        .parse()
        .unwrap();
    assert_ne!(port, 0);
    let url_line = cluster.wait_for_line("kopf cluster: serving ");
    assert!(
        url_line.contains(&format!("https://127.0.0.1:{port}")),
        "{url_line}"
    );

    let stdout = assert_ok(&kubectl(&kubeconfig, &home, &["get", "ns"]));
    assert!(stdout.contains("default"), "{stdout}");

    let status = cluster.interrupt();
    assert!(
        status.success(),
        "exit status {status:?}; output:\n{}",
        cluster.seen.join("\n")
    );
    assert!(
        !kubeconfig.exists(),
        "the temporary kubeconfig is removed on exit"
    );
}

#[test]
fn durable_cluster_applies_manifests_and_keeps_them_across_restarts() {
    let home = scratch_dir("durable");
    let data = home.join("data");
    let manifest = home.join("cm.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  namespace: default\ndata:\n  key: value\n",
    )
    .unwrap();
    let data_arg = data.to_str().unwrap();

    let mut cluster = ClusterProcess::spawn(
        &[
            "--port",
            "0",
            "--data-dir",
            data_arg,
            "--apply",
            manifest.to_str().unwrap(),
        ],
        &home,
    );
    let kubeconfig = cluster.kubeconfig();
    assert_eq!(kubeconfig, data.join("kubeconfig"));
    let stdout = assert_ok(&kubectl(
        &kubeconfig,
        &home,
        &["get", "configmap", "applied", "-o", "jsonpath={.data.key}"],
    ));
    assert_eq!(stdout, "value");
    assert_ok(&kubectl(
        &kubeconfig,
        &home,
        &["annotate", "configmap", "applied", "touched=yes"],
    ));
    assert!(cluster.interrupt().success());

    let mut cluster = ClusterProcess::spawn(&["--port", "0", "--data-dir", data_arg], &home);
    let kubeconfig = cluster.kubeconfig();
    let stdout = assert_ok(&kubectl(
        &kubeconfig,
        &home,
        &["get", "configmap", "applied", "-o", "jsonpath={.data.key}"],
    ));
    assert_eq!(stdout, "value");
    let jsonpath = "jsonpath={.metadata.annotations.touched}";
    let stdout = assert_ok(&kubectl(
        &kubeconfig,
        &home,
        &["get", "configmap", "applied", "-o", jsonpath],
    ));
    assert_eq!(stdout, "yes");
    assert!(cluster.interrupt().success());
}

#[test]
fn insecure_http_warns_about_missing_authentication() {
    let home = scratch_dir("insecure");
    let mut cluster =
        ClusterProcess::spawn(&["--port", "0", "--in-memory", "--insecure-http"], &home);
    let warning = cluster.wait_for_line("kopf cluster: WARNING");
    assert!(warning.contains("without authentication"), "{warning}");
    let kubeconfig = cluster.kubeconfig();
    let stdout = assert_ok(&kubectl(
        &kubeconfig,
        &home,
        &["get", "ns", "default", "-o", "name"],
    ));
    assert_eq!(stdout.trim(), "namespace/default");
    assert!(cluster.interrupt().success());
}

#[test]
fn bad_fault_ratio_is_refused() {
    let output = Command::new(env!("CARGO_BIN_EXE_kopf"))
        .args(["cluster", "--in-memory", "--fault-500", "2"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("between 0 and 1"));
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let home = scratch_dir("kill9");
    let data = home.join("data");
    let data_arg = data.to_str().unwrap();
    let manifest = home.join("many.yaml");
    let documents: Vec<String> = (0..50)
        .map(|i| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i:02}\n  namespace: default\ndata:\n  i: \"{i}\"\n"))
        .collect();
    std::fs::write(&manifest, documents.join("---\n")).unwrap();

    let mut cluster = ClusterProcess::spawn(&["--port", "0", "--data-dir", data_arg], &home);
    let kubeconfig = cluster.kubeconfig();
    // kubectl exits 0 only after every create was answered, i.e. acknowledged as durable.
    assert_ok(&kubectl(
        &kubeconfig,
        &home,
        &[
            "create",
            "-f",
            manifest.to_str().unwrap(),
            "--validate=false",
        ],
    ));
    // SIGKILL: no shutdown, no flush.
    cluster.child.kill().unwrap();
    cluster.child.wait().unwrap();

    let mut cluster = ClusterProcess::spawn(&["--port", "0", "--data-dir", data_arg], &home);
    let kubeconfig = cluster.kubeconfig();
    let stdout = assert_ok(&kubectl(
        &kubeconfig,
        &home,
        &["get", "configmaps", "-o", "name"],
    ));
    let names: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("configmap/cm-"))
        .collect();
    assert_eq!(names.len(), 50, "{stdout}");
    assert!(cluster.interrupt().success());
}

#[test]
fn default_data_dir_follows_xdg() {
    let home = scratch_dir("default-dir");
    let mut cluster = ClusterProcess::spawn(&["--port", "0"], &home);
    let kubeconfig = cluster.kubeconfig();
    assert_eq!(
        kubeconfig,
        home.join(".local/share/kopf/cluster/kubeconfig")
    );
    assert!(home.join(".local/share/kopf/cluster/objects.redb").exists());
    let stdout = assert_ok(&kubectl(
        &kubeconfig,
        &home,
        &["get", "ns", "default", "-o", "name"],
    ));
    assert_eq!(stdout.trim(), "namespace/default");
    assert!(cluster.interrupt().success());

    let xdg = home.join("xdg");
    let mut cluster =
        ClusterProcess::spawn_with_env(&["--port", "0"], &home, &[("XDG_DATA_HOME", &xdg)]);
    assert_eq!(cluster.kubeconfig(), xdg.join("kopf/cluster/kubeconfig"));
    assert!(cluster.interrupt().success());
}
