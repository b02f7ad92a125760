//! Discovery: every resource the cluster serves, with its scope, verbs and subresources.

use crate::structs::resource::Resource;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResourceList;
use kube::Client;

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
