//! The diff-base: the last-handled essence, kept where `settings.persistence.diffbase_storage`
//! says (kopf's annotation by default), to diff the next state against; and the essences
//! of both, cleared of what the storages themselves keep on the object.

use crate::settings::persistence::{DiffBaseStorage, PersistenceSettings};
use crate::storage::fields;
use crate::storage::keys::{make_keys, store_marker};
use crate::structs::essence::{essence, remove_annotations, remove_empty_stanzas};
use serde_json::Value;

/// kopf's default annotation that holds the last-handled essence.
pub const LAST_HANDLED: &str = "kopf.zalando.org/last-handled-configuration";

/// The diff-base annotation's text: compact JSON plus a newline, as kopf writes it.
pub fn diffbase_text(essence: &Value) -> String {
    let mut text = serde_json::to_string(essence).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

/// The stored diff-base and the current essence of a body, both without what the progress
/// storage keeps on the object, as kopf compares them.
pub fn essences(
    persistence: &PersistenceSettings,
    body: &Value,
    extra_fields: &[Vec<String>],
) -> (Option<Value>, Value) {
    let progress = &persistence.progress_storage;
    let diffbase = &persistence.diffbase_storage;
    let old = diffbase.fetch(body).map(|old| progress.clear(old));
    let new = progress.clear(diffbase.build(body, extra_fields));
    (old, new)
}

impl DiffBaseStorage {
    /// The annotation keys or the status field where the essence is kept.
    fn paths(&self, body: &Value) -> Vec<Vec<String>> {
        match self {
            DiffBaseStorage::Annotations(a) => make_keys(&a.prefix, a.v1, &a.key, Some(body))
                .into_iter()
                .map(|key| vec!["metadata".into(), "annotations".into(), key])
                .collect(),
            DiffBaseStorage::Status(s) => vec![fields::parse(&s.field)],
        }
    }

    /// The essence: the body's contentful fields (and the handlers' extra fields), without
    /// the ignored fields and without this storage's own keys.
    pub fn build(&self, body: &Value, extra_fields: &[Vec<String>]) -> Value {
        let mut built = essence(body, extra_fields);
        for ignored in self.ignored_fields() {
            fields::remove(&mut built, &fields::parse(ignored));
        }
        match self {
            DiffBaseStorage::Annotations(_) => {
                let own: Vec<String> = self
                    .paths(body)
                    .into_iter()
                    .filter_map(|p| p.last().cloned())
                    .collect();
                remove_annotations(&mut built, |key| own.iter().any(|k| k == key));
                remove_empty_stanzas(&mut built);
            }
            DiffBaseStorage::Status(s) => fields::remove(&mut built, &fields::parse(&s.field)),
        }
        built
    }

    /// The last-handled essence stored on the object, if any.
    pub fn fetch(&self, body: &Value) -> Option<Value> {
        self.paths(body).iter().find_map(|path| {
            let text = fields::resolve(body, path)?.as_str()?;
            serde_json::from_str(text)
                .ok()
                .filter(|v: &Value| !v.is_null())
        })
    }

    /// Puts the essence into the patch: with a trailing newline in annotations (as kubectl
    /// does), without one in a status field.
    pub fn store(&self, body: &Value, patch: &mut Value, essence: &Value) {
        match self {
            DiffBaseStorage::Annotations(a) => {
                let text = diffbase_text(essence);
                for path in self.paths(body) {
                    fields::ensure(patch, &path, Value::String(text.clone()));
                }
                store_marker(&a.prefix, body, patch);
            }
            DiffBaseStorage::Status(_) => {
                let text = serde_json::to_string(essence).unwrap_or_else(|_| "{}".into());
                for path in self.paths(body) {
                    fields::ensure(patch, &path, Value::String(text.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::persistence::{
        AnnotationsDiffBaseStorage, StatusDiffBaseStorage, StatusProgressStorage,
    };
    use serde_json::json;

    /// Byte-exact against kopf 1.45.2's `build`, `fetch` and `store`.
    #[test]
    fn the_diffbase_is_built_fetched_and_stored_as_kopf_does() {
        let body = json!({"apiVersion": "v1", "kind": "X",
            "metadata": {"name": "n", "labels": {"l": "1"}, "annotations": {
                "my-op.example.com/last-handled-configuration": "{\"spec\":{\"a\":0}}\n",
                "my-op.example.com/create_fn": "{}", "a": "b"}},
            "spec": {"a": 1, "b": {"c": 2}},
            "status": {"kopf": {"last-handled-configuration": "{\"spec\":{\"a\":0}}"}}});
        let text = |value: &Value| serde_json::to_string(value).unwrap();

        let annotations = DiffBaseStorage::from(AnnotationsDiffBaseStorage {
            ignored_fields: vec!["spec.b.c".into()],
            ..AnnotationsDiffBaseStorage::with_prefix("my-op.example.com")
        });
        let built = annotations.build(&body, &[]);
        assert_eq!(
            text(&built),
            r#"{"spec":{"a":1},"metadata":{"labels":{"l":"1"},"annotations":{"my-op.example.com/create_fn":"{}","a":"b"}}}"#
        );
        assert_eq!(annotations.fetch(&body), Some(json!({"spec": {"a": 0}})));
        let mut patch = json!({});
        annotations.store(&json!({}), &mut patch, &built);
        assert_eq!(
            text(&patch),
            text(&json!({"metadata": {"annotations": {
                "my-op.example.com/last-handled-configuration": format!("{}\n", text(&built)),
                "my-op.example.com/kopf-managed": "yes"}}}))
        );

        let status = DiffBaseStorage::from(StatusDiffBaseStorage::default());
        let built = status.build(&body, &[]);
        assert_eq!(built["spec"], json!({"a": 1, "b": {"c": 2}}));
        assert_eq!(status.fetch(&body), Some(json!({"spec": {"a": 0}})));
        let mut patch = json!({});
        status.store(&json!({}), &mut patch, &built);
        assert_eq!(
            patch,
            json!({"status": {"kopf": {"last-handled-configuration": text(&built)}}})
        );
    }

    #[test]
    fn essences_leave_out_what_the_storages_keep() {
        let persistence = PersistenceSettings {
            progress_storage: StatusProgressStorage::default().into(),
            diffbase_storage: StatusDiffBaseStorage::default().into(),
            ..PersistenceSettings::default()
        };
        let body = json!({"spec": {"a": 1}, "status": {"kopf": {"progress": {"x": {}},
            "last-handled-configuration": "{\"spec\":{\"a\":0},\"status\":{\"kopf\":{\"progress\":{}}}}"}}});
        let status_fields = vec![vec!["status".to_string(), "kopf".to_string()]];
        let (old, new) = essences(&persistence, &body, &status_fields);
        assert_eq!(old, Some(json!({"spec": {"a": 0}})));
        assert_eq!(new, json!({"spec": {"a": 1}}));
    }
}
