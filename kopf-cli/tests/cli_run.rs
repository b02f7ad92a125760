//! `kopf run` as a user meets it: clear errors, cached builds, in-file dependencies,
//! the embedded cluster, and Ctrl-C that leaves no process behind.

use crate::e2e_support;

use e2e_support::{BUILD_DEADLINE, STEP_DEADLINE, kopf_cache_dir};
use kopf_test_support::{Process, kubectl, scratch_dir, workspace_root};
use std::path::Path;
use std::process::{Command, Output};

fn kopf(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kopf"))
        .args(args)
        .env("KOPF_CACHE_DIR", kopf_cache_dir())
        // No cluster anywhere: the operator must say so.
        .env("KUBECONFIG", dir.join("no-such-kubeconfig"))
        .env("HOME", dir)
        .env_remove("KUBERNETES_SERVICE_HOST")
        .output()
        .expect("kopf runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_file_that_does_not_compile_shows_the_compilers_message() {
    let dir = scratch_dir("compile-error");
    let file = dir.join("broken.rs");
    std::fs::write(
        &file,
        "#[kopf::on::create(\"pods\")]\nasync fn f() -> kopf::Result<()> { Ok(()) \n",
    )
    .unwrap();
    let output = kopf(&["run", file.to_str().unwrap()], &dir);
    let text = stderr(&output);
    assert!(!output.status.success());
    assert!(
        text.contains("error"),
        "the compiler's message is shown: {text}"
    );
    assert!(
        text.contains(
            "kopf: the operator did not compile (see the compiler's messages above); fix"
        ),
        "{text}"
    );
}

#[test]
fn a_missing_file_is_named() {
    let dir = scratch_dir("missing-file");
    let output = kopf(&["run", "no-such-operator.rs"], &dir);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("no-such-operator.rs: no such file or directory"),
        "{}",
        stderr(&output)
    );
}

/// One build serves both assertions: the dependency block works, the missing cluster is
/// explained, and the second run of the same file compiles nothing.
#[test]
fn in_file_dependencies_cached_builds_and_a_missing_cluster() {
    let dir = scratch_dir("deps");
    let file = dir.join("with_deps.rs");
    std::fs::write(
        &file,
        "//! An operator with a dependency of its own.\n//!\n//! ```cargo\n//! [dependencies]\n//! itoa = \"1\"\n//! ```\n\n\
         #[kopf::on::create(\"configmaps\")]\nasync fn count(logger: kopf::Logger) -> kopf::Result<()> {\n    \
         logger.info(itoa::Buffer::new().format(42));\n    Ok(())\n}\n",
    )
    .unwrap();
    let first = kopf(&["run", file.to_str().unwrap()], &dir);
    let text = stderr(&first);
    assert!(
        !text.contains("did not compile"),
        "the dependency block is honoured: {text}"
    );
    assert!(
        text.contains("no Kubernetes cluster is configured"),
        "{text}"
    );
    assert!(
        text.contains("kopf run --embedded"),
        "the message says what to do: {text}"
    );
    assert!(!first.status.success());

    let second = kopf(&["run", file.to_str().unwrap()], &dir);
    let text = stderr(&second);
    assert!(
        !text.contains("Compiling"),
        "an unchanged file is not compiled again: {text}"
    );
    assert!(
        text.contains("no Kubernetes cluster is configured"),
        "{text}"
    );
}

/// `--embedded` serves a durable cluster; Ctrl-C stops the operator and leaves no child.
#[test]
fn embedded_cluster_and_ctrl_c_leave_nothing_behind() {
    let dir = scratch_dir("embedded");
    let example = workspace_root().join("examples/ephemeral");
    let mut run = Process::spawn(
        Command::new(env!("CARGO_BIN_EXE_kopf"))
            .arg("run")
            .arg(example.join("ephemeral.rs"))
            .args(["--verbose", "--embedded", "--data-dir"])
            .arg(dir.join("cluster"))
            .arg("--apply")
            .arg(example.join("crd.yaml"))
            .arg("--apply")
            .arg(example.join("obj.yaml"))
            .env("KOPF_CACHE_DIR", kopf_cache_dir()),
    );
    run.wait_for(
        "Creation is processed: 1 succeeded; 0 failed.",
        BUILD_DEADLINE,
    );
    let export = run
        .lines()
        .into_iter()
        .find(|l| l.starts_with("export KUBECONFIG="))
        .expect("the export line");
    let kubeconfig = Path::new(export.trim_start_matches("export KUBECONFIG="));
    let got = kubectl(kubeconfig, &dir, &["get", "evc", "my-claim", "-o", "name"]);
    assert_eq!(
        String::from_utf8_lossy(&got.stdout).trim(),
        "ephemeralvolumeclaim.kopf.dev/my-claim"
    );

    let children = children_of(run.pid());
    assert!(!children.is_empty(), "the operator runs as a child");
    assert!(run.interrupt().success(), "Ctrl-C stops gracefully");
    run.wait_for(
        "Signal SIGINT is received. Operator is stopping.",
        STEP_DEADLINE,
    );
    for child in children {
        assert!(
            !Path::new(&format!("/proc/{child}")).exists(),
            "the operator {child} outlived kopf run"
        );
    }

    // Restarted on the same data: the object is there and is not handled again.
    let mut again = Process::spawn(
        Command::new(env!("CARGO_BIN_EXE_kopf"))
            .arg("run")
            .arg(example.join("ephemeral.rs"))
            .args(["--verbose", "--embedded", "--data-dir"])
            .arg(dir.join("cluster"))
            .env("KOPF_CACHE_DIR", kopf_cache_dir()),
    );
    again.wait_for("Resuming is in progress: {", STEP_DEADLINE);
    assert_eq!(again.count("Handler 'create_fn'"), 0);
    assert!(again.interrupt().success());
}

/// A cluster that does not answer is waited for, with kopf's retries; Ctrl-C ends the wait
/// at once and the operator exits cleanly (the signal was caught but not heeded before).
#[test]
fn ctrl_c_stops_an_operator_still_waiting_for_its_cluster() {
    let dir = scratch_dir("dead-cluster");
    let kubeconfig = dir.join("dead.kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster: {server: \"https://127.0.0.1:1\", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: c\n  context: {cluster: dead, user: u}\ncurrent-context: c\n",
    )
    .unwrap();
    let example = workspace_root().join("examples/ephemeral");
    let mut run = Process::spawn(
        Command::new(env!("CARGO_BIN_EXE_kopf"))
            .arg("run")
            .arg(example.join("ephemeral.rs"))
            .arg("-A")
            .env("KUBECONFIG", &kubeconfig)
            .env("KOPF_CACHE_DIR", kopf_cache_dir()),
    );
    run.wait_for("Cannot talk to the cluster at KUBECONFIG=", BUILD_DEADLINE);
    assert!(
        run.interrupt().success(),
        "Ctrl-C stops the waiting operator cleanly"
    );
    run.wait_for(
        "Signal SIGINT is received. Operator is stopping.",
        STEP_DEADLINE,
    );
    assert_eq!(run.count("did not stop in time"), 0);
}

fn children_of(pid: u32) -> Vec<u32> {
    let mut children = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return children;
    };
    for task in tasks.flatten() {
        let text = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        children.extend(
            text.split_whitespace()
                .filter_map(|c| c.parse::<u32>().ok()),
        );
    }
    children
}

/// A startup handler that fails for good stops the operator before it logs in or watches
/// anything, with kopf's lines and a non-zero exit.
#[test]
fn a_failed_startup_exits_non_zero_with_kopfs_message() {
    let dir = scratch_dir("startup");
    let file = dir.join("failing_startup.rs");
    std::fs::write(
        &file,
        "#[kopf::on::startup(retries = 2, backoff = 0.1)]\n\
         fn startup_fn() -> kopf::Result<()> {\n    \
         Err(kopf::Error::msg(\"the database is unreachable\"))\n}\n\n\
         #[kopf::on::create(\"configmaps\")]\nfn create_fn() {}\n",
    )
    .unwrap();
    let output = kopf(&["run", file.to_str().unwrap()], &dir);
    let text = stderr(&output);
    assert!(!output.status.success(), "{text}");
    for line in [
        "Activity 'startup_fn' failed with an exception and will try again in 0.1 seconds: the database is unreachable",
        "Activity 'startup_fn' failed with an exception and will stop now (it would exceed 2 retries on the next attempt): the database is unreachable",
        "kopf: Startup activity has failed: One or more handlers failed.",
    ] {
        assert!(text.contains(line), "{line}:\n{text}");
    }
    assert!(
        !text.contains("no Kubernetes cluster is configured"),
        "no login was attempted: {text}"
    );
}
