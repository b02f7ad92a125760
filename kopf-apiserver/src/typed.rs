//! Built-in kinds' values have their types (API-133): kube-apiserver decodes a body into the
//! kind's Go types and refuses one that does not fit with a 400 naming where —
//! `ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal
//! number into Go struct field ConfigMap.data of type string`. Here the object is decoded
//! into k8s-openapi's types of the kind (its metadata, which the server keeps in shape, left
//! out), and only a value of the wrong JSON type is refused: a missing required field or a
//! malformed value is validation's business, not the decoder's, and is let through.

use crate::registry::Resource;
use crate::status::ApiError;
use k8s_openapi::api::{
    admissionregistration::v1 as admission, apps::v1 as apps, batch::v1 as batch,
    coordination::v1 as coordination, core::v1 as core, networking::v1 as networking,
    policy::v1 as policy, rbac::v1 as rbac, scheduling::v1 as scheduling,
};
use serde::de::DeserializeOwned;
use serde::de::value::MapDeserializer;
use serde_json::Value;
use serde_path_to_error::Segment;

/// Checks the values of a built-in object against its kind's types.
pub fn check(res: &Resource, object: &Value) -> Result<(), ApiError> {
    if res.custom {
        return Ok(());
    }
    let Some(decode) = decoder(&res.group, &res.plural) else {
        return Ok(());
    };
    let Some(mismatch) = decode(object) else {
        return Ok(());
    };
    let go_type = mismatch.go_type(decode, object, &res.kind);
    let version = res.api_version();
    let message = format!(
        "{kind} in version \"{}\" cannot be handled as a {kind}: json: cannot unmarshal {} into Go struct field {go_type}",
        res.version,
        mismatch.found,
        kind = res.kind,
    );
    tracing::debug!("a {version} {} was refused: {message}", res.kind);
    Err(ApiError::bad_request(message))
}

type Decoder = fn(&Value) -> Option<Mismatch>;

fn decoder(group: &str, plural: &str) -> Option<Decoder> {
    Some(match (group, plural) {
        ("", "pods") => mismatch::<core::Pod>,
        ("", "services") => mismatch::<core::Service>,
        ("", "configmaps") => mismatch::<core::ConfigMap>,
        ("", "secrets") => mismatch::<core::Secret>,
        ("", "namespaces") => mismatch::<core::Namespace>,
        ("", "serviceaccounts") => mismatch::<core::ServiceAccount>,
        ("", "persistentvolumeclaims") => mismatch::<core::PersistentVolumeClaim>,
        ("", "resourcequotas") => mismatch::<core::ResourceQuota>,
        ("", "events") => mismatch::<core::Event>,
        ("apps", "deployments") => mismatch::<apps::Deployment>,
        ("apps", "replicasets") => mismatch::<apps::ReplicaSet>,
        ("apps", "statefulsets") => mismatch::<apps::StatefulSet>,
        ("apps", "daemonsets") => mismatch::<apps::DaemonSet>,
        ("batch", "jobs") => mismatch::<batch::Job>,
        ("batch", "cronjobs") => mismatch::<batch::CronJob>,
        ("coordination.k8s.io", "leases") => mismatch::<coordination::Lease>,
        ("networking.k8s.io", "ingresses") => mismatch::<networking::Ingress>,
        ("policy", "poddisruptionbudgets") => mismatch::<policy::PodDisruptionBudget>,
        ("scheduling.k8s.io", "priorityclasses") => mismatch::<scheduling::PriorityClass>,
        ("rbac.authorization.k8s.io", "roles") => mismatch::<rbac::Role>,
        ("rbac.authorization.k8s.io", "rolebindings") => mismatch::<rbac::RoleBinding>,
        ("rbac.authorization.k8s.io", "clusterroles") => mismatch::<rbac::ClusterRole>,
        ("rbac.authorization.k8s.io", "clusterrolebindings") => {
            mismatch::<rbac::ClusterRoleBinding>
        }
        ("admissionregistration.k8s.io", "validatingwebhookconfigurations") => {
            mismatch::<admission::ValidatingWebhookConfiguration>
        }
        ("admissionregistration.k8s.io", "mutatingwebhookconfigurations") => {
            mismatch::<admission::MutatingWebhookConfiguration>
        }
        _ => return None,
    })
}

/// A value of the wrong JSON type, where it is.
struct Mismatch {
    /// Go's name of the JSON type found: `string`, `number`, `bool`, `array`, `object`.
    found: &'static str,
    /// serde's words for the type wanted (`i32`, `a string`, `Container`…).
    expected: String,
    path: Vec<Segment>,
}

/// Decodes `object` (but its metadata) into `T`; the value of the wrong type, if any.
fn mismatch<T: DeserializeOwned>(object: &Value) -> Option<Mismatch> {
    let map = object.as_object()?;
    let fields = map
        .iter()
        .filter(|(key, _)| !matches!(key.as_str(), "metadata" | "apiVersion" | "kind"))
        .map(|(key, value)| (key.as_str(), value));
    let deserializer = MapDeserializer::<_, serde_json::Error>::new(fields);
    let error = serde_path_to_error::deserialize::<_, T>(deserializer).err()?;
    let text = error.inner().to_string();
    let (found, expected) = text
        .strip_prefix("invalid type: ")?
        .split_once(", expected ")?;
    let found = match found.split([' ', ',']).next()? {
        "string" => "string",
        "integer" | "floating" => "number",
        "boolean" => "bool",
        "sequence" => "array",
        "map" => "object",
        // A null is Go's zero value, not a type error.
        _ => return None,
    };
    let expected = expected
        .split(" at line ")
        .next()
        .unwrap_or(expected)
        .to_string();
    Some(Mismatch {
        found,
        expected,
        path: error.path().iter().cloned().collect(),
    })
}

impl Mismatch {
    /// `Struct.path.to.field of type T`, as Go's decoder words it: the innermost struct
    /// holding the field, the path of struct fields from the top (no indices, no map keys),
    /// and the field's Go type. Which ancestors are structs and maps is learnt by decoding
    /// the object again with each ancestor replaced by `false` (only when refusing).
    fn go_type(&self, decode: Decoder, object: &Value, kind: &str) -> String {
        // What each segment's parent is (`None`: the kind itself, a struct).
        let parents: Vec<Option<String>> = (0..self.path.len())
            .map(|depth| expected_at(decode, object, &self.path[..depth]))
            .collect();
        let fields: Vec<&str> = self
            .path
            .iter()
            .zip(&parents)
            .filter_map(|(segment, parent)| match segment {
                Segment::Map { key } if parent.as_deref().is_none_or(is_struct) => {
                    Some(key.as_str())
                }
                _ => None,
            })
            .collect();
        let owner = parents
            .iter()
            .rev()
            .flatten()
            .find(|p| is_struct(p))
            .map_or(kind, String::as_str);
        format!(
            "{owner}.{} of type {}",
            fields.join("."),
            go_name(&self.expected)
        )
    }
}

/// What the decoder expects at `path`: `object` is decoded with the value there replaced
/// by `false`, and the complaint names the type (`None` at the top: the kind itself).
fn expected_at(decode: Decoder, object: &Value, path: &[Segment]) -> Option<String> {
    let mut probe = object.clone();
    let mut at = &mut probe;
    for segment in path {
        at = match segment {
            Segment::Map { key } => at.get_mut(key.as_str())?,
            Segment::Seq { index } => at.get_mut(*index)?,
            _ => return None,
        };
    }
    if path.is_empty() {
        return None;
    }
    *at = Value::Bool(false);
    decode(&probe).map(|m| m.expected)
}

/// serde's words for a k8s-openapi struct are its bare type name.
fn is_struct(expected: &str) -> bool {
    expected.chars().next().is_some_and(char::is_uppercase) && !expected.contains(' ')
}

/// Go's name of the type serde expected.
fn go_name(expected: &str) -> String {
    match expected {
        "i32" => "int32".into(),
        "i64" => "int64".into(),
        "u32" => "uint32".into(),
        "f64" => "float64".into(),
        "a string" | "Quantity" => "string".into(),
        "a base64-encoded string" => "[]uint8".into(),
        "a boolean" => "bool".into(),
        "a sequence" => "[]interface {}".into(),
        "a map" => "map[string]string".into(),
        "IntOrString" => "intstr.IntOrString".into(),
        "Time" | "MicroTime" => "v1.Time".into(),
        other if is_struct(other) => format!("v1.{other}"),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serdes_words_become_gos_type_names() {
        assert_eq!(go_name("i32"), "int32");
        assert_eq!(go_name("a string"), "string");
        assert_eq!(go_name("a base64-encoded string"), "[]uint8");
        assert_eq!(go_name("a boolean"), "bool");
        assert_eq!(go_name("Container"), "v1.Container");
        assert!(is_struct("DeploymentSpec"));
        assert!(!is_struct("a map"));
    }
}
