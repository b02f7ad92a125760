//! The progress storages at work: kopf's `fetch`, `store`, `purge`, `touch` and `clear`
//! for each choice of `settings.persistence.progress_storage`, on a body and a patch.

use crate::settings::persistence::{
    AnnotationsProgressStorage, ProgressStorage, StatusProgressStorage,
};
use crate::storage::fields;
use crate::storage::keys::{make_keys, store_marker};
use crate::storage::progress::HandlerState;
use crate::structs::essence::{remove_annotations, remove_empty_stanzas};
use serde_json::Value;

/// One place a progress storage reads from, and maybe writes to.
enum Part {
    Annotations(AnnotationsProgressStorage),
    Status {
        storage: StatusProgressStorage,
        writes: bool,
    },
}

impl ProgressStorage {
    /// Its places in the order kopf reads them; the smart storage's status part is only
    /// read and purged, never written.
    fn parts(&self) -> Vec<Part> {
        match self {
            ProgressStorage::Annotations(a) => vec![Part::Annotations(a.clone())],
            ProgressStorage::Status(s) => vec![Part::Status {
                storage: s.clone(),
                writes: true,
            }],
            ProgressStorage::Smart(smart) => {
                let (annotations, status) = smart.parts();
                vec![
                    Part::Annotations(annotations),
                    Part::Status {
                        storage: status,
                        writes: false,
                    },
                ]
            }
        }
    }

    /// The handler's stored record, from the first place that has one.
    pub fn fetch(&self, id: &str, body: &Value) -> Option<HandlerState> {
        self.parts().iter().find_map(|part| part.fetch(id, body))
    }

    /// Puts the handler's record into the patch, wherever this storage writes.
    pub fn store(&self, id: &str, state: &HandlerState, body: &Value, patch: &mut Value) {
        for part in self.parts() {
            part.store(id, state, body, patch);
        }
    }

    /// Removes the handler's record: `null` in the patch where the object has it (or
    /// `written`: an earlier patch of this cycle put it there); where neither has it, a
    /// record only in the patch is taken out of the patch.
    pub fn purge(&self, id: &str, body: &Value, patch: &mut Value, written: bool) {
        for part in self.parts() {
            let written = written && part.writes();
            for path in part.paths(id, body) {
                if written || fields::resolve(body, &path).is_some() {
                    fields::ensure(patch, &path, Value::Null);
                } else if fields::resolve(patch, &path).is_some() {
                    fields::remove(patch, &path);
                }
            }
        }
    }

    /// Sets the touch-dummy to `value` (`None`: removes it) where it differs on the object.
    pub fn touch(&self, body: &Value, patch: &mut Value, value: Option<&str>) {
        let value = value.map_or(Value::Null, Value::from);
        for part in self.parts() {
            let (path, prefix) = match &part {
                Part::Annotations(a) => {
                    let keys = make_keys(&a.prefix, a.v1, &a.touch_key, Some(body));
                    let path = keys.into_iter().map(annotation_path).collect();
                    (path, Some(a.prefix.as_str()))
                }
                Part::Status { storage, writes } if *writes => {
                    (vec![fields::parse(&storage.touch_field)], None)
                }
                Part::Status { .. } => continue,
            };
            for path in path {
                if fields::resolve(body, &path).unwrap_or(&Value::Null) != &value {
                    fields::ensure(patch, &path, value.clone());
                    if let Some(prefix) = prefix {
                        store_marker(prefix, body, patch);
                    }
                }
            }
        }
    }

    /// The essence without what this storage keeps on the object: annotations under its
    /// prefix, its status field.
    pub fn clear(&self, mut essence: Value) -> Value {
        for part in self.parts() {
            match part {
                Part::Annotations(a) => {
                    let own = format!("{}/", a.prefix);
                    if !a.prefix.is_empty() {
                        remove_annotations(&mut essence, |key| key.starts_with(&own));
                    }
                }
                Part::Status { storage, .. } => {
                    fields::remove(&mut essence, &fields::parse(&storage.field));
                }
            }
            remove_empty_stanzas(&mut essence);
        }
        essence
    }
}

fn annotation_path(key: String) -> Vec<String> {
    vec!["metadata".into(), "annotations".into(), key]
}

impl Part {
    /// Whether records are written here (the smart storage's status part is only read).
    fn writes(&self) -> bool {
        !matches!(self, Part::Status { writes: false, .. })
    }

    /// Where a handler's record is (or would be) on the object.
    fn paths(&self, id: &str, body: &Value) -> Vec<Vec<String>> {
        match self {
            Part::Annotations(a) => make_keys(&a.prefix, a.v1, id, Some(body))
                .into_iter()
                .map(annotation_path)
                .collect(),
            Part::Status { storage, .. } => {
                let mut path = fields::parse(&storage.field);
                path.push(id.to_string());
                vec![path]
            }
        }
    }

    fn fetch(&self, id: &str, body: &Value) -> Option<HandlerState> {
        self.paths(id, body).iter().find_map(|path| {
            let stored = fields::resolve(body, path)?;
            match self {
                Part::Annotations(_) => HandlerState::from_json(stored.as_str()?),
                Part::Status { .. } => HandlerState::from_value(stored),
            }
        })
    }

    fn store(&self, id: &str, state: &HandlerState, body: &Value, patch: &mut Value) {
        match self {
            Part::Annotations(a) => {
                let record = Value::Object(state.to_record(a.verbose));
                let text = serde_json::to_string(&record).unwrap_or_default();
                for path in self.paths(id, body) {
                    fields::ensure(patch, &path, Value::String(text.clone()));
                }
                store_marker(&a.prefix, body, patch);
            }
            Part::Status { writes: true, .. } => {
                for path in self.paths(id, body) {
                    fields::ensure(patch, &path, Value::Object(state.to_record(true)));
                }
            }
            Part::Status { writes: false, .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::persistence::SmartProgressStorage;
    use serde_json::json;

    fn state() -> HandlerState {
        let mut state = HandlerState::new("create", "2026-11-25T05:38:23.996470Z".parse().unwrap());
        state.delayed = Some("2026-11-25T05:38:24.997074Z".parse().unwrap());
        state.retries = 1;
        state.message = Some("not yet".into());
        state
    }

    fn stored(storage: impl Into<ProgressStorage>) -> Value {
        let storage = storage.into();
        let mut patch = json!({});
        storage.store("create_fn", &state(), &json!({}), &mut patch);
        storage.store("other/sub", &state(), &json!({}), &mut patch);
        assert_eq!(storage.fetch("other/sub", &patch), Some(state()), "{patch}");
        patch
    }

    const RECORD: &str = r#"{"started":"2026-11-25T05:38:23.996470+00:00","delayed":"2026-11-25T05:38:24.997074+00:00","purpose":"create","retries":1,"success":false,"failure":false,"message":"not yet"}"#;

    /// Byte-exact against kopf 1.45.2's storages (`json.dumps` of their patches).
    #[test]
    fn records_are_stored_where_and_as_kopf_stores_them() {
        let text = |patch: Value| serde_json::to_string(&patch).unwrap();
        assert_eq!(
            text(stored(SmartProgressStorage::default())),
            text(json!({"metadata": {"annotations": {
                "kopf.zalando.org/create_fn": RECORD, "kopf.zalando.org/other.sub": RECORD,
            }}}))
        );
        assert_eq!(
            text(stored(AnnotationsProgressStorage::with_prefix(
                "my-op.example.com"
            ))),
            text(json!({"metadata": {"annotations": {
                "my-op.example.com/create_fn": RECORD,
                "my-op.example.com/kopf-managed": "yes",
                "my-op.example.com/other.sub": RECORD,
            }}}))
        );
        let full = json!({"started": "2026-11-25T05:38:23.996470+00:00", "stopped": null,
            "delayed": "2026-11-25T05:38:24.997074+00:00", "purpose": "create", "retries": 1,
            "success": false, "failure": false, "message": "not yet", "subrefs": null});
        assert_eq!(
            text(stored(StatusProgressStorage::with_field(
                "status.my-op.progress"
            ))),
            text(
                json!({"status": {"my-op": {"progress": {"create_fn": full, "other/sub": full}}}})
            )
        );
        let verbose = AnnotationsProgressStorage {
            verbose: true,
            ..AnnotationsProgressStorage::default()
        };
        assert_eq!(
            stored(verbose)["metadata"]["annotations"]["kopf.zalando.org/create_fn"],
            json!(text(full))
        );
    }

    #[test]
    fn records_are_purged_and_touched_as_kopf_does() {
        let body = json!({
            "metadata": {"annotations": {"kopf.zalando.org/create_fn": "{}", "kopf.zalando.org/touch-dummy": "x"}},
            "status": {"kopf": {"progress": {"create_fn": {}, "other": {}}}},
        });
        let purged = |storage: ProgressStorage| {
            let mut patch =
                json!({"metadata": {"annotations": {"kopf.zalando.org/written": "{}"}}});
            for id in ["create_fn", "other", "written", "absent"] {
                storage.purge(id, &body, &mut patch, false);
            }
            patch
        };
        let smart = ProgressStorage::default();
        let status = ProgressStorage::from(StatusProgressStorage::default());
        assert_eq!(
            purged(smart.clone()),
            json!({"metadata": {"annotations": {"kopf.zalando.org/create_fn": null}},
                   "status": {"kopf": {"progress": {"create_fn": null, "other": null}}}})
        );
        assert_eq!(
            purged(status.clone()),
            json!({"metadata": {"annotations": {"kopf.zalando.org/written": "{}"}},
                   "status": {"kopf": {"progress": {"create_fn": null, "other": null}}}})
        );
        // Written earlier in this cycle: purged where written, not where only read.
        let mut patch = json!({});
        smart.purge("absent", &body, &mut patch, true);
        assert_eq!(
            patch,
            json!({"metadata": {"annotations": {"kopf.zalando.org/absent": null}}})
        );

        let touched = |storage: &ProgressStorage, body: &Value, value| {
            let mut patch = json!({});
            storage.touch(body, &mut patch, value);
            patch
        };
        let dummy = "kopf.zalando.org/touch-dummy";
        assert_eq!(
            touched(&smart, &body, None),
            json!({"metadata": {"annotations": {dummy: null}}})
        );
        assert_eq!(
            touched(&smart, &body, Some("T")),
            json!({"metadata": {"annotations": {dummy: "T"}}})
        );
        assert_eq!(touched(&status, &body, None), json!({}));
        assert_eq!(
            touched(&status, &body, Some("T")),
            json!({"status": {"kopf": {"dummy": "T"}}})
        );
        let custom = AnnotationsProgressStorage::with_prefix("my-op.example.com").into();
        assert_eq!(
            serde_json::to_string(&touched(&custom, &json!({}), Some("T"))).unwrap(),
            r#"{"metadata":{"annotations":{"my-op.example.com/touch-dummy":"T","my-op.example.com/kopf-managed":"yes"}}}"#
        );
    }

    #[test]
    fn essences_are_cleared_of_the_storages_own_keys() {
        let essence = json!({"spec": {"a": 1},
            "metadata": {"annotations": {"my-op.example.com/x": "1", "other/y": "2"}},
            "status": {"kopf": {"progress": {"a": {}}}}});
        assert_eq!(
            ProgressStorage::from(SmartProgressStorage::with_prefix("my-op.example.com"))
                .clear(essence.clone()),
            json!({"spec": {"a": 1}, "metadata": {"annotations": {"other/y": "2"}}})
        );
        assert_eq!(
            ProgressStorage::from(StatusProgressStorage::default()).clear(essence),
            json!({"spec": {"a": 1}, "metadata": {"annotations": {"my-op.example.com/x": "1", "other/y": "2"}}})
        );
    }
}
