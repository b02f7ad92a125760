//! Observation: which served resource each handler's selector means, and what cannot be
//! served (yet). CRDs are watched so that a resource created later gets served.

use crate::structs::resource::{Resource, Selector};
use std::collections::BTreeMap;

const TARGET: &str = "kopf._core.reactor.observation";

/// The resource of CustomResourceDefinitions: always watched.
pub fn crd_resource() -> Resource {
    Resource {
        group: "apiextensions.k8s.io".into(),
        version: "v1".into(),
        plural: "customresourcedefinitions".into(),
        kind: "CustomResourceDefinition".into(),
        singular: "customresourcedefinition".into(),
        short_names: vec!["crd".into()],
        categories: vec![],
        namespaced: false,
        has_status_subresource: true,
        verbs: vec![],
    }
}

/// How each selector resolved.
#[derive(Debug, Default)]
pub struct Resolution {
    pub resolved: BTreeMap<Selector, Resource>,
    pub unresolved: Vec<Selector>,
    pub ambiguous: Vec<(Selector, Vec<Resource>)>,
}

/// Resolves selectors as kopf does: exact group/version when given; for bare names, the
/// preferred versions, with the core group winning over others; several groups = ambiguous.
pub fn resolve(selectors: &[Selector], resources: &[Resource]) -> Resolution {
    let mut resolution = Resolution::default();
    for selector in selectors {
        let mut candidates: Vec<&Resource> =
            resources.iter().filter(|r| selector.matches(r)).collect();
        if selector.version.is_none() {
            // Keep the first (preferred) version of each group.
            let mut seen = Vec::new();
            candidates.retain(|r| {
                if seen.contains(&&r.group) {
                    false
                } else {
                    seen.push(&r.group);
                    true
                }
            });
        }
        if candidates.len() > 1
            && selector.group.is_none()
            && let Some(core) = candidates.iter().find(|r| r.group.is_empty())
        {
            candidates = vec![*core];
        }
        match candidates.as_slice() {
            [] => resolution.unresolved.push(selector.clone()),
            [one] => {
                resolution.resolved.insert(selector.clone(), (*one).clone());
            }
            many => resolution.ambiguous.push((
                selector.clone(),
                many.iter().map(|r| (*r).clone()).collect(),
            )),
        }
    }
    resolution
}

/// Logs kopf's warnings for selectors that cannot be served (yet).
pub fn warn_unserved(resolution: &Resolution) {
    if !resolution.unresolved.is_empty() {
        let names: Vec<String> = resolution
            .unresolved
            .iter()
            .map(|s| s.to_string())
            .collect();
        tracing::warn!(
            target: TARGET,
            "Unresolved resources cannot be served (try creating their CRDs): {}",
            names.join(", ")
        );
    }
    if !resolution.ambiguous.is_empty() {
        let names: Vec<String> = resolution
            .ambiguous
            .iter()
            .map(|(s, rs)| {
                let options: Vec<String> = rs.iter().map(|r| r.to_string()).collect();
                format!("{s} ({})", options.join(", "))
            })
            .collect();
        tracing::warn!(
            target: TARGET,
            "Ambiguous resources will not be served (try specifying API groups): {}",
            names.join(", ")
        );
    }
}

/// The selectors once each, in order.
pub fn dedup(selectors: Vec<Selector>) -> Vec<Selector> {
    let set: std::collections::BTreeSet<Selector> = selectors.into_iter().collect();
    set.into_iter().collect()
}

/// The first discovery retries every failure with kopf's backoffs (the last one
/// repeating): a cluster that is not up yet, or refuses the credentials until the login
/// handlers log in again, is waited for, not fatal.
pub async fn discover_until_answered(
    client: &kube::Client,
    mut error: kube::Error,
) -> Vec<Resource> {
    let url = std::env::var("KUBECONFIG")
        .map(|k| format!("KUBECONFIG={k}"))
        .unwrap_or_else(|_| "~/.kube/config or the in-cluster service account".into());
    let mut attempt = 0;
    loop {
        let delay = crate::clients::client::error_backoff(attempt);
        attempt += 1;
        tracing::warn!(
            target: TARGET,
            "Cannot talk to the cluster at {url}; retrying in {} seconds: {error}",
            delay.as_secs()
        );
        tokio::time::sleep(delay).await;
        match crate::clients::discovery::scan(client).await {
            Ok(resources) => return resources,
            Err(err) => error = err,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(group: &str, version: &str, plural: &str, kind: &str) -> Resource {
        Resource {
            group: group.into(),
            version: version.into(),
            plural: plural.into(),
            kind: kind.into(),
            singular: kind.to_lowercase(),
            short_names: vec![],
            categories: vec![],
            namespaced: true,
            has_status_subresource: false,
            verbs: vec![],
        }
    }

    #[test]
    fn bare_names_prefer_core_and_preferred_versions() {
        let resources = vec![
            resource("", "v1", "pods", "Pod"),
            resource("kopf.dev", "v1", "kopfexamples", "KopfExample"),
            resource("metrics.k8s.io", "v1beta1", "pods", "PodMetrics"),
            resource("kopf.dev", "v1beta1", "kopfexamples", "KopfExample"),
            resource("a.dev", "v1", "things", "Thing"),
            resource("b.dev", "v1", "things", "Thing"),
        ];
        let selectors = vec![
            Selector::from_parts(&["pods"]).unwrap(),
            Selector::from_parts(&["KopfExample"]).unwrap(),
            Selector::from_parts(&["things"]).unwrap(),
            Selector::from_parts(&["missing"]).unwrap(),
        ];
        let resolution = resolve(&selectors, &resources);
        assert_eq!(resolution.resolved[&selectors[0]].group, "");
        assert_eq!(resolution.resolved[&selectors[1]].version, "v1");
        assert_eq!(resolution.ambiguous.len(), 1);
        assert_eq!(resolution.unresolved, vec![selectors[3].clone()]);
    }
}
