//! Writing kopf's keep-alives into a peering object: the merge-patches of kopf's `touch`
//! and `clean`, also used by `kopf freeze` and `kopf resume`.

use crate::structs::peers::Peer;
use crate::structs::resource::Resource;
use kube::Client;
use kube::api::{Patch, PatchParams};
use kube::core::Request;
use serde_json::{Map, Value, json};

const TARGET: &str = "kopf._core.engines.peering";

/// kopf's peering resources, in the order they are looked for: `kopf.dev` first, then
/// the legacy `zalando.org`.
pub fn find_resource(resources: &[Resource], clusterwide: bool) -> Option<&Resource> {
    let plural = if clusterwide {
        "clusterkopfpeerings"
    } else {
        "kopfpeerings"
    };
    ["kopf.dev", "zalando.org"].into_iter().find_map(|group| {
        resources
            .iter()
            .find(|r| r.group == group && r.version == "v1" && r.plural == plural)
    })
}

/// One peering object: where keep-alives go.
#[derive(Clone, Debug)]
pub struct PeeringObject {
    pub resource: Resource,
    /// `None` for `ClusterKopfPeering`.
    pub namespace: Option<String>,
    pub name: String,
}

impl PeeringObject {
    /// kopf's way to say where: `in 'ns'` or `cluster-wide`.
    pub fn whereabouts(&self) -> String {
        match &self.namespace {
            Some(namespace) => format!("in '{namespace}'"),
            None => "cluster-wide".into(),
        }
    }
}

/// Writes our keep-alive (a `lifetime` of 0 removes it, as kopf's exit does); `Ok(false)`
/// when the peering object does not exist.
pub async fn touch(
    client: &Client,
    object: &PeeringObject,
    identity: &str,
    priority: i64,
    lifetime: i64,
    stealth: bool,
) -> Result<bool, kube::Error> {
    let value = match lifetime {
        0 => Value::Null,
        _ => Peer::now(identity, priority, lifetime).as_json(),
    };
    let mut entries = Map::new();
    entries.insert(identity.to_string(), value);
    let found = patch_status(client, object, Value::Object(entries)).await?;
    if !stealth || !found {
        let result = if found { "ok" } else { "not found" };
        tracing::debug!(
            target: TARGET,
            "Keep-alive in '{}' {}: {result}.",
            object.name,
            object.whereabouts()
        );
    }
    Ok(found)
}

/// Removes expired peers' keep-alives (kopf's `clean`).
pub async fn clean(
    client: &Client,
    object: &PeeringObject,
    identities: impl IntoIterator<Item = String>,
) -> Result<bool, kube::Error> {
    let entries: Map<String, Value> = identities.into_iter().map(|id| (id, Value::Null)).collect();
    patch_status(client, object, Value::Object(entries)).await
}

/// Merge-patches `status` of the object (its status subresource if it has one).
async fn patch_status(
    client: &Client,
    object: &PeeringObject,
    entries: Value,
) -> Result<bool, kube::Error> {
    let request = Request::new(object.resource.url(object.namespace.as_deref()));
    let body = json!({"status": entries});
    let patch = Patch::Merge(&body);
    let params = PatchParams::default();
    let built = if object.resource.has_status_subresource {
        request.patch_subresource("status", &object.name, &params, &patch)
    } else {
        request.patch(&object.name, &params, &patch)
    };
    let http = built.map_err(kube::Error::BuildRequest)?;
    match client.request::<Value>(http).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
        Err(err) => Err(err),
    }
}

/// The identity of this operator in peering and leases: `POD_ID` if set, else kopf's
/// `user@host/YYYYmmddHHMMSS/rnd` (`user@host` for the manual `kopf freeze`/`resume`).
pub fn detect_own_id(manual: bool) -> String {
    if let Ok(pod) = std::env::var("POD_ID") {
        return pod;
    }
    let user = ["LOGNAME", "USER", "LNAME", "USERNAME"]
        .into_iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "root".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    if manual {
        return format!("{user}@{host}");
    }
    let now = jiff::Timestamp::now().strftime("%Y%m%d%H%M%S");
    const ALPHABET: &[u8] = b"abcdefhijklmnopqrstuvwxyz0123456789";
    let rnd: String = (0..3)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{user}@{host}/{now}/{rnd}")
}
