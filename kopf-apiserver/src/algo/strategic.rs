//! Strategic merge patch for built-in kinds: lists with a known merge key merge item by item.

use serde_json::{Map, Value};

/// Kinds without merge-keyed lists behave like a JSON merge patch.
const PLAIN_KINDS: &[&str] = &["ConfigMap", "Secret", "Namespace", "Lease", "Event"];

/// The merge key of a list field, by field name (covers Pod templates, Services, metadata, conditions).
fn merge_key(field: &str) -> Option<&'static str> {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "resourceClaims" => Some("name"),
        "volumeMounts" => Some("mountPath"),
        "hostAliases" => Some("ip"),
        "readinessGates" => Some("conditionType"),
        "ports" => Some("containerPort"),
        "ownerReferences" => Some("uid"),
        "conditions" => Some("type"),
        "volumeDevices" => Some("devicePath"),
        _ => None,
    }
}

/// Lists of primitives merged as sets.
fn is_set_list(field: &str) -> bool {
    matches!(field, "finalizers")
}

fn merge_object(target: &mut Map<String, Value>, patch: &Map<String, Value>) -> Result<(), String> {
    match patch.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            *target = patch
                .iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            return Ok(());
        }
        Some("delete") => {
            target.clear();
            return Ok(());
        }
        Some("merge") | None => {}
        Some(other) => return Err(format!("unknown patch type: {other}")),
    }
    if let Some(keep) = patch.get("$retainKeys").and_then(Value::as_array) {
        let keep: Vec<&str> = keep.iter().filter_map(Value::as_str).collect();
        target.retain(|k, _| keep.contains(&k.as_str()));
    }
    for (key, value) in patch {
        // Directives ($setElementOrder/…, $deleteFromPrimitiveList/…) are not data.
        if key.starts_with('$') {
            continue;
        }
        if value.is_null() {
            target.shift_remove(key);
            continue;
        }
        match (target.get_mut(key), value) {
            (Some(Value::Object(t)), Value::Object(p)) => merge_object(t, p)?,
            (Some(Value::Array(t)), Value::Array(p)) => merge_list(key, t, p)?,
            (_, Value::Object(p)) => {
                let mut fresh = Map::new();
                merge_object(&mut fresh, p)?;
                target.insert(key.clone(), Value::Object(fresh));
            }
            _ => {
                target.insert(key.clone(), strip_directives(value));
            }
        }
    }
    // Primitive-list deletions are applied after merges.
    for (key, value) in patch {
        if let Some(field) = key.strip_prefix("$deleteFromPrimitiveList/")
            && let (Some(Value::Array(list)), Value::Array(remove)) = (target.get_mut(field), value)
        {
            list.retain(|item| !remove.contains(item));
        }
    }
    Ok(())
}

fn strip_directives(value: &Value) -> Value {
    match value {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(
            a.iter()
                .filter(|i| i.get("$patch").is_none())
                .map(strip_directives)
                .collect(),
        ),
        other => other.clone(),
    }
}

fn merge_list(field: &str, target: &mut Vec<Value>, patch: &[Value]) -> Result<(), String> {
    if patch
        .iter()
        .any(|i| i.get("$patch").and_then(Value::as_str) == Some("replace"))
    {
        *target = patch
            .iter()
            .filter(|i| i.get("$patch").is_none())
            .cloned()
            .collect();
        return Ok(());
    }
    if is_set_list(field) {
        for item in patch {
            if !target.contains(item) {
                target.push(item.clone());
            }
        }
        return Ok(());
    }
    let Some(key) = merge_key(field) else {
        *target = patch.to_vec();
        return Ok(());
    };
    for item in patch {
        let Some(id) = item.get(key) else {
            return Err(format!(
                "map: {item} does not contain declared merge key: {key}"
            ));
        };
        let pos = target.iter().position(|t| t.get(key) == Some(id));
        let is_delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
        match (pos, item) {
            (Some(i), _) if is_delete => {
                target.remove(i);
            }
            (None, _) if is_delete => {}
            (Some(i), Value::Object(p)) => {
                if let Value::Object(t) = &mut target[i] {
                    merge_object(t, p)?;
                }
            }
            (_, other) => target.push(strip_directives(other)),
        }
    }
    Ok(())
}

/// Apply a strategic merge patch for `kind` onto `target`.
pub fn apply(target: &mut Value, patch: &Value, kind: &str) -> Result<(), String> {
    let Value::Object(patch_map) = patch else {
        return Err("strategic merge patch must be a JSON object".into());
    };
    if PLAIN_KINDS.contains(&kind) {
        super::merge_patch::apply(target, &strip_directives(patch));
        return Ok(());
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    match target {
        Value::Object(t) => merge_object(t, patch_map),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn containers_merge_by_name() {
        let mut pod = json!({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}, "metadata": {"finalizers": ["f1"]}});
        apply(&mut pod, &json!({"spec": {"containers": [{"name": "b", "image": "z"}, {"name": "c", "image": "w"}]}, "metadata": {"finalizers": ["f2", "f1"]}}), "Pod").unwrap();
        assert_eq!(
            pod,
            json!({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "z"}, {"name": "c", "image": "w"}]}, "metadata": {"finalizers": ["f1", "f2"]}})
        );
        apply(&mut pod, &json!({"spec": {"containers": [{"name": "a", "$patch": "delete"}], "$setElementOrder/containers": [{"name": "b"}]}}), "Pod").unwrap();
        assert_eq!(pod["spec"]["containers"].as_array().unwrap().len(), 2);
        apply(
            &mut pod,
            &json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["f1"]}}),
            "Pod",
        )
        .unwrap();
        assert_eq!(pod["metadata"]["finalizers"], json!(["f2"]));
    }

    #[test]
    fn directives_and_plain_kinds() {
        let mut d = json!({"spec": {"a": 1, "b": 2}});
        apply(
            &mut d,
            &json!({"spec": {"$patch": "replace", "c": 3}}),
            "Deployment",
        )
        .unwrap();
        assert_eq!(d, json!({"spec": {"c": 3}}));
        let mut cm = json!({"data": {"a": "1"}});
        apply(
            &mut cm,
            &json!({"data": {"a": null, "b": "2"}}),
            "ConfigMap",
        )
        .unwrap();
        assert_eq!(cm, json!({"data": {"b": "2"}}));
        assert!(apply(&mut cm, &json!([1]), "ConfigMap").is_err());
    }
}
