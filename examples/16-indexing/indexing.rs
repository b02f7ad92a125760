//! kopf's example 16-indexing: two indices of pods, kept current from the watch, read by
//! probes (at the liveness endpoint) and by a timer of another resource. Keys of any shape
//! (here tuples) go through `kopf::Keyed`.
//!
//! ```sh
//! kopf run examples/16-indexing/indexing.rs --verbose --embedded --apply examples/crd.yaml --apply examples/obj.yaml --liveness http://127.0.0.1:8080/healthz
//! ```

/// Whether each pod runs, by (namespace, name).
#[kopf::index("pods")]
fn is_running(
    namespace: kopf::Namespace,
    name: kopf::Name,
    status: kopf::Status,
) -> Option<kopf::Keyed<(String, String), bool>> {
    let running = status.get("phase").and_then(|p| p.as_str()) == Some("Running");
    Some(kopf::Keyed::from([((namespace.to_string(), name.to_string()), running)]))
}

/// Pod names by (label, value).
#[kopf::index("pods")]
fn by_label(labels: kopf::Labels, name: kopf::Name) -> Option<kopf::Keyed<(String, String), String>> {
    Some(labels.iter().map(|(label, value)| ((label.clone(), value.clone()), name.to_string())).collect())
}

#[kopf::on::probe]
fn pod_count(is_running: IsRunningIndex) -> kopf::Result<usize> {
    Ok(is_running.len())
}

#[kopf::on::probe]
fn pod_names(is_running: IsRunningIndex) -> kopf::Result<Vec<String>> {
    Ok(is_running
        .keys()
        .iter()
        .filter_map(|key| Some(key.get(1)?.as_str()?.to_string()))
        .collect())
}

#[kopf::timer("kex", interval = 5)]
fn intervalled(is_running: IsRunningIndex, by_label: ByLabelIndex, patch: kopf::Patch) {
    let by_label = kopf::serde_json::to_string(&by_label.items()).unwrap_or_default();
    println!("by_label: {by_label}");
    let running: Vec<String> = is_running
        .items()
        .into_iter()
        .filter(|(_, states)| states.iter().any(|s| s == &true))
        .filter_map(|(key, _)| {
            let (namespace, name) = (key.get(0)?.as_str()?, key.get(1)?.as_str()?);
            ["kube-system", "default"]
                .contains(&namespace)
                .then(|| format!("{namespace}::{name}"))
        })
        .collect();
    patch.set("status.running-pods", running.into());
}
