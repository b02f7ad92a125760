//! Basic server-side apply: field ownership in `metadata.managedFields` (FieldsV1), conflicts, forcing.

use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::fmt;

/// One apply request; `live` is `None` when the object does not exist yet.
pub struct ApplyRequest<'a> {
    pub live: Option<&'a Value>,
    pub applied: &'a Value,
    pub manager: &'a str,
    pub force: bool,
    pub api_version: &'a str,
    pub now: &'a str,
}

/// A field another manager owns with a different value.
#[derive(Clone, Debug, PartialEq)]
pub struct Conflict {
    pub manager: String,
    pub operation: String,
    pub api_version: String,
    /// Dotted path with a leading dot, e.g. `.spec.x`.
    pub field: String,
}

/// All conflicts of a rejected apply (→ 409, cause type `FieldManagerConflict`).
#[derive(Debug)]
pub struct ApplyConflicts {
    pub conflicts: Vec<Conflict>,
}

impl fmt::Display for ApplyConflicts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.conflicts.len();
        write!(
            f,
            "Apply failed with {n} conflict{}:",
            if n == 1 { "" } else { "s" }
        )?;
        for (i, c) in self.conflicts.iter().enumerate() {
            let sep = if i == 0 { " " } else { "\n" };
            if c.operation == "Update" {
                write!(
                    f,
                    "{sep}conflict with \"{}\" using {}: {}",
                    c.manager, c.api_version, c.field
                )?;
            } else {
                write!(f, "{sep}conflict with \"{}\": {}", c.manager, c.field)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ApplyConflicts {}

type Path = Vec<String>;

/// Leaf paths of an object; arrays and scalars are atomic leaves. Identity metadata is not owned.
fn leaf_paths(value: &Value, prefix: &mut Path, out: &mut BTreeSet<Path>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                if prefix.is_empty() && matches!(k.as_str(), "apiVersion" | "kind") {
                    continue;
                }
                if prefix.len() == 1
                    && prefix[0] == "metadata"
                    && matches!(
                        k.as_str(),
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
                    )
                {
                    continue;
                }
                prefix.push(k.clone());
                leaf_paths(v, prefix, out);
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

fn paths_of(value: &Value) -> BTreeSet<Path> {
    let mut out = BTreeSet::new();
    leaf_paths(value, &mut Vec::new(), &mut out);
    out
}

fn to_fields_v1(paths: &BTreeSet<Path>) -> Value {
    let mut root = Map::new();
    for path in paths {
        let mut cur = &mut root;
        for seg in path {
            let entry = cur.entry(format!("f:{seg}")).or_insert_with(|| json!({}));
            let Value::Object(next) = entry else { break };
            cur = next;
        }
    }
    Value::Object(root)
}

fn from_fields_v1(fields: &Value, prefix: &mut Path, out: &mut BTreeSet<Path>) {
    let Some(map) = fields.as_object() else {
        return;
    };
    let mut has_child = false;
    for (k, v) in map {
        if let Some(name) = k.strip_prefix("f:") {
            has_child = true;
            prefix.push(name.to_string());
            from_fields_v1(v, prefix, out);
            prefix.pop();
        }
    }
    if !has_child && !prefix.is_empty() {
        out.insert(prefix.clone());
    }
}

fn get_path<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(value, |cur, seg| cur.get(seg))
}

fn remove_path(value: &mut Value, path: &[String]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    let mut cur = value;
    for seg in parent {
        match cur.get_mut(seg) {
            Some(next) => cur = next,
            None => return,
        }
    }
    if let Value::Object(m) = cur {
        m.shift_remove(last);
    }
}

fn overlaps(a: &[String], b: &[String]) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

fn deep_merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                match t.get_mut(k) {
                    Some(existing) => deep_merge(existing, v),
                    None => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

struct Entry {
    raw: Value,
    manager: String,
    operation: String,
    api_version: String,
    paths: BTreeSet<Path>,
}

fn entries(object: &Value) -> Vec<Entry> {
    let list = object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    list.into_iter()
        .map(|raw| {
            let mut paths = BTreeSet::new();
            if let Some(f) = raw.get("fieldsV1") {
                from_fields_v1(f, &mut Vec::new(), &mut paths);
            }
            let s = |k: &str| {
                raw.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            Entry {
                manager: s("manager"),
                operation: s("operation"),
                api_version: s("apiVersion"),
                paths,
                raw,
            }
        })
        .collect()
}

fn entry_value(e: &Entry, now: Option<&str>) -> Value {
    let mut raw = e.raw.clone();
    raw["manager"] = json!(e.manager);
    raw["operation"] = json!(e.operation);
    raw["apiVersion"] = json!(e.api_version);
    raw["fieldsType"] = json!("FieldsV1");
    raw["fieldsV1"] = to_fields_v1(&e.paths);
    if let Some(now) = now {
        raw["time"] = json!(now);
    }
    raw
}

fn write_entries(object: &mut Value, list: Vec<Value>) {
    if !object.is_object() {
        return;
    }
    if object.get("metadata").is_none_or(|m| !m.is_object()) {
        object["metadata"] = json!({});
    }
    if list.is_empty() {
        if let Some(Value::Object(m)) = object.get_mut("metadata") {
            m.shift_remove("managedFields");
        }
    } else {
        object["metadata"]["managedFields"] = Value::Array(list);
    }
}

/// Merge `applied` into `live`, checking ownership; returns the new object with managedFields updated.
pub fn server_side_apply(req: &ApplyRequest) -> Result<Value, ApplyConflicts> {
    let empty = json!({});
    let live = req.live.unwrap_or(&empty);
    let applied_paths = paths_of(req.applied);
    let mut all = entries(live);
    let mut conflicts = Vec::new();
    for e in all
        .iter()
        .filter(|e| e.manager != req.manager || e.operation != "Apply")
    {
        if e.manager == req.manager {
            continue;
        }
        for owned in &e.paths {
            for mine in applied_paths.iter().filter(|p| overlaps(p, owned)) {
                let longest = if mine.len() >= owned.len() {
                    mine
                } else {
                    owned
                };
                if get_path(live, longest) != get_path(req.applied, longest) {
                    conflicts.push(Conflict {
                        manager: e.manager.clone(),
                        operation: e.operation.clone(),
                        api_version: e.api_version.clone(),
                        field: format!(".{}", owned.join(".")),
                    });
                }
            }
        }
    }
    conflicts.dedup();
    if !conflicts.is_empty() && !req.force {
        return Err(ApplyConflicts { conflicts });
    }
    // Fields this manager applied before but dropped now are removed unless someone else owns them.
    let previous: BTreeSet<Path> = all
        .iter()
        .filter(|e| e.manager == req.manager && e.operation == "Apply")
        .flat_map(|e| e.paths.iter().cloned())
        .collect();
    let mut result = live.clone();
    for gone in previous.difference(&applied_paths) {
        let shared = all
            .iter()
            .any(|e| e.manager != req.manager && e.paths.iter().any(|p| overlaps(p, gone)));
        if !shared {
            remove_path(&mut result, gone);
        }
    }
    let mut applied = req.applied.clone();
    if let Value::Object(m) = &mut applied
        && let Some(Value::Object(meta)) = m.get_mut("metadata")
    {
        meta.shift_remove("managedFields");
        meta.shift_remove("resourceVersion");
    }
    deep_merge(&mut result, &applied);
    // Ownership: applied fields move to this manager (forcing strips them from others).
    for e in all.iter_mut().filter(|e| e.manager != req.manager) {
        if req.force {
            e.paths
                .retain(|p| !applied_paths.iter().any(|m| overlaps(m, p)));
        }
    }
    let mut list: Vec<Value> = all
        .iter()
        .filter(|e| !e.paths.is_empty() && (e.manager != req.manager || e.operation != "Apply"))
        .map(|e| entry_value(e, None))
        .collect();
    let mine = Entry {
        raw: json!({"manager": req.manager, "operation": "Apply"}),
        manager: req.manager.to_string(),
        operation: "Apply".into(),
        api_version: req.api_version.to_string(),
        paths: applied_paths,
    };
    list.push(entry_value(&mine, Some(req.now)));
    write_entries(&mut result, list);
    Ok(result)
}

/// Record an `Update` entry for fields changed by an ordinary write (create/update/patch).
pub fn track_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    api_version: &str,
    now: &str,
) {
    if manager.is_empty() {
        return;
    }
    let empty = json!({});
    let old_obj = old.unwrap_or(&empty);
    let changed: BTreeSet<Path> = paths_of(new)
        .into_iter()
        .filter(|p| get_path(old_obj, p) != get_path(new, p))
        .collect();
    let mut all = entries(new);
    for e in all
        .iter_mut()
        .filter(|e| e.manager != manager || e.operation != "Update")
    {
        e.paths.retain(|p| !changed.iter().any(|c| overlaps(c, p)));
    }
    // Drop ownership of fields that vanished.
    let present = paths_of(new);
    for e in all.iter_mut() {
        e.paths.retain(|p| present.iter().any(|q| q.starts_with(p)));
    }
    let existing = all
        .iter()
        .position(|e| e.manager == manager && e.operation == "Update");
    if changed.is_empty() && existing.is_none() {
        let list = all
            .iter()
            .filter(|e| !e.paths.is_empty())
            .map(|e| entry_value(e, None))
            .collect();
        write_entries(new, list);
        return;
    }
    let mut list = Vec::new();
    let mut mine_paths = changed;
    for (i, e) in all.iter().enumerate() {
        if Some(i) == existing {
            mine_paths.extend(e.paths.iter().cloned());
        } else if !e.paths.is_empty() {
            list.push(entry_value(e, None));
        }
    }
    let mine = Entry {
        raw: json!({"manager": manager, "operation": "Update"}),
        manager: manager.to_string(),
        operation: "Update".into(),
        api_version: api_version.to_string(),
        paths: mine_paths,
    };
    if !mine.paths.is_empty() {
        list.push(entry_value(&mine, Some(now)));
    }
    write_entries(new, list);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req<'a>(
        live: Option<&'a Value>,
        applied: &'a Value,
        manager: &'a str,
        force: bool,
    ) -> ApplyRequest<'a> {
        ApplyRequest {
            live,
            applied,
            manager,
            force,
            api_version: "v1",
            now: "2026-01-01T00:00:00Z",
        }
    }

    #[test]
    fn create_then_conflict_then_force() {
        let applied = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "1"}});
        let obj = server_side_apply(&req(None, &applied, "m1", false)).unwrap();
        assert_eq!(obj["data"]["a"], "1");
        let mf = &obj["metadata"]["managedFields"][0];
        assert_eq!(mf["manager"], "m1");
        assert_eq!(mf["operation"], "Apply");
        assert_eq!(mf["fieldsV1"], json!({"f:data": {"f:a": {}}}));

        let other = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "2"}});
        let err = server_side_apply(&req(Some(&obj), &other, "m2", false)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Apply failed with 1 conflict: conflict with \"m1\": .data.a"
        );

        // Same value: no conflict, shared ownership.
        assert!(server_side_apply(&req(Some(&obj), &applied, "m2", false)).is_ok());

        let forced = server_side_apply(&req(Some(&obj), &other, "m2", true)).unwrap();
        assert_eq!(forced["data"]["a"], "2");
        let managers: Vec<&str> = forced["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["manager"].as_str().unwrap())
            .collect();
        assert_eq!(managers, vec!["m2"]);
    }

    #[test]
    fn update_owner_is_named_with_version() {
        let mut obj = json!({"spec": {"x": 1}});
        track_update(None, &mut obj, "kubectl-edit", "v1", "t");
        assert_eq!(obj["metadata"]["managedFields"][0]["operation"], "Update");
        let applied = json!({"spec": {"x": 2}});
        let err = server_side_apply(&req(Some(&obj), &applied, "m", false)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using v1: .spec.x"
        );
        let mut same = obj.clone();
        track_update(Some(&obj), &mut same, "", "v1", "t");
        assert_eq!(same, obj);
    }

    #[test]
    fn dropped_fields_are_removed() {
        let first = json!({"spec": {"x": 1, "y": 2}});
        let obj = server_side_apply(&req(None, &first, "m", false)).unwrap();
        let second = json!({"spec": {"x": 1}});
        let obj = server_side_apply(&req(Some(&obj), &second, "m", false)).unwrap();
        assert_eq!(obj["spec"], json!({"x": 1}));
    }
}
