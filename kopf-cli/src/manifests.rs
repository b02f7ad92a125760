//! `kopf manifests FILE.rs…`: what deploying the operator needs, as multi-document YAML on
//! stdout — a ServiceAccount, a ClusterRole (or, with `-n`, Roles in those namespaces plus
//! a ClusterRole for the CRDs) granting only what its handlers use, the bindings, and a
//! Deployment with the liveness probe wired.
//!
//! The handlers are learnt from the operator itself: it is built as `kopf run` builds it
//! and run with the hidden `--kopf-describe`, which prints its selectors and the handler
//! families using each. A built-in resource named by its plural, kind, singular or a short
//! name (`"pods"`, `"Pod"`, `"po"`) is granted by its own group and plural, as RBAC wants
//! it. Other selectors are used as written, offline: a selector with a group grants that
//! group; a bare name (`"kopfexamples"`) grants the name in any group (`apiGroups: ["*"]`),
//! as kopf would serve it from whichever group has it — so a custom resource must be named
//! by its plural, not its kind or a short name (which the CRD in the cluster would resolve).

use crate::run::{build, cache_dir};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct ManifestsArgs {
    /// Operator source files (.rs) or a cargo package directory.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The binary to describe from a cargo package directory with several binaries.
    #[arg(long)]
    pub bin: Option<String>,
    /// The name of the ServiceAccount, roles, bindings and Deployment (default: the
    /// first file's name).
    #[arg(long)]
    pub name: Option<String>,
    /// The operator's container image; its entrypoint is the operator binary
    /// (default: NAME:latest).
    #[arg(long)]
    pub image: Option<String>,
    /// Serve only these namespaces (repeatable): Roles in each instead of a cluster-wide
    /// ClusterRole; the ServiceAccount and Deployment go into the first.
    #[arg(short = 'n', long = "namespace", value_delimiter = ',')]
    pub namespaces: Vec<String>,
    /// Where the ServiceAccount and Deployment go for a cluster-wide operator.
    #[arg(long, default_value = "default", conflicts_with = "namespaces")]
    pub deployment_namespace: String,
    /// The liveness endpoint the operator serves and the probe checks.
    #[arg(long, default_value = "http://0.0.0.0:8080/healthz")]
    pub liveness: String,
}

pub fn main(args: ManifestsArgs) -> ExitCode {
    match render(&args) {
        Ok(yaml) => {
            print!("{yaml}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("kopf: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The manifests as multi-document YAML (also for `kopf new`).
pub fn render(args: &ManifestsArgs) -> Result<String, String> {
    if let Some(pattern) = args
        .namespaces
        .iter()
        .find(|n| n.contains(['*', '?', '!', '[']))
    {
        return Err(format!(
            "-n {pattern}: Roles need plain namespace names, not patterns"
        ));
    }
    let (_, port, path) = parse_liveness(&args.liveness)?;
    let binary =
        build(&args.paths, args.bin.as_deref(), false, &cache_dir()).map_err(|e| e.to_string())?;
    let output = std::process::Command::new(&binary)
        .arg("--kopf-describe")
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} --kopf-describe failed ({})",
            binary.display(),
            output.status
        ));
    }
    let description: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("cannot read the operator's description: {e}"))?;
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| default_name(&args.paths));
    let documents = documents(args, &name, &description, port, &path);
    let mut yaml = String::new();
    for document in documents {
        yaml.push_str("---\n");
        yaml.push_str(&serde_yaml_ng::to_string(&document).map_err(|e| e.to_string())?);
    }
    Ok(yaml)
}

/// The first path's file stem (or directory name) as a DNS label.
fn default_name(paths: &[PathBuf]) -> String {
    let path = &paths[0];
    let stem = if path.is_dir() {
        std::fs::canonicalize(path)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
    } else {
        path.file_stem().map(|n| n.to_string_lossy().into_owned())
    };
    let label: String = stem
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let label = label.trim_matches('-');
    if label.is_empty() {
        "operator".into()
    } else {
        label.into()
    }
}

/// `http://HOST:PORT/PATH` → (host, port, path).
fn parse_liveness(url: &str) -> Result<(String, u16, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("--liveness {url}: an http:// URL is expected"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse()
                .map_err(|_| format!("--liveness {url}: a bad port"))?,
        ),
        None => (authority, 80),
    };
    Ok((host.to_string(), port, path))
}

/// The rules for the handled resources (per selector) and for posting events.
fn resource_rules(description: &Value) -> Vec<Value> {
    let mut rules = Vec::new();
    for resource in description["resources"].as_array().into_iter().flatten() {
        let (groups, name) = resolved(
            resource["group"].as_str(),
            resource["name"].as_str().unwrap_or_default(),
        );
        let group = json!(groups);
        let families: Vec<&str> = resource["families"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        // Changing handlers, daemons and timers write progress, finalizers and status.
        let patches = families.contains(&"changing") || families.contains(&"spawning");
        let mut verbs = vec!["get", "list", "watch"];
        if patches {
            verbs.push("patch");
        }
        rules.push(json!({"apiGroups": group, "resources": [name], "verbs": verbs}));
        if patches {
            rules.push(json!({
                "apiGroups": group,
                "resources": [format!("{name}/status")],
                "verbs": ["patch"],
            }));
        }
    }
    rules.push(json!({"apiGroups": [""], "resources": ["events"], "verbs": ["create"]}));
    rules
}

/// The API groups and the plural RBAC needs for a selector: a built-in's own (all groups
/// serving one by that name), else the selector's group (any, without one) and name.
fn resolved(group: Option<&str>, name: &str) -> (Vec<String>, String) {
    let builtins: Vec<_> = kopf_apiserver::builtin_names()
        .filter(|b| group.is_none_or(|g| g == b.group) && b.is_named(name))
        .collect();
    match builtins.first() {
        Some(first) => {
            let mut groups: Vec<String> = Vec::new();
            for builtin in builtins.iter().filter(|b| b.plural == first.plural) {
                if !groups.iter().any(|g| g == builtin.group) {
                    groups.push(builtin.group.to_string());
                }
            }
            (groups, first.plural.to_string())
        }
        None => (vec![group.unwrap_or("*").to_string()], name.to_string()),
    }
}

/// kopf watches the CRDs to serve resources defined later (cluster-scoped).
fn cluster_rules(description: &Value) -> Vec<Value> {
    let mut rules = vec![json!({
        "apiGroups": ["apiextensions.k8s.io"],
        "resources": ["customresourcedefinitions"],
        "verbs": ["get", "list", "watch"],
    })];
    // Admission handlers may keep their webhook configurations (`settings.admission.managed`).
    if description["admission"].as_bool() == Some(true) {
        rules.push(json!({
            "apiGroups": ["admissionregistration.k8s.io"],
            "resources": ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"],
            "verbs": ["create", "patch"],
        }));
    }
    if description["peering"].as_bool() == Some(true) {
        rules.push(json!({
            "apiGroups": ["kopf.dev"],
            "resources": ["clusterkopfpeerings", "kopfpeerings"],
            "verbs": ["get", "list", "watch", "patch"],
        }));
    }
    if description["leases"].as_bool() == Some(true) {
        rules.push(json!({
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "verbs": ["get", "list", "create", "update"],
        }));
    }
    rules
}

fn documents(
    args: &ManifestsArgs,
    name: &str,
    description: &Value,
    port: u16,
    path: &str,
) -> Vec<Value> {
    let home = args
        .namespaces
        .first()
        .cloned()
        .unwrap_or_else(|| args.deployment_namespace.clone());
    let subject = json!([{"kind": "ServiceAccount", "name": name, "namespace": home}]);
    let rbac = "rbac.authorization.k8s.io/v1";
    // The CRDs of the handlers' typed custom resources come first: the rest refers to them.
    let mut documents: Vec<Value> = description["crds"].as_array().cloned().unwrap_or_default();
    documents.push(json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": name, "namespace": home},
    }));
    let mut cluster = cluster_rules(description);
    if args.namespaces.is_empty() {
        cluster.extend(resource_rules(description));
    }
    documents.push(json!({
        "apiVersion": rbac, "kind": "ClusterRole",
        "metadata": {"name": name},
        "rules": cluster,
    }));
    documents.push(json!({
        "apiVersion": rbac, "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": subject,
    }));
    for namespace in &args.namespaces {
        documents.push(json!({
            "apiVersion": rbac, "kind": "Role",
            "metadata": {"name": name, "namespace": namespace},
            "rules": resource_rules(description),
        }));
        documents.push(json!({
            "apiVersion": rbac, "kind": "RoleBinding",
            "metadata": {"name": name, "namespace": namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": subject,
        }));
    }
    let mut operator_args: Vec<String> = Vec::new();
    if args.namespaces.is_empty() {
        operator_args.push("--all-namespaces".into());
    }
    for namespace in &args.namespaces {
        operator_args.extend(["--namespace".into(), namespace.clone()]);
    }
    operator_args.extend(["--liveness".into(), args.liveness.clone()]);
    let image = args
        .image
        .clone()
        .unwrap_or_else(|| format!("{name}:latest"));
    documents.push(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": home, "labels": {"app": name}},
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "serviceAccountName": name,
                    "containers": [{
                        "name": "operator",
                        "image": image,
                        "args": operator_args,
                        "ports": [{"name": "liveness", "containerPort": port}],
                        "livenessProbe": {
                            "httpGet": {"path": path, "port": port},
                            "initialDelaySeconds": 10,
                            "periodSeconds": 10,
                        },
                    }],
                },
            },
        },
    }));
    documents
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_ins_are_granted_by_their_group_and_plural() {
        let grant = |group: Option<&str>, name: &str| resolved(group, name);
        let pods = (vec![String::new()], "pods".to_string());
        assert_eq!(grant(None, "pods"), pods);
        assert_eq!(grant(None, "po"), pods);
        assert_eq!(grant(None, "Pod"), pods);
        assert_eq!(grant(None, "pod"), pods);
        assert_eq!(
            grant(None, "deploy"),
            (vec!["apps".to_string()], "deployments".to_string())
        );
        assert_eq!(
            grant(None, "events"),
            (
                vec![String::new(), "events.k8s.io".to_string()],
                "events".to_string()
            ),
            "every group serving it"
        );
        assert_eq!(
            grant(Some("events.k8s.io"), "ev"),
            (vec!["events.k8s.io".to_string()], "events".to_string())
        );
        // Custom resources: as written, offline.
        assert_eq!(
            grant(None, "kopfexamples"),
            (vec!["*".to_string()], "kopfexamples".to_string())
        );
        assert_eq!(
            grant(Some("kopf.dev"), "kopfexamples"),
            (vec!["kopf.dev".to_string()], "kopfexamples".to_string())
        );
    }

    #[test]
    fn liveness_urls_are_split() {
        assert_eq!(
            parse_liveness("http://0.0.0.0:8080/healthz").unwrap(),
            ("0.0.0.0".into(), 8080, "/healthz".into())
        );
        assert_eq!(
            parse_liveness("http://host").unwrap(),
            ("host".into(), 80, "/".into())
        );
        assert!(parse_liveness("https://x:1/").is_err());
    }

    #[test]
    fn admission_handlers_may_manage_their_webhook_configurations() {
        let rules = cluster_rules(&json!({"resources": [], "admission": true}));
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[1]["verbs"], json!(["create", "patch"]));
        assert_eq!(cluster_rules(&json!({"resources": []})).len(), 1);
    }

    #[test]
    fn names_are_dns_labels() {
        assert_eq!(default_name(&[PathBuf::from("a/My_Op.rs")]), "my-op");
    }

    #[test]
    fn only_writers_get_patch() {
        let description = json!({"resources": [
            {"group": null, "version": null, "name": "kopfexamples", "families": ["changing"]},
            {"group": "", "version": "v1", "name": "pods", "families": ["watching", "indexing"]},
        ]});
        let rules = resource_rules(&description);
        assert_eq!(
            rules,
            vec![
                json!({"apiGroups": ["*"], "resources": ["kopfexamples"], "verbs": ["get", "list", "watch", "patch"]}),
                json!({"apiGroups": ["*"], "resources": ["kopfexamples/status"], "verbs": ["patch"]}),
                json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}),
                json!({"apiGroups": [""], "resources": ["events"], "verbs": ["create"]}),
            ]
        );
    }
}
