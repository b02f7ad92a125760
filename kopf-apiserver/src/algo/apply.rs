//! Server-side apply: field ownership in `metadata.managedFields` (FieldsV1), conflicts,
//! forcing, and the `Update` entries of ordinary writes. Lists are owned as their types say
//! (`list_types`): atomic lists as one field, sets and map lists item by item.

use super::field_set::{
    self, Path, from_fields_v1, get, is_item, overlaps, paths_of, to_fields_v1,
};
use super::list_types::{ListType, ListTypes};
use serde_json::{Value, json};
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
    /// How the resource's lists merge and are owned.
    pub lists: ListTypes<'a>,
}

/// A field another manager owns with a different value.
#[derive(Clone, Debug, PartialEq)]
pub struct Conflict {
    pub manager: String,
    pub operation: String,
    pub api_version: String,
    /// When an `Update` manager last wrote (kube-apiserver names it in the message).
    pub time: Option<String>,
    /// The subresource it wrote through (`status`, `scale`), if any.
    pub subresource: Option<String>,
    /// The field as kube-apiserver prints it: `.spec.x`, `.spec.containers[name="web"].image`.
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
            let via = c
                .subresource
                .as_deref()
                .map(|s| format!(" with subresource \"{s}\""))
                .unwrap_or_default();
            if c.operation == "Update" {
                let at = c
                    .time
                    .as_deref()
                    .map(|t| format!(" at {t}"))
                    .unwrap_or_default();
                write!(
                    f,
                    "{sep}conflict with \"{}\"{via} using {}{at}: {}",
                    c.manager, c.api_version, c.field
                )?;
            } else {
                write!(f, "{sep}conflict with \"{}\"{via}: {}", c.manager, c.field)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ApplyConflicts {}

struct Entry {
    raw: Value,
    manager: String,
    operation: String,
    api_version: String,
    /// `""` for the object itself.
    subresource: String,
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
                subresource: s("subresource"),
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
        let mut list = list;
        sort_entries(&mut list);
        object["metadata"]["managedFields"] = Value::Array(list);
    }
}

/// kube-apiserver's order of `managedFields`: by operation (`Apply` before `Update`), then
/// time, manager and apiVersion.
fn sort_entries(list: &mut [Value]) {
    if list.len() < 2 {
        return;
    }
    let key = |e: &Value| {
        let text = |k: &str| e[k].as_str().unwrap_or_default().to_string();
        (
            text("operation"),
            text("time"),
            text("manager"),
            text("apiVersion"),
        )
    };
    list.sort_by_cached_key(key);
}

/// Whether `owned` (another manager's) keeps `path` alive: it is the path, inside it, or an
/// atomic field around it (a map list's item around it does not: its fields are owned one by one).
fn touches(owned: &[String], path: &[String]) -> bool {
    owned.starts_with(path) || (path.starts_with(owned) && !is_item(owned))
}

/// Whether a path is a key field of the map list's item it is in (removed only with the item).
fn is_item_key(path: &[String]) -> bool {
    let [.., item, last] = path else { return false };
    let (Some(key), Some(name)) = (item.strip_prefix("k:"), last.strip_prefix("f:")) else {
        return false;
    };
    serde_json::from_str::<Value>(key).is_ok_and(|key| key.get(name).is_some())
}

/// Merge `applied` into `live`, checking ownership; returns the new object with managedFields updated.
pub fn server_side_apply(req: &ApplyRequest) -> Result<Value, ApplyConflicts> {
    let empty = json!({});
    let live = req.live.unwrap_or(&empty);
    let applied_paths = paths_of(req.applied, req.lists);
    let mut all = entries(live);
    let mut conflicts = Vec::new();
    let mut lost: Vec<(usize, Path)> = Vec::new();
    for (index, e) in all.iter().enumerate() {
        if e.manager == req.manager {
            continue;
        }
        for owned in &e.paths {
            for mine in applied_paths.iter().filter(|p| overlaps(p, owned)) {
                // The same field with another value conflicts; a field inside another's
                // only if that one is atomic (a scalar or a list), as maps and map lists'
                // items are granular.
                let (theirs, ours) = (get(live, owned), get(req.applied, owned));
                let atomic = |value: Option<&Value>| value.is_some_and(|v| !v.is_object());
                let clash = if mine.len() == owned.len() {
                    theirs != ours
                        && !(theirs.is_some_and(Value::is_object)
                            && ours.is_some_and(Value::is_object))
                } else if mine.len() > owned.len() {
                    atomic(theirs)
                } else {
                    atomic(get(req.applied, mine))
                };
                if clash {
                    conflicts.push(Conflict {
                        manager: e.manager.clone(),
                        operation: e.operation.clone(),
                        api_version: e.api_version.clone(),
                        time: e.raw["time"].as_str().map(str::to_string),
                        subresource: Some(e.subresource.clone()).filter(|s| !s.is_empty()),
                        field: field_set::display(owned),
                    });
                    lost.push((index, owned.clone()));
                }
            }
        }
    }
    conflicts.dedup();
    if !conflicts.is_empty() && !req.force {
        return Err(ApplyConflicts { conflicts });
    }
    // Fields this manager applied before but dropped now are removed unless someone else
    // owns them (a kept item keeps its key fields).
    let previous: BTreeSet<Path> = all
        .iter()
        .filter(|e| e.manager == req.manager && e.operation == "Apply")
        .flat_map(|e| e.paths.iter().cloned())
        .collect();
    let mut result = live.clone();
    for gone in previous.difference(&applied_paths) {
        let shared = all
            .iter()
            .any(|e| e.manager != req.manager && e.paths.iter().any(|p| touches(p, gone)));
        if !shared && !is_item_key(gone) {
            field_set::remove(&mut result, gone);
        }
    }
    let mut applied = req.applied.clone();
    if let Value::Object(m) = &mut applied
        && let Some(Value::Object(meta)) = m.get_mut("metadata")
    {
        meta.shift_remove("managedFields");
        meta.shift_remove("resourceVersion");
    }
    field_set::merge(&mut result, &applied, req.lists);
    // Forcing takes the conflicting fields from their owners; agreeing owners share.
    if req.force {
        for (index, path) in lost {
            all[index].paths.remove(&path);
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
        subresource: String::new(),
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
    lists: ListTypes,
) {
    let writer = Writer {
        manager,
        subresource: "",
    };
    track_update_by(old, new, writer, api_version, now, lists);
}

/// Who writes: the manager, and the subresource it writes through (`""` for none). An
/// `Update` entry is one per pair, as kube-apiserver keeps them.
#[derive(Clone, Copy)]
pub struct Writer<'a> {
    pub manager: &'a str,
    pub subresource: &'a str,
}

impl Writer<'_> {
    fn wrote(&self, e: &Entry) -> bool {
        e.manager == self.manager && e.operation == "Update" && e.subresource == self.subresource
    }
}

/// [`track_update`] for a write through a subresource.
pub fn track_update_by(
    old: Option<&Value>,
    new: &mut Value,
    writer: Writer,
    api_version: &str,
    now: &str,
    lists: ListTypes,
) {
    let manager = writer.manager;
    if manager.is_empty() {
        return;
    }
    // A write that leaves `managedFields` out keeps the old ones (kube-apiserver's rule).
    if let Some(previous) = old.and_then(|o| o.pointer("/metadata/managedFields"))
        && new.pointer("/metadata/managedFields").is_none()
        && let Some(Value::Object(meta)) = new.get_mut("metadata")
    {
        meta.insert("managedFields".into(), previous.clone());
    }
    if !quick_update(old, new, writer, now, lists) {
        full_update(old, new, writer, api_version, now, lists);
    }
}

/// Rebuilds every entry's ownership: the writer takes the fields it changed from the
/// others, vanished fields are owned by nobody.
fn full_update(
    old: Option<&Value>,
    new: &mut Value,
    writer: Writer,
    api_version: &str,
    now: &str,
    lists: ListTypes,
) {
    let empty = json!({});
    let old_obj = old.unwrap_or(&empty);
    let present = paths_of(new, lists);
    // An item of a map list that was there before is not changed by itself, only its fields.
    let changed: BTreeSet<Path> = present
        .iter()
        .filter(|p| {
            let (before, after) = (get(old_obj, p), get(new, p));
            if is_item(p) {
                before.is_none()
            } else {
                before != after
            }
        })
        .cloned()
        .collect();
    let mut all = entries(new);
    for e in all.iter_mut().filter(|e| !writer.wrote(e)) {
        e.paths.retain(|p| !changed.iter().any(|c| touches(p, c)));
    }
    // Drop ownership of fields that vanished.
    for e in all.iter_mut() {
        e.paths.retain(|p| present.iter().any(|q| q.starts_with(p)));
    }
    let existing = all.iter().position(|e| writer.wrote(e));
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
        raw: json!({"manager": writer.manager, "operation": "Update"}),
        manager: writer.manager.to_string(),
        operation: "Update".into(),
        api_version: api_version.to_string(),
        subresource: writer.subresource.to_string(),
        paths: mine_paths,
    };
    if !mine.paths.is_empty() {
        let mut entry = entry_value(&mine, Some(now));
        if !writer.subresource.is_empty() {
            entry["subresource"] = json!(writer.subresource);
        }
        list.push(entry);
    }
    write_entries(new, list);
}

/// The common case without rebuilding the ownership: the writer changed only fields it
/// alone already owns through its `Update` entry (a controller patching its own fields
/// again), and removed none; then only that entry's time moves. `true` if handled.
fn quick_update(
    old: Option<&Value>,
    new: &mut Value,
    writer: Writer,
    now: &str,
    lists: ListTypes,
) -> bool {
    let Some(old) = old else { return false };
    let mut walk = Walk {
        lists,
        prefix: Vec::new(),
        names: Vec::new(),
        changed: Vec::new(),
        removed: false,
    };
    walk.diff(Some(old), new);
    let Walk {
        changed, removed, ..
    } = walk;
    if removed {
        return false;
    }
    if changed.is_empty() {
        return true; // Nothing of the object changed: the ownership stays as it is.
    }
    let Some(Value::Array(list)) = new.pointer_mut("/metadata/managedFields") else {
        return false;
    };
    let is_mine = |e: &Value| {
        e["manager"] == writer.manager
            && e["operation"] == "Update"
            && e["subresource"].as_str().unwrap_or_default() == writer.subresource
    };
    let Some(mine) = list.iter().position(is_mine) else {
        return false;
    };
    let owned_by = |e: &Value, path: &[String]| field_set::owns(&e["fieldsV1"], path);
    let mine_owns_all = changed.iter().all(|p| owned_by(&list[mine], p));
    let others_own_any = list
        .iter()
        .enumerate()
        .any(|(i, e)| i != mine && changed.iter().any(|p| owned_by(e, p)));
    if !mine_owns_all || others_own_any {
        return false;
    }
    list[mine]["time"] = json!(now);
    sort_entries(list);
    true
}

/// The fields (as [`paths_of`] sees them) that differ between two versions of an object.
struct Walk<'v, 'l> {
    lists: ListTypes<'l>,
    prefix: Path,
    names: Vec<&'v str>,
    changed: Vec<Path>,
    /// A field of the old version is gone, or a keyed list changed: the quick path does not apply.
    removed: bool,
}

impl<'v> Walk<'v, '_> {
    fn diff(&mut self, old: Option<&Value>, new: &'v Value) {
        match (old, new) {
            (Some(Value::Object(o)), Value::Object(n)) if !n.is_empty() && !o.is_empty() => {
                for (key, value) in n {
                    if field_set::is_identity(&self.prefix, key) {
                        continue;
                    }
                    self.prefix.push(field_set::field(key));
                    self.names.push(key);
                    self.diff(o.get(key), value);
                    self.names.pop();
                    self.prefix.pop();
                }
                if o.keys()
                    .any(|k| !field_set::is_identity(&self.prefix, k) && !n.contains_key(k))
                {
                    self.removed = true;
                }
            }
            (Some(o), n) if o == n => {}
            (old, Value::Object(n)) if !n.is_empty() => {
                if old.is_some() {
                    self.removed = true; // A scalar or empty object became an object.
                }
                let mut fields = BTreeSet::new();
                field_set::collect(
                    new,
                    self.lists,
                    &mut self.prefix,
                    &mut self.names,
                    &mut fields,
                );
                self.changed.extend(fields);
            }
            (old, n) => {
                if matches!(old, Some(Value::Object(o)) if !o.is_empty()) {
                    self.removed = true; // An object's leaves became one scalar.
                }
                if n.is_array() && self.lists.of(&self.names) != ListType::Atomic {
                    self.removed = true; // Items of a set or map list: the full rebuild.
                }
                if !self.prefix.is_empty() {
                    self.changed.push(self.prefix.clone());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTL: Writer = Writer {
        manager: "ctl",
        subresource: "",
    };

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
            lists: ListTypes::BuiltIn,
        }
    }

    /// The quick path, when it applies, gives what the full rebuild gives (but the time).
    #[test]
    fn the_quick_path_agrees_with_the_full_rebuild() {
        let base = json!({"metadata": {"name": "x"}, "data": {"a": "1", "b": "2"}, "spec": {"c": {"d": 1}}});
        let mut owned = base.clone();
        track_update(None, &mut owned, "ctl", "v1", "t0", ListTypes::BuiltIn);
        track_update(
            Some(&base),
            &mut owned,
            "ctl",
            "v1",
            "t0",
            ListTypes::BuiltIn,
        );
        let mut other = owned.clone();
        other["data"]["b"] = json!("9");
        let before_other = owned.clone();
        track_update(
            Some(&before_other),
            &mut other,
            "editor",
            "v1",
            "t1",
            ListTypes::BuiltIn,
        );
        let edits = [
            json!({"data": {"a": "5"}}),
            json!({"data": {"b": "7"}}),
            json!({"spec": {"c": {"d": 2}}}),
            json!({"data": {"a": "1"}}),
            json!({"data": {"a": null}}),
            json!({"spec": {"c": 3}}),
            json!({"data": {"z": "new"}}),
        ];
        for start in [&owned, &other] {
            for edit in &edits {
                let mut edited = start.clone();
                crate::algo::merge_patch::apply(&mut edited, edit);
                if edited == *start {
                    continue; // A no-op write is not stored at all.
                }
                let mut quick = edited.clone();
                let handled = quick_update(Some(start), &mut quick, CTL, "t2", ListTypes::BuiltIn);
                let mut full = edited.clone();
                full_update(Some(start), &mut full, CTL, "v1", "t2", ListTypes::BuiltIn);
                if handled {
                    let strip = |v: &Value| {
                        let mut list = v
                            .pointer("/metadata/managedFields")
                            .cloned()
                            .unwrap_or(json!([]));
                        for entry in list.as_array_mut().into_iter().flatten() {
                            entry.as_object_mut().map(|e| e.shift_remove("time"));
                        }
                        list
                    };
                    assert_eq!(strip(&quick), strip(&full), "edit {edit} on {start}");
                }
            }
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
    fn update_owner_is_named_with_version_and_time() {
        let mut obj = json!({"spec": {"x": 1}});
        track_update(
            None,
            &mut obj,
            "kubectl-edit",
            "v1",
            "2026-11-29T10:00:00Z",
            ListTypes::BuiltIn,
        );
        assert_eq!(obj["metadata"]["managedFields"][0]["operation"], "Update");
        let applied = json!({"spec": {"x": 2}});
        let err = server_side_apply(&req(Some(&obj), &applied, "m", false)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using v1 at 2026-11-29T10:00:00Z: .spec.x"
        );
        let mut same = obj.clone();
        track_update(Some(&obj), &mut same, "", "v1", "t", ListTypes::BuiltIn);
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

    fn deployment(containers: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"template": {"spec": {"containers": containers}}}})
    }

    #[test]
    fn map_list_items_have_their_own_owners() {
        let web = deployment(json!([{"name": "web", "image": "nginx:1"}]));
        let obj = server_side_apply(&req(None, &web, "a", false)).unwrap();
        let side = deployment(json!([{"name": "side", "image": "envoy"}]));
        let obj = server_side_apply(&req(Some(&obj), &side, "b", false)).unwrap();
        let names: Vec<&str> = obj["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["web", "side"]);

        // Another image for a's container conflicts on that field alone.
        let bump = deployment(json!([{"name": "web", "image": "nginx:2"}]));
        let err = server_side_apply(&req(Some(&obj), &bump, "b", false)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Apply failed with 1 conflict: conflict with \"a\": .spec.template.spec.containers[name=\"web\"].image"
        );
        let forced = server_side_apply(&req(Some(&obj), &bump, "b", true)).unwrap();
        let entries = forced["metadata"]["managedFields"].as_array().unwrap();
        let a = entries.iter().find(|e| e["manager"] == "a").unwrap();
        assert_eq!(
            a["fieldsV1"],
            json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"web\"}": {".": {}, "f:name": {}}}}}}})
        );

        // b stops applying its sidecar: it alone owned it, so it goes.
        let only_web = deployment(json!([{"name": "web", "image": "nginx:2"}]));
        let after = server_side_apply(&req(Some(&forced), &only_web, "b", false)).unwrap();
        assert_eq!(
            after["spec"]["template"]["spec"]["containers"],
            json!([{"name": "web", "image": "nginx:2"}])
        );
    }

    #[test]
    fn an_update_takes_only_the_item_fields_it_changed() {
        let web = deployment(json!([{"name": "web", "image": "nginx:1", "args": ["-v"]}]));
        let obj = server_side_apply(&req(None, &web, "a", false)).unwrap();
        let mut edited = obj.clone();
        edited["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:3");
        track_update(
            Some(&obj),
            &mut edited,
            "kubectl-edit",
            "apps/v1",
            "t",
            ListTypes::BuiltIn,
        );
        let entries = edited["metadata"]["managedFields"].as_array().unwrap();
        let edit = entries
            .iter()
            .find(|e| e["manager"] == "kubectl-edit")
            .unwrap();
        let item = "k:{\"name\":\"web\"}";
        assert_eq!(
            edit["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"][item],
            json!({"f:image": {}})
        );
        let a = entries.iter().find(|e| e["manager"] == "a").unwrap();
        assert_eq!(
            a["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"][item],
            json!({".": {}, "f:args": {}, "f:name": {}})
        );
    }
}
