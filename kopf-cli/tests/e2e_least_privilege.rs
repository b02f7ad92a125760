//! Least privilege, enforced: the RBAC that `kopf manifests` derives from an operator's
//! handlers is applied to an embedded cluster that authorizes service accounts by RBAC; the
//! operator runs under that service account's token and does its work, while a request
//! outside the rules gets the real server's 403, and `kubectl auth can-i` agrees.

use crate::e2e_support;

use e2e_support::{BUILD_DEADLINE, Cluster, STEP_DEADLINE, kopf_cache_dir, operator_file};
use kopf_apiserver::ServerConfig;
use kopf_test_support::{Process, workspace_root};
use std::process::Command;

#[test]
fn the_operator_works_under_the_rbac_kopf_manifests_derives() {
    let cluster = Cluster::start_with(
        "least-privilege",
        ServerConfig {
            rbac: true,
            ..ServerConfig::in_memory()
        },
    );
    let crd = workspace_root().join("examples/crd.yaml");
    cluster.kubectl_ok(&["apply", "-f", crd.to_str().unwrap()]);

    // The manifests of the operator, applied as an administrator.
    let manifests = Command::new(env!("CARGO_BIN_EXE_kopf"))
        .args(["manifests", "--name", "op"])
        .arg(operator_file("manifests.rs"))
        .env("KOPF_CACHE_DIR", kopf_cache_dir())
        .output()
        .expect("kopf manifests runs");
    assert!(
        manifests.status.success(),
        "{}",
        String::from_utf8_lossy(&manifests.stderr)
    );
    let file = cluster.write_file("operator.yaml", &String::from_utf8_lossy(&manifests.stdout));
    cluster.kubectl_ok(&["apply", "-f", file.to_str().unwrap()]);

    // The service account's token, in a kubeconfig of its own.
    let token = cluster
        .kubectl_ok(&["create", "token", "op", "-n", "default"])
        .trim()
        .to_string();
    let admin = std::fs::read_to_string(&cluster.kubeconfig).expect("the kubeconfig");
    let sa_kubeconfig = cluster.write_file("sa.kubeconfig", &with_token(&admin, &token));
    let as_sa = |args: &[&str]| {
        Command::new("kubectl")
            .args(args)
            .env("KUBECONFIG", &sa_kubeconfig)
            .output()
            .expect("kubectl runs")
    };

    // `kubectl auth can-i` answers by the rules.
    let can = |args: &[&str]| {
        let output = as_sa(&[&["auth", "can-i"][..], args].concat());
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    assert_eq!(can(&["patch", "kopfexamples.kopf.dev"]), "yes");
    assert_eq!(can(&["watch", "pods", "-A"]), "yes");
    assert_eq!(can(&["create", "events"]), "yes");
    assert_eq!(can(&["delete", "kopfexamples.kopf.dev"]), "no");
    assert_eq!(can(&["get", "secrets"]), "no");

    // The operator under that token handles an object, and is never refused.
    let mut operator = Process::spawn(
        Command::new(env!("CARGO_BIN_EXE_kopf"))
            .arg("run")
            .arg(operator_file("manifests.rs"))
            .args(["-A", "--verbose"])
            .env("KUBECONFIG", &sa_kubeconfig)
            .env("KOPF_CACHE_DIR", kopf_cache_dir()),
    );
    operator.wait_for(
        "Starting the watch-stream for kopfexamples.v1.kopf.dev",
        BUILD_DEADLINE,
    );
    let object = workspace_root().join("examples/obj.yaml");
    cluster.kubectl_ok(&["apply", "-f", object.to_str().unwrap()]);
    operator.wait_for("Handler 'create_fn' succeeded.", STEP_DEADLINE);
    let handled = kopf_test_support::poll_until_blocking(STEP_DEADLINE, || {
        let object = cluster.get_json("kopfexample", "kopf-example-1")?;
        let annotations = object.pointer("/metadata/annotations")?.as_object()?;
        annotations
            .contains_key("kopf.zalando.org/last-handled-configuration")
            .then_some(())
    });
    assert!(
        handled.is_some(),
        "not handled; the operator said:\n{}",
        operator.output()
    );
    assert!(
        !operator.output().contains("forbidden"),
        "{}",
        operator.output()
    );

    // Outside the rules: the real server's 403.
    let refused = as_sa(&["get", "secrets", "-n", "default"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(
            "secrets is forbidden: User \"system:serviceaccount:default:op\" cannot list resource \"secrets\" in API group \"\" in the namespace \"default\""
        ),
        "{stderr}"
    );
    assert!(operator.interrupt().success(), "{}", operator.output());
}

/// The kubeconfig with the admin's token replaced by this one.
fn with_token(kubeconfig: &str, token: &str) -> String {
    kubeconfig
        .lines()
        .map(|line| match line.split_once("token:") {
            Some((indent, _)) if indent.trim().is_empty() => format!("{indent}token: {token}"),
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
