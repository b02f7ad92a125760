//! How each list of an object merges and is owned in server-side apply: atomic (one value,
//! one owner), a set of scalars, or a map keyed by some of its items' fields. Custom
//! resources declare it in their schema (`x-kubernetes-list-type`,
//! `x-kubernetes-list-map-keys`; lists are atomic by default); built-in kinds by their
//! merge keys, the ones strategic merge patches use.

use serde_json::Value;

/// A list's merge and ownership semantics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListType {
    /// Replaced and owned as a whole.
    Atomic,
    /// Scalars, each owned on its own (`v:"item"`).
    Set,
    /// Items identified by these fields (`k:{"name":"web"}`), each field of an item owned on its own.
    Map(Vec<String>),
}

fn map(keys: &[&str]) -> ListType {
    ListType::Map(keys.iter().map(|k| k.to_string()).collect())
}

/// Where a resource's list types come from.
#[derive(Clone, Copy, Debug)]
pub enum ListTypes<'a> {
    /// A custom resource's `openAPIV3Schema` (or none: every list atomic but metadata's).
    Schema(Option<&'a Value>),
    /// A built-in kind: its lists with merge keys are maps, the rest atomic.
    BuiltIn,
}

impl ListTypes<'_> {
    /// The type of the list at `fields` (the field names from the object's root; the items
    /// passed through on the way are implied).
    pub fn of(&self, fields: &[&str]) -> ListType {
        match fields {
            ["metadata", "finalizers"] => return ListType::Set,
            ["metadata", "ownerReferences"] => return map(&["uid"]),
            ["metadata", ..] => return ListType::Atomic,
            _ => {}
        }
        match self {
            ListTypes::Schema(schema) => schema
                .and_then(|schema| schema_at(schema, fields))
                .map(declared)
                .unwrap_or(ListType::Atomic),
            ListTypes::BuiltIn => built_in(fields),
        }
    }
}

/// The schema of the value at `fields`, through `properties`, `additionalProperties` and,
/// for the items of lists on the way, `items`.
fn schema_at<'s>(schema: &'s Value, fields: &[&str]) -> Option<&'s Value> {
    let mut node = schema;
    for field in fields {
        while node.get("type").and_then(Value::as_str) == Some("array") {
            node = node.get("items")?;
        }
        node = node
            .pointer(&format!(
                "/properties/{}",
                field.replace('~', "~0").replace('/', "~1")
            ))
            .or_else(|| node.get("additionalProperties").filter(|a| a.is_object()))?;
    }
    Some(node)
}

fn declared(schema: &Value) -> ListType {
    match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
        Some("set") => ListType::Set,
        Some("map") => {
            let keys: Vec<String> = schema
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|k| k.as_str().map(str::to_string))
                .collect();
            if keys.is_empty() {
                ListType::Atomic
            } else {
                ListType::Map(keys)
            }
        }
        _ => ListType::Atomic,
    }
}

/// The built-in kinds' keyed lists, as their API types declare them (`listType=map` with
/// `listMapKey`s, or a `patchMergeKey`).
fn built_in(fields: &[&str]) -> ListType {
    let Some((last, parents)) = fields.split_last() else {
        return ListType::Atomic;
    };
    match *last {
        // A Service's ports are keyed by port and protocol; a container's by its port and protocol.
        "ports" if parents == ["spec"] => map(&["port", "protocol"]),
        "ports" => map(&["containerPort", "protocol"]),
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "resourceClaims"
        | "schedulingGates" => map(&["name"]),
        "volumeMounts" => map(&["mountPath"]),
        "volumeDevices" => map(&["devicePath"]),
        "hostAliases" => map(&["ip"]),
        "readinessGates" => map(&["conditionType"]),
        "conditions" => map(&["type"]),
        "topologySpreadConstraints" => map(&["topologyKey", "whenUnsatisfiable"]),
        _ => ListType::Atomic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schemas_declare_and_metadata_is_known() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "items": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                "items": {"type": "object", "properties": {"tags": {"type": "array", "x-kubernetes-list-type": "set"}}}},
            "plain": {"type": "array", "items": {"type": "string"}}}}}});
        let lists = ListTypes::Schema(Some(&schema));
        assert_eq!(lists.of(&["spec", "items"]), map(&["name"]));
        assert_eq!(lists.of(&["spec", "items", "tags"]), ListType::Set);
        assert_eq!(lists.of(&["spec", "plain"]), ListType::Atomic);
        assert_eq!(lists.of(&["metadata", "finalizers"]), ListType::Set);
        assert_eq!(
            ListTypes::Schema(None).of(&["spec", "items"]),
            ListType::Atomic
        );
    }

    #[test]
    fn built_ins_by_merge_key() {
        let lists = ListTypes::BuiltIn;
        let containers = ["spec", "template", "spec", "containers"];
        assert_eq!(lists.of(&containers), map(&["name"]));
        assert_eq!(lists.of(&["spec", "ports"]), map(&["port", "protocol"]));
        assert_eq!(lists.of(&["spec", "containers", "args"]), ListType::Atomic);
    }
}
