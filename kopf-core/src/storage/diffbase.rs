//! The diff-base: the last-handled essence, kept in kopf's annotation, to diff the next
//! state against.

use serde_json::Value;

/// kopf's annotation that holds the last-handled essence.
pub const LAST_HANDLED: &str = "kopf.zalando.org/last-handled-configuration";

/// The diff-base annotation's text: compact JSON plus a newline, as kopf writes it.
pub fn diffbase_text(essence: &Value) -> String {
    let mut text = serde_json::to_string(essence).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

/// The last-handled essence stored on the object, if any.
pub fn stored_diffbase(body: &Value) -> Option<Value> {
    let text = body
        .pointer("/metadata/annotations")?
        .get(LAST_HANDLED)?
        .as_str()?;
    serde_json::from_str(text).ok()
}
