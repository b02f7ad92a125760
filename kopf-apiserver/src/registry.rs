//! Which resources are served: the built-ins and those registered by CRDs.

use serde_json::Value;
use std::sync::Arc;

/// One served resource at one group-version.
#[derive(Clone, Debug)]
pub struct Resource {
    pub group: String,
    pub version: String,
    pub plural: String,
    pub singular: String,
    pub kind: String,
    pub list_kind: String,
    pub namespaced: bool,
    /// Has a `/status` subresource.
    pub status: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    /// The CRD version's `openAPIV3Schema`, for pruning and defaulting.
    pub schema: Option<Value>,
    /// Defined by a CRD (not a built-in).
    pub custom: bool,
    /// The uid of the defining CRD; a watch ends when it changes (API-69).
    pub owner_uid: String,
    /// Has a `/scale` subresource, and where its replicas are.
    pub scale: Option<ScalePaths>,
    /// A CRD version's `additionalPrinterColumns`, for Tables.
    pub printer_columns: Vec<Value>,
}

/// Where an object keeps what its Scale shows (JSON paths as CRDs write them: `.spec.replicas`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScalePaths {
    pub spec_replicas: String,
    pub status_replicas: String,
    /// A string field with the selector (CRDs), or `None` for built-ins, whose
    /// `spec.selector` is a label selector object.
    pub label_selector: Option<String>,
}

impl ScalePaths {
    /// The built-ins' paths (deployments, replica sets, stateful sets).
    pub fn builtin() -> Self {
        ScalePaths {
            spec_replicas: ".spec.replicas".into(),
            status_replicas: ".status.replicas".into(),
            label_selector: None,
        }
    }

    /// A CRD version's `subresources.scale`.
    pub fn of_crd(scale: &Value) -> Option<Self> {
        let path = |key: &str| scale.get(key).and_then(Value::as_str).map(str::to_string);
        Some(ScalePaths {
            spec_replicas: path("specReplicasPath")?,
            status_replicas: path("statusReplicasPath")?,
            label_selector: path("labelSelectorPath"),
        })
    }
}

/// The verbs of every resource (reviews aside, which are only created).
pub const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

impl Resource {
    /// `v1` or `group/version`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `plural` for core, `plural.group` otherwise (used in messages).
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// Objects of all versions of one group/plural share one store.
    pub fn storage_key(&self) -> String {
        if self.is_events_v1() {
            return "/events".into();
        }
        format!("{}/{}", self.group, self.plural)
    }

    /// `events.k8s.io/v1` Events live in the core Event store, converted at the edges.
    pub fn is_events_v1(&self) -> bool {
        self.group == "events.k8s.io" && self.plural == "events"
    }

    /// Strategic merge is allowed for built-ins only (API-83).
    pub fn strategic_allowed(&self) -> bool {
        !self.custom
    }

    /// PUT without a resourceVersion is allowed for built-ins only (API-70).
    pub fn unconditional_update(&self) -> bool {
        !self.custom
    }
}

/// All served resources, in registration order.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    pub resources: Vec<Arc<Resource>>,
}

/// `(group, version, plural, kind, namespaced, status, short names)` of one built-in.
type Builtin = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    bool,
    bool,
    &'static [&'static str],
);

const BUILTINS: &[Builtin] = &[
    ("", "v1", "namespaces", "Namespace", false, true, &["ns"]),
    ("", "v1", "configmaps", "ConfigMap", true, false, &["cm"]),
    ("", "v1", "secrets", "Secret", true, false, &[]),
    ("", "v1", "pods", "Pod", true, true, &["po"]),
    ("", "v1", "services", "Service", true, true, &["svc"]),
    (
        "",
        "v1",
        "persistentvolumeclaims",
        "PersistentVolumeClaim",
        true,
        true,
        &["pvc"],
    ),
    (
        "",
        "v1",
        "serviceaccounts",
        "ServiceAccount",
        true,
        false,
        &["sa"],
    ),
    ("", "v1", "events", "Event", true, false, &["ev"]),
    (
        "events.k8s.io",
        "v1",
        "events",
        "Event",
        true,
        false,
        &["ev"],
    ),
    (
        "coordination.k8s.io",
        "v1",
        "leases",
        "Lease",
        true,
        false,
        &[],
    ),
    (
        "apps",
        "v1",
        "deployments",
        "Deployment",
        true,
        true,
        &["deploy"],
    ),
    (
        "apps",
        "v1",
        "replicasets",
        "ReplicaSet",
        true,
        true,
        &["rs"],
    ),
    (
        "apps",
        "v1",
        "statefulsets",
        "StatefulSet",
        true,
        true,
        &["sts"],
    ),
    ("apps", "v1", "daemonsets", "DaemonSet", true, true, &["ds"]),
    ("batch", "v1", "jobs", "Job", true, true, &[]),
    ("batch", "v1", "cronjobs", "CronJob", true, true, &["cj"]),
    (
        "",
        "v1",
        "resourcequotas",
        "ResourceQuota",
        true,
        true,
        &["quota"],
    ),
    (
        "scheduling.k8s.io",
        "v1",
        "priorityclasses",
        "PriorityClass",
        false,
        false,
        &["pc"],
    ),
    (
        "policy",
        "v1",
        "poddisruptionbudgets",
        "PodDisruptionBudget",
        true,
        true,
        &["pdb"],
    ),
    (
        "networking.k8s.io",
        "v1",
        "ingresses",
        "Ingress",
        true,
        true,
        &["ing"],
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "roles",
        "Role",
        true,
        false,
        &[],
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "rolebindings",
        "RoleBinding",
        true,
        false,
        &[],
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "clusterroles",
        "ClusterRole",
        false,
        false,
        &[],
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        "ClusterRoleBinding",
        false,
        false,
        &[],
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        false,
        false,
        &[],
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
        false,
        false,
        &[],
    ),
    (
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        false,
        true,
        &["crd", "crds"],
    ),
    (
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
        false,
        false,
        &[],
    ),
    (
        "authorization.k8s.io",
        "v1",
        "selfsubjectrulesreviews",
        "SelfSubjectRulesReview",
        false,
        false,
        &[],
    ),
    (
        "authorization.k8s.io",
        "v1",
        "subjectaccessreviews",
        "SubjectAccessReview",
        false,
        false,
        &[],
    ),
    (
        "authorization.k8s.io",
        "v1",
        "localsubjectaccessreviews",
        "LocalSubjectAccessReview",
        true,
        false,
        &[],
    ),
    (
        "authentication.k8s.io",
        "v1",
        "selfsubjectreviews",
        "SelfSubjectReview",
        false,
        false,
        &[],
    ),
];

/// The categories kube-apiserver gives built-in kinds: `kubectl get all` lists the
/// workloads and services.
fn builtin_categories(plural: &str) -> Vec<String> {
    const ALL: [&str; 10] = [
        "pods",
        "replicationcontrollers",
        "services",
        "daemonsets",
        "deployments",
        "replicasets",
        "statefulsets",
        "horizontalpodautoscalers",
        "cronjobs",
        "jobs",
    ];
    if ALL.contains(&plural) {
        vec!["all".to_string()]
    } else {
        Vec::new()
    }
}

/// A built-in resource by the names selectors and kubectl may use for it.
#[derive(Clone, Copy, Debug)]
pub struct BuiltinName {
    pub group: &'static str,
    pub plural: &'static str,
    pub kind: &'static str,
    pub short_names: &'static [&'static str],
}

impl BuiltinName {
    /// Whether `name` names it as kopf resolves a selector: its plural, its kind or
    /// singular (any case), or one of its short names.
    pub fn is_named(&self, name: &str) -> bool {
        name == self.plural
            || name.eq_ignore_ascii_case(self.kind)
            || self.short_names.contains(&name)
    }
}

/// The built-in resources this server serves.
pub fn builtin_names() -> impl Iterator<Item = BuiltinName> {
    BUILTINS
        .iter()
        .map(|&(group, _, plural, kind, _, _, short_names)| BuiltinName {
            group,
            plural,
            kind,
            short_names,
        })
}

impl Registry {
    pub fn with_builtins() -> Self {
        let resources = BUILTINS
            .iter()
            .map(
                |&(group, version, plural, kind, namespaced, status, shorts)| {
                    Arc::new(Resource {
                        group: group.into(),
                        version: version.into(),
                        plural: plural.into(),
                        singular: kind.to_ascii_lowercase(),
                        kind: kind.into(),
                        list_kind: format!("{kind}List"),
                        namespaced,
                        status,
                        short_names: shorts.iter().map(|s| s.to_string()).collect(),
                        categories: builtin_categories(plural),
                        schema: None,
                        custom: false,
                        owner_uid: String::new(),
                        scale: matches!(plural, "deployments" | "replicasets" | "statefulsets")
                            .then(ScalePaths::builtin),
                        printer_columns: Vec::new(),
                    })
                },
            )
            .collect();
        Registry { resources }
    }

    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<Arc<Resource>> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
            .cloned()
    }

    /// Groups (other than core) in registration order, each with its versions.
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for r in self.resources.iter().filter(|r| !r.group.is_empty()) {
            match groups.iter_mut().find(|(g, _)| *g == r.group) {
                Some((_, versions)) => {
                    if !versions.contains(&r.version) {
                        versions.push(r.version.clone());
                    }
                }
                None => groups.push((r.group.clone(), vec![r.version.clone()])),
            }
        }
        for (_, versions) in &mut groups {
            versions.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
        }
        groups
    }

    pub fn in_group_version(&self, group: &str, version: &str) -> Vec<Arc<Resource>> {
        self.resources
            .iter()
            .filter(|r| r.group == group && r.version == version)
            .cloned()
            .collect()
    }

    /// Removes every resource defined by the CRD `crd_name` (`plural.group`).
    pub fn unregister_crd(&mut self, group: &str, plural: &str) {
        self.resources
            .retain(|r| !(r.custom && r.group == group && r.plural == plural));
    }

    /// Registers (or replaces) the served versions of a CRD object.
    pub fn register_crd(&mut self, crd: &Value) -> Result<(), String> {
        let defs = crd_resources(crd)?;
        if let Some(first) = defs.first() {
            let (group, plural) = (first.group.clone(), first.plural.clone());
            if self
                .resources
                .iter()
                .any(|r| !r.custom && r.group == group && r.plural == plural)
            {
                return Err(format!("{plural}.{group} is a built-in resource"));
            }
            self.unregister_crd(&group, &plural);
        }
        self.resources.extend(defs.into_iter().map(Arc::new));
        Ok(())
    }
}

/// The resources a CRD object defines (one per served version).
pub fn crd_resources(crd: &Value) -> Result<Vec<Resource>, String> {
    let spec = crd.get("spec").ok_or("spec: Required value")?;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
    let list = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let group = text(spec.get("group"));
    let names = spec.get("names").ok_or("spec.names: Required value")?;
    let plural = text(names.get("plural"));
    let kind = text(names.get("kind"));
    if group.is_empty() {
        return Err("spec.group: Required value".into());
    }
    if plural.is_empty() {
        return Err("spec.names.plural: Required value".into());
    }
    if kind.is_empty() {
        return Err("spec.names.kind: Required value".into());
    }
    let mut singular = text(names.get("singular"));
    if singular.is_empty() {
        singular = kind.to_ascii_lowercase();
    }
    let mut list_kind = text(names.get("listKind"));
    if list_kind.is_empty() {
        list_kind = format!("{kind}List");
    }
    let namespaced = text(spec.get("scope")) != "Cluster";
    let owner_uid = text(crd.pointer("/metadata/uid"));
    let versions = spec
        .get("versions")
        .and_then(Value::as_array)
        .ok_or("spec.versions: Required value")?;
    let mut out = Vec::new();
    for v in versions {
        if v.get("served").and_then(Value::as_bool) != Some(true) {
            continue;
        }
        let version = text(v.get("name"));
        if version.is_empty() {
            return Err("spec.versions[].name: Required value".into());
        }
        out.push(Resource {
            group: group.clone(),
            version,
            plural: plural.clone(),
            singular: singular.clone(),
            kind: kind.clone(),
            list_kind: list_kind.clone(),
            namespaced,
            status: v.pointer("/subresources/status").is_some(),
            short_names: list(names.get("shortNames")),
            categories: list(names.get("categories")),
            schema: v.pointer("/schema/openAPIV3Schema").cloned(),
            custom: true,
            owner_uid: owner_uid.clone(),
            scale: v
                .pointer("/subresources/scale")
                .and_then(ScalePaths::of_crd),
            printer_columns: v
                .get("additionalPrinterColumns")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Kubernetes version priority: GA above beta above alpha, higher numbers first; others last.
fn version_priority(version: &str) -> (u8, u64, u8, u64) {
    let Some(rest) = version.strip_prefix('v') else {
        return (0, 0, 0, 0);
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let Ok(major) = digits.parse::<u64>() else {
        return (0, 0, 0, 0);
    };
    let tail = &rest[digits.len()..];
    let (stage, minor) = if tail.is_empty() {
        (3, 0)
    } else if let Some(n) = tail.strip_prefix("beta") {
        (2, n.parse().unwrap_or(0))
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, n.parse().unwrap_or(0))
    } else {
        return (0, 0, 0, 0);
    };
    (
        1,
        if stage == 3 { major } else { 0 },
        stage,
        if stage == 3 { 0 } else { major * 1000 + minor },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferred_versions_follow_kubernetes_priority() {
        let mut versions = vec!["v1alpha1", "v1beta1", "v1", "v2beta1", "v2", "foo"];
        versions.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
        assert_eq!(
            versions,
            ["v2", "v1", "v2beta1", "v1beta1", "v1alpha1", "foo"]
        );
    }
}
