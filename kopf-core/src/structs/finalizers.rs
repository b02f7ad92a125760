//! kopf's finalizer: whether an object carries it, and the JSON patch that adds or
//! removes it, guarded by the resourceVersion it was computed from.

use crate::structs::body::Body;
use serde::Serialize;
use serde_json::Value;

/// One JSON-patch operation (RFC 6902), as much of it as kopf sends.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum JsonPatchOp {
    Test { path: String, value: Value },
    Add { path: String, value: Value },
    Remove { path: String },
}

/// Adding or removing our finalizer: the operation and the version it is based on.
///
/// The guard makes the server refuse the patch if the object changed meanwhile (the
/// finalizer list may have changed too); our own merge-patch just before it moves the
/// version on, so the sender re-bases the guard with [`FinalizerChange::guarded`].
#[derive(Clone, Debug, PartialEq)]
pub struct FinalizerChange {
    pub resource_version: String,
    pub op: JsonPatchOp,
}

impl FinalizerChange {
    /// The operations to send: the version test first, then the change.
    pub fn guarded(&self, fresher_version: Option<&str>) -> Vec<JsonPatchOp> {
        let version = fresher_version.unwrap_or(&self.resource_version);
        vec![
            JsonPatchOp::Test {
                path: "/metadata/resourceVersion".into(),
                value: Value::String(version.to_string()),
            },
            self.op.clone(),
        ]
    }
}

/// Whether the object carries this finalizer.
pub fn has(body: &Body, finalizer: &str) -> bool {
    body.finalizers().contains(&finalizer)
}

/// Appends the finalizer (creating the list when there is none).
pub fn add(body: &Body, finalizer: &str) -> FinalizerChange {
    let finalizers = body.finalizers();
    let op = if finalizers.is_empty() {
        JsonPatchOp::Add {
            path: "/metadata/finalizers".into(),
            value: Value::from(vec![finalizer]),
        }
    } else {
        JsonPatchOp::Add {
            path: format!("/metadata/finalizers/{}", finalizers.len()),
            value: Value::from(finalizer),
        }
    };
    change(body, op)
}

/// Removes the finalizer (the whole list when it is the only one).
pub fn remove(body: &Body, finalizer: &str) -> FinalizerChange {
    let finalizers = body.finalizers();
    let index = finalizers.iter().position(|f| *f == finalizer).unwrap_or(0);
    let path = if finalizers.len() <= 1 {
        "/metadata/finalizers".to_string()
    } else {
        format!("/metadata/finalizers/{index}")
    };
    change(body, JsonPatchOp::Remove { path })
}

fn change(body: &Body, op: JsonPatchOp) -> FinalizerChange {
    FinalizerChange {
        resource_version: body.resource_version().unwrap_or_default().to_string(),
        op,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const OURS: &str = "kopf.zalando.org/KopfFinalizerMarker";

    fn ops(change: &FinalizerChange, fresher: Option<&str>) -> Value {
        serde_json::to_value(change.guarded(fresher)).unwrap()
    }

    #[test]
    fn finalizer_patches_are_kopfs_guarded_json_patches() {
        let bare = Body::new(json!({"metadata": {"resourceVersion": "7"}}));
        assert!(!has(&bare, OURS));
        assert_eq!(
            ops(&add(&bare, OURS), None),
            json!([
                {"op": "test", "path": "/metadata/resourceVersion", "value": "7"},
                {"op": "add", "path": "/metadata/finalizers", "value": [OURS]},
            ])
        );
        let shared =
            Body::new(json!({"metadata": {"resourceVersion": "8", "finalizers": ["other", OURS]}}));
        assert!(has(&shared, OURS));
        assert_eq!(
            ops(&add(&shared, "third"), None)[1],
            json!({"op": "add", "path": "/metadata/finalizers/2", "value": "third"})
        );
        assert_eq!(
            ops(&remove(&shared, OURS), Some("9")),
            json!([
                {"op": "test", "path": "/metadata/resourceVersion", "value": "9"},
                {"op": "remove", "path": "/metadata/finalizers/1"},
            ])
        );
        let alone = Body::new(json!({"metadata": {"resourceVersion": "3", "finalizers": [OURS]}}));
        assert_eq!(
            ops(&remove(&alone, OURS), None)[1],
            json!({"op": "remove", "path": "/metadata/finalizers"})
        );
    }
}
