//! `kopf manifests FILE.rs`: the RBAC rules derived from the operator's handlers, the
//! bindings and the Deployment with its liveness probe; kubectl applies them as printed.

use crate::e2e_support;

use e2e_support::{Cluster, kopf_cache_dir, operator_file};
use serde::Deserialize;
use serde_json::{Value, json};
use std::process::Command;

fn manifests(args: &[&str]) -> (String, Vec<Value>) {
    let output = Command::new(env!("CARGO_BIN_EXE_kopf"))
        .arg("manifests")
        .arg(operator_file("manifests.rs"))
        .args(args)
        .env("KOPF_CACHE_DIR", kopf_cache_dir())
        .output()
        .expect("kopf runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let yaml = String::from_utf8(output.stdout).expect("UTF-8");
    let documents = serde_yaml_ng::Deserializer::from_str(&yaml)
        .map(|d| Value::deserialize(d).expect("a YAML document"))
        .collect();
    (yaml, documents)
}

fn kinds(documents: &[Value]) -> Vec<&str> {
    documents
        .iter()
        .map(|d| d["kind"].as_str().unwrap_or_default())
        .collect()
}

/// What the handlers of `tests/operators/manifests.rs` need, beyond the CRDs.
fn resource_rules() -> Value {
    json!([
        {"apiGroups": ["kopf.dev"], "resources": ["kopfexamples"], "verbs": ["get", "list", "watch", "patch"]},
        {"apiGroups": ["kopf.dev"], "resources": ["kopfexamples/status"], "verbs": ["patch"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch", "patch"]},
        {"apiGroups": [""], "resources": ["configmaps/status"], "verbs": ["patch"]},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]},
    ])
}

fn crd_rule() -> Value {
    json!({"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"], "verbs": ["get", "list", "watch"]})
}

/// What every operator gets cluster-wide: the CRDs, kopf's peering objects (peering is
/// used when their CRD exists) and Leases (`--leader-election`, `--shards`).
fn cluster_rules() -> Vec<Value> {
    vec![
        crd_rule(),
        json!({"apiGroups": ["kopf.dev"], "resources": ["clusterkopfpeerings", "kopfpeerings"], "verbs": ["get", "list", "watch", "patch"]}),
        json!({"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "list", "create", "update"]}),
    ]
}

#[test]
fn cluster_wide_manifests_grant_what_the_handlers_need_and_apply() {
    let (yaml, documents) = manifests(&["--image", "registry.example.com/op:1"]);
    assert_eq!(
        kinds(&documents),
        [
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Deployment"
        ]
    );
    let mut rules = cluster_rules();
    rules.extend(resource_rules().as_array().unwrap().iter().cloned());
    assert_eq!(documents[1]["rules"], json!(rules), "{yaml}");
    assert_eq!(
        documents[2]["subjects"],
        json!([{"kind": "ServiceAccount", "name": "manifests", "namespace": "default"}])
    );
    assert_eq!(documents[2]["roleRef"]["name"], "manifests");
    let pod = &documents[3]["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "manifests");
    let container = &pod["containers"][0];
    assert_eq!(container["image"], "registry.example.com/op:1");
    assert_eq!(
        container["args"],
        json!([
            "--all-namespaces",
            "--liveness",
            "http://0.0.0.0:8080/healthz"
        ])
    );
    assert_eq!(
        container["livenessProbe"]["httpGet"],
        json!({"path": "/healthz", "port": 8080})
    );

    let cluster = Cluster::start("manifests-cluster-wide");
    let file = cluster.write_file("deploy.yaml", &yaml);
    let applied = cluster.kubectl_ok(&["apply", "-f", file.to_str().unwrap()]);
    for object in [
        "serviceaccount/manifests",
        "clusterrole.rbac.authorization.k8s.io/manifests",
        "clusterrolebinding.rbac.authorization.k8s.io/manifests",
        "deployment.apps/manifests",
    ] {
        assert!(applied.contains(object), "{object}: {applied}");
    }
    let role = cluster
        .get_json("clusterrole", "manifests")
        .expect("the ClusterRole is stored");
    assert_eq!(role["rules"], json!(rules));
    let deployment = cluster
        .get_json("deployment", "manifests")
        .expect("the Deployment is stored");
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["port"],
        8080
    );
}

#[test]
fn namespaced_manifests_use_roles_and_keep_the_crds_cluster_wide() {
    let (yaml, documents) = manifests(&[
        "-n",
        "team-a",
        "--name",
        "my-op",
        "--liveness",
        "http://0.0.0.0:9090/alive",
    ]);
    assert_eq!(
        kinds(&documents),
        [
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Role",
            "RoleBinding",
            "Deployment"
        ]
    );
    assert_eq!(documents[0]["metadata"]["namespace"], "team-a");
    assert_eq!(documents[1]["rules"], json!(cluster_rules()), "{yaml}");
    assert_eq!(documents[3]["metadata"]["namespace"], "team-a");
    assert_eq!(documents[3]["rules"], resource_rules());
    let container = &documents[5]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "my-op:latest");
    assert_eq!(
        container["args"],
        json!([
            "--namespace",
            "team-a",
            "--liveness",
            "http://0.0.0.0:9090/alive"
        ])
    );
    assert_eq!(
        container["livenessProbe"]["httpGet"],
        json!({"path": "/alive", "port": 9090})
    );

    let cluster = Cluster::start("manifests-namespaced");
    cluster.kubectl_ok(&["create", "namespace", "team-a"]);
    let file = cluster.write_file("deploy.yaml", &yaml);
    cluster.kubectl_ok(&["apply", "-f", file.to_str().unwrap()]);
    let out = cluster.kubectl_ok(&["get", "role", "my-op", "-n", "team-a", "-o", "json"]);
    let role: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(role["rules"], resource_rules());
}

#[test]
fn namespace_patterns_are_refused() {
    let output = Command::new(env!("CARGO_BIN_EXE_kopf"))
        .arg("manifests")
        .arg(operator_file("manifests.rs"))
        .args(["-n", "team-*"])
        .env("KOPF_CACHE_DIR", kopf_cache_dir())
        .output()
        .expect("kopf runs");
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("Roles need plain namespace names"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
