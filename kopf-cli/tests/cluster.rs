//! `kopf cluster` as a user runs it: the built binary in the foreground, kubectl against
//! the kubeconfig it announces, and a clean stop on Ctrl-C (SIGINT).

use kopf_test_support::{Process, kubectl_ok, scratch_dir};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(60);

/// Starts `kopf cluster ARGS…` with `home` as HOME (and no XDG_DATA_HOME unless in `env`).
fn spawn_cluster(args: &[&str], home: &Path, env: &[(&str, &Path)]) -> Process {
    Process::spawn(
        Command::new(env!("CARGO_BIN_EXE_kopf"))
            .arg("cluster")
            .args(args)
            .env("HOME", home)
            .env_remove("XDG_DATA_HOME")
            .envs(env.iter().copied()),
    )
}

/// The first line (stdout or stderr) that starts with `prefix`.
fn wait_for_line(cluster: &mut Process, prefix: &str) -> String {
    cluster.wait_for_line_starting(prefix, DEADLINE)
}

/// The kubeconfig path from the `export KUBECONFIG=…` line.
fn kubeconfig_of(cluster: &mut Process) -> PathBuf {
    let line = wait_for_line(cluster, "export KUBECONFIG=");
    PathBuf::from(line.trim_start_matches("export KUBECONFIG="))
}

/// Sends SIGINT (what Ctrl-C does), asserting that it is delivered, and waits for the exit.
fn interrupt(cluster: &mut Process) -> ExitStatus {
    assert!(cluster.send_sigint(), "SIGINT is delivered");
    cluster.wait_exit(DEADLINE)
}

#[test]
fn in_memory_cluster_serves_kubectl_and_stops_on_sigint() {
    let home = scratch_dir("in-memory");
    let mut cluster = spawn_cluster(&["--port", "0", "--in-memory"], &home, &[]);
    let kubeconfig = kubeconfig_of(&mut cluster);
    let port_line = wait_for_line(&mut cluster, "kopf cluster: port ");
    let port: u16 = port_line
        .trim_start_matches("kopf cluster: port ")
        .parse()
        .unwrap();
    assert_ne!(port, 0);
    let url_line = wait_for_line(&mut cluster, "kopf cluster: serving ");
    assert!(
        url_line.contains(&format!("https://127.0.0.1:{port}")),
        "{url_line}"
    );

    let stdout = kubectl_ok(&kubeconfig, &home, &["get", "ns"]);
    assert!(stdout.contains("default"), "{stdout}");

    let status = interrupt(&mut cluster);
    assert!(
        status.success(),
        "exit status {status:?}; output:\n{}",
        cluster.output()
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

    let mut cluster = spawn_cluster(
        &[
            "--port",
            "0",
            "--data-dir",
            data_arg,
            "--apply",
            manifest.to_str().unwrap(),
        ],
        &home,
        &[],
    );
    let kubeconfig = kubeconfig_of(&mut cluster);
    assert_eq!(kubeconfig, data.join("kubeconfig"));
    let stdout = kubectl_ok(
        &kubeconfig,
        &home,
        &["get", "configmap", "applied", "-o", "jsonpath={.data.key}"],
    );
    assert_eq!(stdout, "value");
    kubectl_ok(
        &kubeconfig,
        &home,
        &["annotate", "configmap", "applied", "touched=yes"],
    );
    // A second server on the same directory says who holds it and how to get another.
    let mut second = spawn_cluster(&["--port", "0", "--data-dir", data_arg], &home, &[]);
    let status = second.wait_exit(DEADLINE);
    let output = second.output();
    assert!(!status.success(), "{output}");
    assert!(
        output.contains(&format!(
            "the data directory {data_arg} is in use by another server"
        )) && output.contains("--data-dir"),
        "{output}"
    );
    assert!(interrupt(&mut cluster).success());

    let mut cluster = spawn_cluster(&["--port", "0", "--data-dir", data_arg], &home, &[]);
    let kubeconfig = kubeconfig_of(&mut cluster);
    let stdout = kubectl_ok(
        &kubeconfig,
        &home,
        &["get", "configmap", "applied", "-o", "jsonpath={.data.key}"],
    );
    assert_eq!(stdout, "value");
    let jsonpath = "jsonpath={.metadata.annotations.touched}";
    let stdout = kubectl_ok(
        &kubeconfig,
        &home,
        &["get", "configmap", "applied", "-o", jsonpath],
    );
    assert_eq!(stdout, "yes");
    assert!(interrupt(&mut cluster).success());
}

#[test]
fn insecure_http_warns_about_missing_authentication() {
    let home = scratch_dir("insecure");
    let mut cluster = spawn_cluster(
        &["--port", "0", "--in-memory", "--insecure-http"],
        &home,
        &[],
    );
    let warning = wait_for_line(&mut cluster, "kopf cluster: WARNING");
    assert!(warning.contains("without authentication"), "{warning}");
    let kubeconfig = kubeconfig_of(&mut cluster);
    let stdout = kubectl_ok(&kubeconfig, &home, &["get", "ns", "default", "-o", "name"]);
    assert_eq!(stdout.trim(), "namespace/default");
    assert!(interrupt(&mut cluster).success());
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

    let mut cluster = spawn_cluster(&["--port", "0", "--data-dir", data_arg], &home, &[]);
    let kubeconfig = kubeconfig_of(&mut cluster);
    // kubectl exits 0 only after every create was answered, i.e. acknowledged as durable.
    kubectl_ok(
        &kubeconfig,
        &home,
        &[
            "create",
            "-f",
            manifest.to_str().unwrap(),
            "--validate=false",
        ],
    );
    // SIGKILL: no shutdown, no flush.
    cluster.kill();

    let mut cluster = spawn_cluster(&["--port", "0", "--data-dir", data_arg], &home, &[]);
    let kubeconfig = kubeconfig_of(&mut cluster);
    let stdout = kubectl_ok(&kubeconfig, &home, &["get", "configmaps", "-o", "name"]);
    let names: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("configmap/cm-"))
        .collect();
    assert_eq!(names.len(), 50, "{stdout}");
    assert!(interrupt(&mut cluster).success());
}

#[test]
fn default_data_dir_follows_xdg() {
    let home = scratch_dir("default-dir");
    let mut cluster = spawn_cluster(&["--port", "0"], &home, &[]);
    let kubeconfig = kubeconfig_of(&mut cluster);
    assert_eq!(
        kubeconfig,
        home.join(".local/share/kopf/cluster/kubeconfig")
    );
    assert!(home.join(".local/share/kopf/cluster/objects.redb").exists());
    let stdout = kubectl_ok(&kubeconfig, &home, &["get", "ns", "default", "-o", "name"]);
    assert_eq!(stdout.trim(), "namespace/default");
    assert!(interrupt(&mut cluster).success());

    let xdg = home.join("xdg");
    let mut cluster = spawn_cluster(&["--port", "0"], &home, &[("XDG_DATA_HOME", &xdg)]);
    assert_eq!(
        kubeconfig_of(&mut cluster),
        xdg.join("kopf/cluster/kubeconfig")
    );
    assert!(interrupt(&mut cluster).success());
}
