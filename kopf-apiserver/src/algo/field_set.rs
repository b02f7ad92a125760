//! Field paths as `managedFields` writes them (FieldsV1): `f:name` for a field,
//! `k:{"name":"web"}` for an item of a map list, `v:"x"` for an item of a set. What an
//! object's fields are, finding and removing what a path names, merging an applied
//! configuration in, and the FieldsV1 trees of path sets.

use super::list_types::{ListType, ListTypes};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// A field's path, one FieldsV1 key per step.
pub type Path = Vec<String>;

/// The step to a field.
pub fn field(name: &str) -> String {
    format!("f:{name}")
}

/// Whether a path ends at an item of a map list (a member with fields of its own).
pub fn is_item(path: &[String]) -> bool {
    path.last().is_some_and(|seg| seg.starts_with("k:"))
}

/// Whether `a` and `b` are the same path or one is inside the other.
pub fn overlaps(a: &[String], b: &[String]) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// Whether `key` under `prefix` is the object's identity or the server's bookkeeping,
/// which nobody owns: `apiVersion`, `kind`, and `metadata`'s name, uid, versions….
pub fn is_identity(prefix: &[String], key: &str) -> bool {
    (prefix.is_empty() && matches!(key, "apiVersion" | "kind"))
        || (prefix.len() == 1
            && prefix[0] == "f:metadata"
            && matches!(
                key,
                "name"
                    | "namespace"
                    | "uid"
                    | "resourceVersion"
                    | "generation"
                    | "creationTimestamp"
                    | "managedFields"
                    | "deletionTimestamp"
                    | "selfLink"
                    | "generateName"
            ))
}

/// The steps to a list's items, by the list's type; `None` when the list is owned as a
/// whole: atomic, or items that lack every key or repeat one (kube-apiserver refuses
/// those; here they stay one value).
pub fn item_steps(items: &[Value], list_type: &ListType) -> Option<Vec<String>> {
    let steps: Vec<String> = match list_type {
        ListType::Atomic => return None,
        ListType::Set => items.iter().map(|item| format!("v:{item}")).collect(),
        ListType::Map(keys) => items
            .iter()
            .map(|item| item_key(item, keys))
            .collect::<Option<_>>()?,
    };
    let unique: BTreeSet<&String> = steps.iter().collect();
    (unique.len() == steps.len()).then_some(steps)
}

/// `k:` and the item's key fields in name order, as kube-apiserver writes them.
fn item_key(item: &Value, keys: &[String]) -> Option<String> {
    let fields = item.as_object()?;
    let mut present: Vec<&String> = keys.iter().filter(|k| fields.contains_key(*k)).collect();
    if present.is_empty() {
        return None;
    }
    present.sort();
    let key: Map<String, Value> = present
        .into_iter()
        .map(|k| (k.clone(), fields[k].clone()))
        .collect();
    Some(format!("k:{}", Value::Object(key)))
}

/// An object's fields: its leaves (scalars, atomic lists, empty objects), the items of its
/// sets, and the items of its map lists with their fields. Identity metadata is not owned.
pub fn paths_of(value: &Value, lists: ListTypes) -> BTreeSet<Path> {
    let mut out = BTreeSet::new();
    collect(value, lists, &mut Vec::new(), &mut Vec::new(), &mut out);
    out
}

/// [`paths_of`] for a value inside an object: at `prefix`, under the fields `names`.
pub fn collect<'v>(
    value: &'v Value,
    lists: ListTypes,
    prefix: &mut Path,
    names: &mut Vec<&'v str>,
    out: &mut BTreeSet<Path>,
) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                if is_identity(prefix, key) {
                    continue;
                }
                prefix.push(field(key));
                names.push(key);
                collect(child, lists, prefix, names, out);
                names.pop();
                prefix.pop();
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let Some(steps) = item_steps(items, &lists.of(names)) else {
                out.insert(prefix.clone());
                return;
            };
            for (step, item) in steps.into_iter().zip(items) {
                let is_key = step.starts_with("k:");
                prefix.push(step);
                out.insert(prefix.clone());
                if is_key {
                    collect(item, lists, prefix, names, out);
                }
                prefix.pop();
            }
        }
        _ => {
            if !prefix.is_empty() {
                out.insert(prefix.clone());
            }
        }
    }
}

/// What a `k:` or `v:` step picks out of a list.
enum ItemMatch {
    /// The item with these key fields.
    Key(Map<String, Value>),
    /// The item equal to this value.
    Value(Value),
}

impl ItemMatch {
    fn of(step: &str) -> Option<Self> {
        if let Some(key) = step.strip_prefix("k:") {
            match serde_json::from_str(key) {
                Ok(Value::Object(key)) => Some(ItemMatch::Key(key)),
                _ => None,
            }
        } else {
            let value = step.strip_prefix("v:")?;
            serde_json::from_str(value).ok().map(ItemMatch::Value)
        }
    }

    fn matches(&self, item: &Value) -> bool {
        match self {
            ItemMatch::Key(key) => key.iter().all(|(k, v)| item.get(k) == Some(v)),
            ItemMatch::Value(value) => item == value,
        }
    }
}

/// The value a path names, if the object has it.
pub fn get<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter()
        .try_fold(value, |cur, step| match step.strip_prefix("f:") {
            Some(name) => cur.get(name),
            None => {
                let wanted = ItemMatch::of(step)?;
                cur.as_array()?.iter().find(|item| wanted.matches(item))
            }
        })
}

fn get_mut<'a>(value: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter()
        .try_fold(value, |cur, step| match step.strip_prefix("f:") {
            Some(name) => cur.get_mut(name),
            None => {
                let wanted = ItemMatch::of(step)?;
                cur.as_array_mut()?
                    .iter_mut()
                    .find(|item| wanted.matches(item))
            }
        })
}

/// Removes what a path names (a field, or a list's item), if the object has it.
pub fn remove(value: &mut Value, path: &[String]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    match (get_mut(value, parent), last.strip_prefix("f:")) {
        (Some(Value::Object(fields)), Some(name)) => {
            fields.shift_remove(name);
        }
        (Some(Value::Array(items)), None) => {
            if let Some(unwanted) = ItemMatch::of(last) {
                items.retain(|item| !unwanted.matches(item));
            }
        }
        _ => {}
    }
}

/// Merges an applied configuration into `target`: objects field by field, sets as unions,
/// map lists item by item (new items appended), everything else replaced.
pub fn merge(target: &mut Value, applied: &Value, lists: ListTypes) {
    merge_at(target, applied, lists, &mut Vec::new());
}

fn merge_at<'a>(
    target: &mut Value,
    applied: &'a Value,
    lists: ListTypes,
    names: &mut Vec<&'a str>,
) {
    match (target, applied) {
        (Value::Object(target), Value::Object(applied)) => {
            for (key, value) in applied {
                names.push(key);
                match target.get_mut(key) {
                    Some(existing) => merge_at(existing, value, lists, names),
                    None => {
                        target.insert(key.clone(), value.clone());
                    }
                }
                names.pop();
            }
        }
        (Value::Array(target), Value::Array(applied)) => {
            let list_type = lists.of(names);
            let (Some(theirs), Some(ours)) = (
                item_steps(target, &list_type),
                item_steps(applied, &list_type),
            ) else {
                *target = applied.clone();
                return;
            };
            for (step, item) in ours.iter().zip(applied) {
                match theirs.iter().position(|s| s == step) {
                    Some(i) => merge_at(&mut target[i], item, lists, names),
                    None => target.push(item.clone()),
                }
            }
        }
        (target, applied) => *target = applied.clone(),
    }
}

/// A path as kube-apiserver's conflict messages print it: `.spec.containers[name="web"].image`.
pub fn display(path: &[String]) -> String {
    let mut out = String::new();
    for step in path {
        if let Some(name) = step.strip_prefix("f:") {
            out.push('.');
            out.push_str(name);
        } else if let Some(Ok(Value::Object(key))) =
            step.strip_prefix("k:").map(serde_json::from_str::<Value>)
        {
            let fields: Vec<String> = key.iter().map(|(k, v)| format!("{k}={v}")).collect();
            out.push_str(&format!("[{}]", fields.join(",")));
        } else if let Some(value) = step.strip_prefix("v:") {
            out.push_str(&format!("[={value}]"));
        }
    }
    out
}

/// The FieldsV1 tree of a set of paths: a member with members inside gets a `.` entry.
pub fn to_fields_v1(paths: &BTreeSet<Path>) -> Value {
    let mut root = Map::new();
    for path in paths {
        let mut node = &mut root;
        for step in path {
            let entry = node.entry(step.clone()).or_insert_with(|| json!({}));
            // Every node of the tree is an object: this function builds them all.
            let Value::Object(next) = entry else {
                unreachable!("a FieldsV1 node that is not an object")
            };
            node = next;
        }
        if !path.is_empty() {
            node.insert(".".into(), json!({}));
        }
    }
    let mut root = Value::Object(root);
    drop_lone_dots(&mut root);
    root
}

/// `{".": {}}` alone is written `{}`: a member without members inside.
fn drop_lone_dots(node: &mut Value) {
    let Value::Object(children) = node else {
        return;
    };
    if children.len() == 1 && children.contains_key(".") {
        children.clear();
        return;
    }
    for (_, child) in children.iter_mut() {
        drop_lone_dots(child);
    }
}

/// The paths of a FieldsV1 tree: nodes without children, and those marked with `.`.
pub fn from_fields_v1(fields: &Value, prefix: &mut Path, out: &mut BTreeSet<Path>) {
    let Some(map) = fields.as_object() else {
        return;
    };
    let mut has_child = false;
    for (key, child) in map {
        if key == "." {
            continue;
        }
        has_child = true;
        prefix.push(key.clone());
        from_fields_v1(child, prefix, out);
        prefix.pop();
    }
    if (!has_child || map.contains_key(".")) && !prefix.is_empty() {
        out.insert(prefix.clone());
    }
}

/// Whether a FieldsV1 tree owns this path, a member above it, or one inside it.
pub fn owns(fields: &Value, path: &[String]) -> bool {
    let mut node = fields;
    for step in path {
        let Some(children) = node.as_object() else {
            return false;
        };
        if !children.keys().any(|k| k != ".") {
            return true; // An owned leaf above the path.
        }
        match children.get(step) {
            Some(next) => node = next,
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn containers(items: Value) -> Value {
        json!({"spec": {"containers": items}})
    }

    #[test]
    fn map_lists_are_owned_and_merged_item_by_item() {
        let live = containers(json!([{"name": "web", "image": "nginx"}]));
        let applied = containers(json!([{"name": "side", "image": "envoy"}]));
        let paths = paths_of(&applied, ListTypes::BuiltIn);
        let fields = to_fields_v1(&paths);
        assert_eq!(
            fields,
            json!({"f:spec": {"f:containers": {"k:{\"name\":\"side\"}": {".": {}, "f:image": {}, "f:name": {}}}}})
        );
        let mut back = BTreeSet::new();
        from_fields_v1(&fields, &mut Vec::new(), &mut back);
        assert_eq!(back, paths);

        let mut merged = live.clone();
        merge(&mut merged, &applied, ListTypes::BuiltIn);
        assert_eq!(
            merged["spec"]["containers"].as_array().map(Vec::len),
            Some(2)
        );
        let image = vec![
            field("spec"),
            field("containers"),
            "k:{\"name\":\"web\"}".into(),
            field("image"),
        ];
        assert_eq!(get(&merged, &image), Some(&json!("nginx")));
        assert_eq!(display(&image), ".spec.containers[name=\"web\"].image");
        remove(&mut merged, &image[..3]);
        assert_eq!(
            merged["spec"]["containers"],
            json!([{"name": "side", "image": "envoy"}])
        );
    }

    #[test]
    fn sets_are_unions_of_items() {
        let mut live = json!({"metadata": {"finalizers": ["a"]}});
        let applied = json!({"metadata": {"finalizers": ["b"]}});
        merge(&mut live, &applied, ListTypes::Schema(None));
        assert_eq!(live["metadata"]["finalizers"], json!(["a", "b"]));
        let paths = paths_of(&applied, ListTypes::Schema(None));
        assert_eq!(
            to_fields_v1(&paths),
            json!({"f:metadata": {"f:finalizers": {"v:\"b\"": {}}}})
        );
        remove(
            &mut live,
            &[field("metadata"), field("finalizers"), "v:\"a\"".into()],
        );
        assert_eq!(live["metadata"]["finalizers"], json!(["b"]));
    }

    #[test]
    fn items_without_their_keys_keep_the_list_atomic() {
        let value = containers(json!([{"image": "a"}, {"image": "b"}]));
        let paths = paths_of(&value, ListTypes::BuiltIn);
        assert_eq!(
            paths,
            BTreeSet::from([vec![field("spec"), field("containers")]])
        );
    }
}
