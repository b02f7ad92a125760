//! Application: what handlers produced, put on the object — results into `status`,
//! the cycle's patches sent in kopf's order, a local view of the patched object for the
//! next handler, and the touch that wakes a sleeping object up.

use crate::clients::patching::{self, Patched, Target};
use crate::logging::ObjectLogger;
use crate::storage::progress::format_timestamp;
use crate::storage::touch;
use crate::structs::body::Body;
use crate::structs::essence::is_kopf_managed_annotation;
use crate::structs::finalizers::FinalizerChange;
use crate::structs::patch::Patch;
use jiff::Timestamp;
use serde_json::Value;

/// Applies a cycle's patches in kopf's order: the resource, its status, then the
/// finalizer's JSON patch; a stale touch-dummy goes with a non-empty merge-patch.
pub async fn apply(
    target: Target<'_>,
    body: &Body,
    logger: &ObjectLogger,
    patch: &Patch,
    finalizer: Option<&FinalizerChange>,
) -> Patched {
    let mut merge = patch.take();
    touch::clear_with(target.storage, body, &mut merge);
    patching::apply(target, body, logger, merge, finalizer).await
}

/// After a completed sleep: a touch that makes the server send a new event.
pub async fn touch(target: Target<'_>, body: &Body, logger: &ObjectLogger) -> Patched {
    let now = format_timestamp(Timestamp::now());
    let merge = touch::touch_patch(target.storage, body, &now);
    patching::apply(target, body, logger, merge, None).await
}

/// A returned object is shallow-merged into `status.<id>`; anything else is set there.
pub fn store_result(patch: &Patch, id: &str, result: Value) {
    match result {
        Value::Object(fields) => {
            for (key, value) in fields {
                patch.set_keys(&["status", id, &key], value);
            }
        }
        other => patch.set_keys(&["status", id], other),
    }
}

/// The object with a merge-patch applied locally (RFC 7386: nulls delete).
pub fn merged_view(body: &Body, patch: &Patch) -> Body {
    let mut raw = body.raw().clone();
    json_patch::merge(&mut raw, &patch.snapshot());
    Body::new(raw)
}

/// Whether the handlers' patch reaches beyond `status` and kopf's own annotations (such
/// as sub-handlers' progress records), into what the diff-base covers.
pub fn touches_essence(patch: &Patch) -> bool {
    let snapshot = patch.snapshot();
    let Some(fields) = snapshot.as_object() else {
        return false;
    };
    fields.iter().any(|(key, value)| match key.as_str() {
        "status" => false,
        "metadata" => value.as_object().is_none_or(|meta| {
            meta.iter().any(|(key, value)| {
                key != "annotations"
                    || value.as_object().is_none_or(|annotations| {
                        annotations.keys().any(|k| !is_kopf_managed_annotation(k))
                    })
            })
        }),
        _ => true,
    })
}

/// The body at a newer resourceVersion (after our own write).
pub fn with_version(body: &Body, version: String) -> Body {
    let mut raw = body.raw().clone();
    if let Some(meta) = raw.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("resourceVersion".into(), Value::String(version));
    }
    Body::new(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_next_handler_sees_earlier_results_as_a_merge_patch_leaves_them() {
        let body = Body::new(json!({
            "metadata": {"name": "x", "annotations": {"a": "1", "b": "2"}},
            "status": {"phase": "Old", "gone": true},
        }));
        let patch = Patch::new();
        patch.set_keys(&["status", "create_fn", "message"], json!("created"));
        patch.set_keys(&["status", "gone"], Value::Null);
        patch.set_keys(&["metadata", "annotations", "a"], Value::Null);
        let view = merged_view(&body, &patch);
        assert_eq!(
            view.raw(),
            &json!({
                "metadata": {"name": "x", "annotations": {"b": "2"}},
                "status": {"phase": "Old", "create_fn": {"message": "created"}},
            })
        );
        assert!(touches_essence(&patch), "annotations are in the essence");
        let status_only = Patch::new();
        status_only.set_keys(&["status", "create_fn"], json!({"message": "created"}));
        assert!(!touches_essence(&status_only));
        status_only.set_keys(
            &[
                "metadata",
                "annotations",
                "kopf.zalando.org/create_fn.item1",
            ],
            json!("{}"),
        );
        assert!(!touches_essence(&status_only), "kopf's records are not");
    }
}
