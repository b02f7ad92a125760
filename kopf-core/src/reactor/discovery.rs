//! Finding served resources and resolving handlers' selectors against them.

use crate::resource::{Resource, Selector};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResourceList;
use kube::Client;
use std::collections::BTreeMap;

const TARGET: &str = "kopf._core.reactor.observation";

/// Every resource the cluster serves, in preferred versions first.
pub async fn scan(client: &Client) -> Result<Vec<Resource>, kube::Error> {
    let mut resources = Vec::new();
    let core = client.list_core_api_versions().await?;
    for version in &core.versions {
        let list = client.list_core_api_resources(version).await?;
        resources.extend(from_list("", version, &list, true));
    }
    let groups = client.list_api_groups().await?;
    for group in &groups.groups {
        let preferred = group.preferred_version.as_ref().map(|v| v.version.clone());
        for version in &group.versions {
            match client
                .list_api_group_resources(&version.group_version)
                .await
            {
                Ok(list) => {
                    let is_preferred = preferred.as_deref() == Some(version.version.as_str())
                        || (preferred.is_none() && version.version == group.versions[0].version);
                    resources.extend(from_list(
                        &group.name,
                        &version.version,
                        &list,
                        is_preferred,
                    ));
                }
                // A group-version can vanish between the two calls (a CRD deleted): skip it.
                Err(kube::Error::Api(status)) if status.code == 404 => continue,
                Err(err) => return Err(err),
            }
        }
    }
    // Preferred versions first, so that name-only selectors pick them.
    resources.sort_by_key(|(_, preferred)| !*preferred);
    Ok(resources
        .into_iter()
        .map(|(resource, _)| resource)
        .collect())
}

fn from_list(
    group: &str,
    version: &str,
    list: &APIResourceList,
    preferred: bool,
) -> Vec<(Resource, bool)> {
    let with_status: Vec<&str> = list
        .resources
        .iter()
        .filter_map(|r| r.name.strip_suffix("/status"))
        .collect();
    list.resources
        .iter()
        .filter(|r| !r.name.contains('/'))
        .map(|r| {
            let resource = Resource {
                group: group.to_string(),
                version: version.to_string(),
                plural: r.name.clone(),
                kind: r.kind.clone(),
                singular: r.singular_name.clone(),
                short_names: r.short_names.clone().unwrap_or_default(),
                categories: r.categories.clone().unwrap_or_default(),
                namespaced: r.namespaced,
                has_status_subresource: with_status.contains(&r.name.as_str()),
                verbs: r.verbs.clone(),
            };
            (resource, preferred)
        })
        .collect()
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
