//! CRD structural schemas: pruning, defaulting, strict unknown-field detection, basic validation.

use serde_json::Value;

/// The fields of ObjectMeta; any other metadata field is dropped (API-38, API-111).
pub const OBJECT_META_FIELDS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

fn preserves(schema: &Value) -> bool {
    schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true)
}

/// Walk `object` against `schema`, removing (when `prune`) or reporting undeclared fields.
fn walk(object: &mut Value, schema: &Value, path: &str, prune: bool, found: &mut Vec<String>) {
    match object {
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            let keep_unknown = preserves(schema);
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                let child_schema = props.and_then(|p| p.get(&key)).or(additional);
                match child_schema {
                    Some(s) => {
                        if let Some(child) = map.get_mut(&key) {
                            walk(child, s, &child_path, prune, found);
                        }
                    }
                    None if keep_unknown || props.is_none() && schema.get("type").is_none() => {}
                    None => {
                        found.push(child_path);
                        if prune {
                            map.shift_remove(&key);
                        }
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    walk(item, item_schema, &format!("{path}[{i}]"), prune, found);
                }
            }
        }
        _ => {}
    }
}

fn walk_root(object: &mut Value, schema: &Value, prune: bool) -> Vec<String> {
    let mut found = Vec::new();
    let Value::Object(map) = object else {
        return found;
    };
    let props = schema.get("properties").and_then(Value::as_object);
    let keys: Vec<String> = map.keys().cloned().collect();
    for key in keys {
        match key.as_str() {
            "apiVersion" | "kind" => {}
            "metadata" => {
                if let Some(Value::Object(meta)) = map.get_mut("metadata") {
                    let meta_keys: Vec<String> = meta.keys().cloned().collect();
                    for mk in meta_keys {
                        if !OBJECT_META_FIELDS.contains(&mk.as_str()) {
                            found.push(format!("metadata.{mk}"));
                            if prune {
                                meta.shift_remove(&mk);
                            }
                        }
                    }
                }
            }
            _ => match props.and_then(|p| p.get(&key)) {
                Some(s) => {
                    if let Some(child) = map.get_mut(&key) {
                        walk(child, s, &key, prune, &mut found);
                    }
                }
                None if preserves(schema) => {}
                None => {
                    found.push(key.clone());
                    if prune {
                        map.shift_remove(&key);
                    }
                }
            },
        }
    }
    found
}

/// Drop fields the schema does not declare (unless `x-kubernetes-preserve-unknown-fields`).
pub fn prune(object: &mut Value, schema: &Value) {
    walk_root(object, schema, true);
}

/// Dotted paths of undeclared fields, for `fieldValidation=Strict|Warn`.
pub fn unknown_fields(object: &Value, schema: &Value) -> Vec<String> {
    let mut copy = object.clone();
    walk_root(&mut copy, schema, false)
}

/// Drop the `null`s of fields whose schema is not `nullable`, as kube-apiserver does before
/// defaulting (a `spec: null` becomes no spec, and then maybe the default one).
pub fn drop_nulls(object: &mut Value, schema: &Value) {
    match object {
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            map.retain(|key, value| {
                let Some(field) = props.and_then(|p| p.get(key)).or(additional) else {
                    return true;
                };
                if value.is_null() {
                    return field.get("nullable").and_then(Value::as_bool) == Some(true);
                }
                drop_nulls(value, field);
                true
            });
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                items.iter_mut().for_each(|i| drop_nulls(i, item_schema));
            }
        }
        _ => {}
    }
}

/// Fill in `default:` values for absent properties, recursively.
pub fn apply_defaults(object: &mut Value, schema: &Value) {
    match object {
        Value::Object(map) => {
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (key, prop) in props {
                    if !map.contains_key(key)
                        && let Some(default) = prop.get("default")
                    {
                        map.insert(key.clone(), default.clone());
                    }
                    if let Some(child) = map.get_mut(key) {
                        apply_defaults(child, prop);
                    }
                }
            }
            if let Some(additional) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                for child in map.values_mut() {
                    apply_defaults(child, additional);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                items
                    .iter_mut()
                    .for_each(|i| apply_defaults(i, item_schema));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "properties": {
            "spec": {"type": "object", "required": ["size"], "properties": {
                "size": {"type": "integer", "default": 1},
                "mode": {"type": "string", "enum": ["a", "b"], "default": "a"},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "items": {"type": "array", "items": {"type": "object", "properties": {"n": {"type": "string"}}}}
            }},
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
        }})
    }

    #[test]
    fn prune_and_unknown() {
        let mut o = json!({"apiVersion": "v", "kind": "K", "metadata": {"name": "x", "junk": 1},
            "spec": {"size": 2, "x": 1, "free": {"any": 1}, "items": [{"n": "a", "z": 1}]}, "other": 1, "status": {"q": 1}});
        assert_eq!(
            unknown_fields(&o, &schema()),
            vec!["metadata.junk", "spec.x", "spec.items[0].z", "other"]
        );
        prune(&mut o, &schema());
        assert_eq!(
            o,
            json!({"apiVersion": "v", "kind": "K", "metadata": {"name": "x"},
            "spec": {"size": 2, "free": {"any": 1}, "items": [{"n": "a"}]}, "status": {"q": 1}})
        );
    }

    #[test]
    fn defaults_and_validation() {
        use crate::algo::validation::validate;
        let mut o = json!({"spec": {}});
        apply_defaults(&mut o, &schema());
        assert_eq!(o, json!({"spec": {"size": 1, "mode": "a"}}));
        let errs = validate(&json!({"spec": {"size": "x", "mode": "c"}}), &schema());
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].field, "spec.size");
        assert_eq!(errs[1].reason, "FieldValueNotSupported");
        let errs = validate(&json!({"spec": {}}), &schema());
        assert_eq!(errs[0].reason, "FieldValueRequired");
    }
}
