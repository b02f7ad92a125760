//! The essence of an object: what changing handlers react to, and what the diff-base stores.

use serde_json::{Map, Value};

const KOPF_PREFIX: &str = "kopf.zalando.org";
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The body minus `apiVersion`, `kind`, `metadata`, `status`; plus labels and the
/// annotations that are not kopf's own (nor kubectl's last-applied); plus extra fields.
pub fn essence(body: &Value, extra_fields: &[Vec<String>]) -> Value {
    let mut essence = Map::new();
    if let Some(map) = body.as_object() {
        for (key, value) in map {
            if !matches!(key.as_str(), "apiVersion" | "kind" | "metadata" | "status") {
                essence.insert(key.clone(), value.clone());
            }
        }
    }
    let metadata = body.get("metadata");
    let mut meta = Map::new();
    if let Some(labels) = metadata.and_then(|m| m.get("labels")) {
        meta.insert("labels".into(), labels.clone());
    }
    if let Some(Value::Object(annotations)) = metadata.and_then(|m| m.get("annotations")) {
        let managed = managed_prefixes(annotations);
        let kept: Map<String, Value> = annotations
            .iter()
            .filter(|(key, _)| {
                key.as_str() != LAST_APPLIED
                    && !key
                        .split_once('/')
                        .is_some_and(|(prefix, _)| managed.iter().any(|p| p == prefix))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        meta.insert("annotations".into(), Value::Object(kept));
    }
    if !meta.is_empty() {
        essence.insert("metadata".into(), Value::Object(meta));
    }
    let mut essence = Value::Object(essence);
    for field in extra_fields {
        let keys: Vec<&str> = field.iter().map(String::as_str).collect();
        let value = crate::structs::body::lookup(body, keys.iter().copied());
        if !value.is_null() {
            set_path(&mut essence, &keys, value.clone());
        }
    }
    remove_empty_stanzas(&mut essence);
    essence
}

/// Prefixes of annotations that belong to kopf-based operators (kopf's own, its
/// subdomains, and any prefix marked with `<prefix>/kopf-managed`).
fn managed_prefixes(annotations: &Map<String, Value>) -> Vec<String> {
    let mut prefixes = Vec::new();
    for key in annotations.keys() {
        if let Some((prefix, name)) = key.split_once('/')
            && (name == "kopf-managed" || is_kopf_prefix(prefix))
        {
            prefixes.push(prefix.to_string());
        }
    }
    prefixes
}

fn is_kopf_prefix(prefix: &str) -> bool {
    prefix == KOPF_PREFIX || prefix.ends_with(&format!(".{KOPF_PREFIX}"))
}

/// Whether an annotation is kopf's (progress, diff-base, touch-dummy, other kopf operators').
pub fn is_kopf_managed_annotation(key: &str) -> bool {
    key.split_once('/')
        .is_some_and(|(prefix, name)| name == "kopf-managed" || is_kopf_prefix(prefix))
}

fn set_path(target: &mut Value, keys: &[&str], value: Value) {
    let Some((last, parents)) = keys.split_last() else {
        return;
    };
    let mut node = target;
    for key in parents {
        let Some(map) = node.as_object_mut() else {
            return;
        };
        node = map
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if let Some(map) = node.as_object_mut() {
        map.insert(last.to_string(), value);
    }
}

/// Removes (in place) the annotations whose keys match.
pub fn remove_annotations(essence: &mut Value, matches: impl Fn(&str) -> bool) {
    if let Some(Value::Object(annotations)) = essence.pointer_mut("/metadata/annotations") {
        annotations.retain(|key, _| !matches(key));
    }
}

/// Removes (in place) empty `annotations`, `labels`, `metadata` and `status`.
pub fn remove_empty_stanzas(essence: &mut Value) {
    let Some(root) = essence.as_object_mut() else {
        return;
    };
    if let Some(Value::Object(meta)) = root.get_mut("metadata") {
        for key in ["annotations", "labels"] {
            if meta.get(key).is_some_and(is_empty) {
                meta.shift_remove(key);
            }
        }
    }
    for key in ["metadata", "status"] {
        if root.get(key).is_some_and(is_empty) {
            root.shift_remove(key);
        }
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.is_empty(),
        Value::Null => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LAST_HANDLED: &str = "kopf.zalando.org/last-handled-configuration";

    #[test]
    fn essence_keeps_spec_labels_and_foreign_annotations_only() {
        let body = json!({
            "apiVersion": "kopf.dev/v1", "kind": "KopfExample",
            "metadata": {"name": "x", "labels": {"somelabel": "somevalue"},
                         "annotations": {"someannotation": "somevalue", LAST_HANDLED: "{}",
                                         "kopf.zalando.org/create_fn": "{}", LAST_APPLIED: "{}"}},
            "spec": {"duration": "1m", "field": "value", "items": ["item1", "item2"]},
            "status": {"create_fn": {}},
        });
        let text = serde_json::to_string(&essence(&body, &[])).unwrap();
        assert_eq!(
            text,
            "{\"spec\":{\"duration\":\"1m\",\"field\":\"value\",\"items\":[\"item1\",\"item2\"]},\"metadata\":{\"labels\":{\"somelabel\":\"somevalue\"},\"annotations\":{\"someannotation\":\"somevalue\"}}}"
        );
        // Other kopf-based operators' annotations: under a prefix marked as kopf-managed.
        let marked = json!({"metadata": {"annotations": {
            "my-op.example.com/kopf-managed": "yes", "my-op.example.com/x": "1",
            "sub.kopf.zalando.org/y": "2", "unmarked.example.com/z": "3"}}});
        assert_eq!(
            essence(&marked, &[]),
            json!({"metadata": {"annotations": {"unmarked.example.com/z": "3"}}})
        );
        let only_kopf = json!({"metadata": {"annotations": {LAST_HANDLED: "{}"}}, "spec": {}});
        assert_eq!(essence(&only_kopf, &[]), json!({"spec": {}}));
        let with_phase = json!({"status": {"phase": "Ready"}, "spec": {"a": 1}});
        let extra = vec![vec!["status".to_string(), "phase".to_string()]];
        assert_eq!(
            essence(&with_phase, &extra),
            json!({"spec": {"a": 1}, "status": {"phase": "Ready"}})
        );
    }
}
