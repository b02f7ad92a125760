//! What kube-apiserver's defaulting gives the built-in kinds people create most (API-132):
//! pods and the pod templates of workloads, deployments and the other workloads, and
//! services — whose cluster IP and node ports are allocated once and kept by updates that
//! leave them out, as kube-apiserver keeps them. Values set by the writer are never changed.

use crate::registry::Resource;
use crate::store::State;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// The range cluster IPs come from (kind's and minikube's default service range);
/// `10.96.0.1` is the `kubernetes` service's in a real cluster, so allocation starts after.
const SERVICE_RANGE: (u32, u32) = (0x0A60_0002, 0x0A6F_FFFE);
/// kube-apiserver's default `--service-node-port-range`.
const NODE_PORTS: std::ops::RangeInclusive<u64> = 30000..=32767;

/// Sets the defaults of the object's kind, where the writer left them out.
pub fn apply(res: &Resource, object: &mut Value) {
    let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    match (res.group.as_str(), res.plural.as_str()) {
        ("", "pods") => {
            pod_spec(spec);
            set(spec, "enableServiceLinks", json!(true));
            for container in containers(spec) {
                requests_from_limits(container);
            }
        }
        ("", "services") => service_spec(spec),
        ("apps", "deployments") => {
            set(spec, "replicas", json!(1));
            set(spec, "revisionHistoryLimit", json!(10));
            set(spec, "progressDeadlineSeconds", json!(600));
            rolling_update(
                spec,
                "strategy",
                &[("maxUnavailable", json!("25%")), ("maxSurge", json!("25%"))],
            );
            template(spec);
        }
        ("apps", "replicasets") => {
            set(spec, "replicas", json!(1));
            template(spec);
        }
        ("apps", "statefulsets") => {
            set(spec, "replicas", json!(1));
            set(spec, "podManagementPolicy", json!("OrderedReady"));
            set(spec, "revisionHistoryLimit", json!(10));
            rolling_update(spec, "updateStrategy", &[("partition", json!(0))]);
            let retention = object_at(spec, "persistentVolumeClaimRetentionPolicy");
            set(retention, "whenDeleted", json!("Retain"));
            set(retention, "whenScaled", json!("Retain"));
            template(spec);
        }
        ("apps", "daemonsets") => {
            set(spec, "revisionHistoryLimit", json!(10));
            rolling_update(
                spec,
                "updateStrategy",
                &[("maxUnavailable", json!(1)), ("maxSurge", json!(0))],
            );
            template(spec);
        }
        ("batch", "jobs") => {
            job_spec(spec);
            template(spec);
        }
        ("batch", "cronjobs") => {
            set(spec, "concurrencyPolicy", json!("Allow"));
            set(spec, "suspend", json!(false));
            set(spec, "successfulJobsHistoryLimit", json!(3));
            set(spec, "failedJobsHistoryLimit", json!(1));
            if let Some(job) = spec
                .get_mut("jobTemplate")
                .and_then(|t| t.get_mut("spec"))
                .and_then(Value::as_object_mut)
            {
                template(job);
            }
        }
        _ => {}
    }
}

/// A new service's cluster IP (unless headless or `ExternalName`) and node ports (for
/// `NodePort` and `LoadBalancer` services), the first ones free in this cluster.
pub fn allocate(state: &State, res: &Resource, object: &mut Value) {
    if !(res.group.is_empty() && res.plural == "services") {
        return;
    }
    let services = state.list(&res.storage_key(), None);
    let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let kind = spec["type"].as_str().unwrap_or("ClusterIP").to_string();
    if kind != "ExternalName" && spec.get("clusterIP").is_none_or(is_unset) {
        let taken: BTreeSet<&str> = services
            .iter()
            .filter_map(|s| s.pointer("/spec/clusterIP").and_then(Value::as_str))
            .collect();
        let free = (SERVICE_RANGE.0..=SERVICE_RANGE.1)
            .map(|ip| std::net::Ipv4Addr::from(ip).to_string())
            .find(|ip| !taken.contains(ip.as_str()));
        if let Some(ip) = free {
            spec.insert("clusterIP".into(), json!(ip));
        }
    }
    if let Some(ip) = spec.get("clusterIP").filter(|ip| !is_unset(ip)).cloned() {
        set(spec, "clusterIPs", json!([ip]));
    }
    if kind == "NodePort" || kind == "LoadBalancer" {
        let mut taken: BTreeSet<u64> = services
            .iter()
            .filter_map(|s| s.pointer("/spec/ports").and_then(Value::as_array))
            .flatten()
            .filter_map(|p| p["nodePort"].as_u64())
            .collect();
        for port in ports(spec) {
            if port.get("nodePort").is_none_or(is_unset)
                && let Some(free) = NODE_PORTS.clone().find(|p| !taken.contains(p))
            {
                taken.insert(free);
                port.insert("nodePort".into(), json!(free));
            }
        }
    }
}

/// What an update of a service that leaves them out keeps of the old one: its cluster IPs
/// and each port's node port (kube-apiserver's `patchAllocatedValues`).
pub fn keep_allocated(res: &Resource, old: &Value, new: &mut Value) {
    if !(res.group.is_empty() && res.plural == "services") {
        return;
    }
    let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let old_spec = &old["spec"];
    let new_type = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    if new_type != "ExternalName" {
        for field in ["clusterIP", "clusterIPs"] {
            if spec.get(field).is_none_or(is_unset)
                && let Some(kept) = old_spec.get(field).filter(|v| !is_unset(v))
            {
                spec.insert(field.into(), kept.clone());
            }
        }
    }
    if new_type == "NodePort" || new_type == "LoadBalancer" {
        let old_ports = old_spec["ports"].as_array().cloned().unwrap_or_default();
        for port in ports(spec) {
            if port.get("nodePort").is_some_and(|p| !is_unset(p)) {
                continue;
            }
            let same = old_ports.iter().find(|o| {
                o["port"] == port["port"]
                    && o["protocol"].as_str().unwrap_or("TCP")
                        == port["protocol"].as_str().unwrap_or("TCP")
            });
            if let Some(node_port) = same
                .and_then(|o| o.get("nodePort"))
                .filter(|p| !is_unset(p))
            {
                port.insert("nodePort".into(), node_port.clone());
            }
        }
    }
}

fn service_spec(spec: &mut Map<String, Value>) {
    set(spec, "type", json!("ClusterIP"));
    set(spec, "sessionAffinity", json!("None"));
    let kind = spec["type"].as_str().unwrap_or_default().to_string();
    for port in ports(spec) {
        set(port, "protocol", json!("TCP"));
        if let Some(number) = port.get("port").cloned() {
            set(port, "targetPort", number);
        }
    }
    if kind != "ExternalName" {
        set(spec, "internalTrafficPolicy", json!("Cluster"));
        set(spec, "ipFamilies", json!(["IPv4"]));
        set(spec, "ipFamilyPolicy", json!("SingleStack"));
    }
    if kind == "NodePort" || kind == "LoadBalancer" {
        set(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if kind == "LoadBalancer" {
        set(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
}

/// A workload's update strategy: `RollingUpdate` unless set, and then its parameters.
fn rolling_update(spec: &mut Map<String, Value>, key: &str, parameters: &[(&str, Value)]) {
    let strategy = object_at(spec, key);
    set(strategy, "type", json!("RollingUpdate"));
    if strategy["type"] == "RollingUpdate" {
        let rolling = object_at(strategy, "rollingUpdate");
        for (name, value) in parameters {
            set(rolling, name, value.clone());
        }
    }
}

fn job_spec(spec: &mut Map<String, Value>) {
    if is_missing(spec, "completions") && is_missing(spec, "parallelism") {
        spec.insert("completions".into(), json!(1));
    }
    set(spec, "parallelism", json!(1));
    set(spec, "backoffLimit", json!(6));
    set(spec, "completionMode", json!("NonIndexed"));
    set(spec, "suspend", json!(false));
    set(spec, "podReplacementPolicy", json!("TerminatingOrFailed"));
}

/// The pod template of a workload (`spec.template.spec`).
fn template(spec: &mut Map<String, Value>) {
    if let Some(pod) = spec
        .get_mut("template")
        .and_then(|t| t.get_mut("spec"))
        .and_then(Value::as_object_mut)
    {
        pod_spec(pod);
    }
}

/// kube's `SetDefaults_PodSpec` and those of what a pod spec holds.
fn pod_spec(spec: &mut Map<String, Value>) {
    set(spec, "dnsPolicy", json!("ClusterFirst"));
    set(spec, "restartPolicy", json!("Always"));
    set(spec, "terminationGracePeriodSeconds", json!(30));
    set(spec, "securityContext", json!({}));
    set(spec, "schedulerName", json!("default-scheduler"));
    for container in containers(spec) {
        container_defaults(container);
    }
    for volume in items(spec, "volumes") {
        for source in ["configMap", "secret", "downwardAPI", "projected"] {
            if let Some(source) = volume.get_mut(source).and_then(Value::as_object_mut) {
                set(source, "defaultMode", json!(420));
            }
        }
    }
}

fn container_defaults(container: &mut Map<String, Value>) {
    set(
        container,
        "terminationMessagePath",
        json!("/dev/termination-log"),
    );
    set(container, "terminationMessagePolicy", json!("File"));
    set(container, "resources", json!({}));
    if let Some(image) = container.get("image").and_then(Value::as_str) {
        let policy = pull_policy(image);
        set(container, "imagePullPolicy", json!(policy));
    }
    for port in items(container, "ports") {
        set(port, "protocol", json!("TCP"));
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(probe) = container.get_mut(probe).and_then(Value::as_object_mut) {
            set(probe, "timeoutSeconds", json!(1));
            set(probe, "periodSeconds", json!(10));
            set(probe, "successThreshold", json!(1));
            set(probe, "failureThreshold", json!(3));
            if let Some(get) = probe.get_mut("httpGet").and_then(Value::as_object_mut) {
                set(get, "scheme", json!("HTTP"));
            }
        }
    }
    for env in items(container, "env") {
        if let Some(field) = env
            .get_mut("valueFrom")
            .and_then(|v| v.get_mut("fieldRef"))
            .and_then(Value::as_object_mut)
        {
            set(field, "apiVersion", json!("v1"));
        }
    }
}

/// `Always` for `:latest` or an untagged image, else `IfNotPresent` (a digest included).
fn pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, tag)) if tag != "latest" => "IfNotPresent",
        _ => "Always",
    }
}

/// A pod's containers' requests default to their limits.
fn requests_from_limits(container: &mut Map<String, Value>) {
    let Some(limits) = container
        .get("resources")
        .and_then(|r| r.get("limits"))
        .and_then(Value::as_object)
        .cloned()
    else {
        return;
    };
    let resources = object_at(container, "resources");
    let requests = object_at(resources, "requests");
    for (name, quantity) in limits {
        set(requests, &name, quantity);
    }
}

/// Every container and init container of a pod spec.
fn containers(spec: &mut Map<String, Value>) -> impl Iterator<Item = &mut Map<String, Value>> {
    let mut all = Vec::new();
    for (key, list) in spec.iter_mut() {
        if key == "containers" || key == "initContainers" {
            all.extend(
                list.as_array_mut()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_object_mut),
            );
        }
    }
    all.into_iter()
}

fn items<'a>(
    map: &'a mut Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a mut Map<String, Value>> {
    map.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

fn ports(spec: &mut Map<String, Value>) -> impl Iterator<Item = &mut Map<String, Value>> {
    items(spec, "ports")
}

/// The object under `key`, made if missing (or not an object).
fn object_at<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    if !map.get(key).is_some_and(Value::is_object) {
        map.insert(key.into(), json!({}));
    }
    match map.get_mut(key) {
        Some(Value::Object(inner)) => inner,
        // Just ensured above.
        _ => unreachable!("an object was just put there"),
    }
}

fn is_unset(value: &Value) -> bool {
    value.is_null() || value.as_str() == Some("") || value.as_u64() == Some(0)
}

fn is_missing(map: &Map<String, Value>, key: &str) -> bool {
    map.get(key).is_none_or(Value::is_null)
}

/// Sets `key` unless the writer did.
fn set(map: &mut Map<String, Value>, key: &str, value: Value) {
    if is_missing(map, key) {
        map.insert(key.into(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_policies_follow_the_tag() {
        assert_eq!(pull_policy("nginx"), "Always");
        assert_eq!(pull_policy("nginx:latest"), "Always");
        assert_eq!(pull_policy("nginx:1.27"), "IfNotPresent");
        assert_eq!(pull_policy("registry:5000/team/app"), "Always");
        assert_eq!(pull_policy("registry:5000/team/app:v2"), "IfNotPresent");
        assert_eq!(pull_policy("app@sha256:abc"), "IfNotPresent");
    }
}
