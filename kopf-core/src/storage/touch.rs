//! kopf's touch-dummy: a write that makes the server send a new event when a delayed
//! handler's time has come, removed again by the next real patch. Where it lives is the
//! progress storage's choice (`<prefix>/touch-dummy`, or `status.kopf.dummy`).

use crate::settings::persistence::ProgressStorage;
use crate::structs::body::Body;
use serde_json::{Map, Value};

/// The merge-patch that touches the object at this (formatted) time.
pub fn touch_patch(storage: &ProgressStorage, body: &Body, now: &str) -> Value {
    let mut patch = Value::Object(Map::new());
    storage.touch(body.raw(), &mut patch, Some(now));
    patch
}

/// Adds the removal of a stale touch-dummy to a non-empty patch, as kopf does.
pub fn clear_with(storage: &ProgressStorage, body: &Body, patch: &mut Value) {
    if patch.as_object().is_some_and(|m| !m.is_empty()) {
        storage.touch(body.raw(), patch, None);
    }
}
