//! Nested fields of bodies, patches and essences, addressed by key paths as kopf's
//! storages address them: read with a default, force-set with the parents created,
//! removed together with the parents that this leaves empty.

use serde_json::{Map, Value};

/// A dotted field (`status.kopf.progress`) as its keys.
pub fn parse(dotted: &str) -> Vec<String> {
    dotted.split('.').map(str::to_string).collect()
}

/// The value at this path, if every level is there.
pub fn resolve<'a, S: AsRef<str>>(value: &'a Value, path: &[S]) -> Option<&'a Value> {
    path.iter()
        .try_fold(value, |node, key| node.as_object()?.get(key.as_ref()))
}

/// Sets the value at this path, creating (or replacing non-object) parents on the way.
pub fn ensure<S: AsRef<str>>(target: &mut Value, path: &[S], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = target;
    for key in parents {
        node = object(node)
            .entry(key.as_ref().to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    object(node).insert(last.as_ref().to_string(), value);
}

fn object(node: &mut Value) -> &mut Map<String, Value> {
    if !node.is_object() {
        *node = Value::Object(Map::new());
    }
    match node {
        Value::Object(map) => map,
        _ => unreachable!("made an object just above"),
    }
}

/// Removes the value at this path (if any), and every parent that becomes empty by it.
pub fn remove<S: AsRef<str>>(target: &mut Value, path: &[S]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let Some(map) = target.as_object_mut() else {
        return;
    };
    if rest.is_empty() {
        map.shift_remove(first.as_ref());
        return;
    }
    if let Some(child) = map.get_mut(first.as_ref()) {
        remove(child, rest);
        if child.as_object().is_some_and(Map::is_empty) {
            map.shift_remove(first.as_ref());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_are_resolved_ensured_and_removed_with_their_empty_parents() {
        let mut value = json!({"status": {"other": 1}});
        ensure(&mut value, &parse("status.kopf.progress"), json!({"a": {}}));
        assert_eq!(
            resolve(&value, &["status", "kopf", "progress", "a"]),
            Some(&json!({}))
        );
        assert_eq!(resolve(&value, &["status", "missing"]), None);
        remove(&mut value, &["status", "kopf", "progress", "a"]);
        assert_eq!(value, json!({"status": {"other": 1}}));
        remove(&mut value, &["spec", "absent"]);
        remove(&mut value, &["status", "other"]);
        assert_eq!(value, json!({}));
    }
}
