//! kopf's touch-dummy annotation: a write that makes the server send a new event when a
//! delayed handler's time has come, removed again by the next real patch.

use crate::structs::body::Body;
use crate::structs::patch::merge_into;
use serde_json::{Value, json};

const TOUCH_DUMMY: &str = "kopf.zalando.org/touch-dummy";

/// The merge-patch that touches the object at this (formatted) time.
pub fn touch_patch(now: &str) -> Value {
    json!({"metadata": {"annotations": {TOUCH_DUMMY: now}}})
}

/// Adds the removal of a stale touch-dummy to a non-empty patch, as kopf does.
pub fn clear_with(body: &Body, patch: &mut Value) {
    let non_empty = patch.as_object().is_some_and(|m| !m.is_empty());
    if non_empty && body.annotation(TOUCH_DUMMY).is_some() {
        merge_into(
            patch,
            json!({"metadata": {"annotations": {TOUCH_DUMMY: Value::Null}}}),
        );
    }
}
