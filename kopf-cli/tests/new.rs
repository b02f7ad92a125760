//! `kopf new`: the generated operator crate builds, its CRD applies to a cluster, and its
//! own test passes as generated.

use crate::e2e_support;

use e2e_support::{Cluster, kopf_cache_dir};
use kopf_test_support::scratch_dir;
use std::process::Command;

#[test]
fn a_new_operator_builds_applies_and_passes_its_test() {
    let dir = scratch_dir("kopf-new").join("gizmo-operator");
    let output = Command::new(env!("CARGO_BIN_EXE_kopf"))
        .args(["new", "gizmo-operator", "--path"])
        .arg(&dir)
        .env("KOPF_CACHE_DIR", kopf_cache_dir())
        .output()
        .expect("kopf new runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("kopf: created the operator in"), "{stdout}");
    for file in [
        "Cargo.toml",
        "src/main.rs",
        "src/resource.rs",
        "src/handlers.rs",
        "tests/operator.rs",
        "Dockerfile",
        "README.md",
        "deploy/crd.yaml",
        "deploy/operator.yaml",
    ] {
        assert!(dir.join(file).is_file(), "{file} is missing");
    }
    // Formatted as `cargo fmt` would: a new project passes a format check in CI at once.
    let sources = [
        "src/main.rs",
        "src/resource.rs",
        "src/handlers.rs",
        "tests/operator.rs",
    ];
    let check = Command::new("rustfmt")
        .args(["--edition", "2024", "--check"])
        .args(sources.map(|source| dir.join(source)))
        .output()
        .expect("rustfmt runs");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );

    // The CRD generated from the typed resource is one a cluster takes, with its columns.
    let crd = std::fs::read_to_string(dir.join("deploy/crd.yaml")).expect("the CRD");
    assert!(crd.contains("name: gizmos.example.com"), "{crd}");
    assert!(
        crd.contains("x-kubernetes-preserve-unknown-fields: true"),
        "{crd}"
    );
    let cluster = Cluster::start("kopf-new-cluster");
    cluster.kubectl_ok(&["apply", "-f", dir.join("deploy/crd.yaml").to_str().unwrap()]);
    let gizmo = cluster.write_file("gizmo.yaml", "apiVersion: example.com/v1\nkind: Gizmo\nmetadata: {name: g1, namespace: default}\nspec: {size: 2}\n");
    cluster.kubectl_ok(&["apply", "-f", gizmo.to_str().unwrap()]);
    let listed = cluster.kubectl_ok(&["get", "gizmos"]);
    assert!(listed.contains("SIZE") && listed.contains("g1"), "{listed}");
    let operator =
        std::fs::read_to_string(dir.join("deploy/operator.yaml")).expect("the manifests");
    // The manifests deploy the typed resource's CRD too (found through the handlers).
    assert!(
        operator.starts_with(
            "---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition"
        ),
        "{operator}"
    );
    assert!(operator.contains("name: gizmos.example.com"), "{operator}");
    for needle in [
        "kind: ServiceAccount",
        "kind: ClusterRole",
        "- gizmos",
        "kind: Deployment",
        "livenessProbe",
    ] {
        assert!(operator.contains(needle), "{needle} missing:\n{operator}");
    }

    // Its own test, as generated, in the build cache every `kopf run` shares.
    let tested = Command::new(env!("CARGO"))
        .args(["test", "--quiet"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", kopf_cache_dir().join("target"))
        .output()
        .expect("cargo test runs");
    let report = String::from_utf8_lossy(&tested.stdout);
    assert!(
        tested.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&tested.stderr)
    );
    assert!(report.contains("1 passed"), "{report}");

    // Not over an existing project.
    let again = Command::new(env!("CARGO_BIN_EXE_kopf"))
        .args(["new", "gizmo-operator", "--no-build", "--path"])
        .arg(&dir)
        .output()
        .expect("kopf new runs");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists and is not empty"));
}
