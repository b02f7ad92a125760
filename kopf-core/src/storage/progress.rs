//! Per-handler progress records, stored in annotations exactly as kopf stores them.

use base64::Engine;
use blake2::digest::{Update, VariableOutput};
use jiff::Timestamp;
use serde_json::{Map, Value};

/// Where kopf keeps its annotations.
pub const PREFIX: &str = "kopf.zalando.org";

/// One handler's progress within a cause.
#[derive(Clone, Debug, PartialEq)]
pub struct HandlerState {
    pub started: Timestamp,
    pub stopped: Option<Timestamp>,
    pub delayed: Option<Timestamp>,
    pub purpose: Option<String>,
    pub retries: u32,
    pub success: bool,
    pub failure: bool,
    pub message: Option<String>,
    pub subrefs: Vec<String>,
}

impl HandlerState {
    pub fn new(purpose: &str, now: Timestamp) -> Self {
        HandlerState {
            started: now,
            stopped: None,
            delayed: None,
            purpose: Some(purpose.to_string()),
            retries: 0,
            success: false,
            failure: false,
            message: None,
            subrefs: Vec::new(),
        }
    }

    pub fn is_finished(&self) -> bool {
        self.success || self.failure
    }

    pub fn is_sleeping(&self, now: Timestamp) -> bool {
        !self.is_finished() && self.delayed.is_some_and(|d| d > now)
    }

    /// Compact JSON in kopf's key order, `null`s omitted.
    pub fn to_json(&self) -> String {
        let mut map = Map::new();
        map.insert(
            "started".into(),
            Value::String(format_timestamp(self.started)),
        );
        if let Some(t) = self.stopped {
            map.insert("stopped".into(), Value::String(format_timestamp(t)));
        }
        if let Some(t) = self.delayed {
            map.insert("delayed".into(), Value::String(format_timestamp(t)));
        }
        if let Some(p) = &self.purpose {
            map.insert("purpose".into(), Value::String(p.clone()));
        }
        map.insert("retries".into(), Value::from(self.retries));
        map.insert("success".into(), Value::Bool(self.success));
        map.insert("failure".into(), Value::Bool(self.failure));
        if let Some(m) = &self.message {
            map.insert("message".into(), Value::String(m.clone()));
        }
        if !self.subrefs.is_empty() {
            let mut subrefs = self.subrefs.clone();
            subrefs.sort();
            map.insert("subrefs".into(), Value::from(subrefs));
        }
        serde_json::to_string(&Value::Object(map)).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Option<Self> {
        let value: Value = serde_json::from_str(text).ok()?;
        Self::from_value(&value)
    }

    fn from_value(value: &Value) -> Option<Self> {
        let time = |key: &str| {
            value
                .get(key)
                .and_then(Value::as_str)
                .and_then(parse_timestamp)
        };
        Some(HandlerState {
            started: time("started").unwrap_or_else(Timestamp::now),
            stopped: time("stopped"),
            delayed: time("delayed"),
            purpose: value
                .get("purpose")
                .and_then(Value::as_str)
                .map(str::to_string),
            retries: value.get("retries").and_then(Value::as_u64).unwrap_or(0) as u32,
            success: value
                .get("success")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            failure: value
                .get("failure")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            message: value
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_string),
            subrefs: value
                .get("subrefs")
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        })
    }
}

/// `2026-11-25T05:36:56.928290+00:00`, as Python's `isoformat()` of an aware UTC datetime.
pub fn format_timestamp(t: Timestamp) -> String {
    let micros = t.subsec_microsecond();
    let base = t.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    if micros == 0 {
        format!("{base}+00:00")
    } else {
        format!("{base}.{micros:06}+00:00")
    }
}

pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    text.parse::<Timestamp>().ok()
}

/// The annotation key of a handler's record: `prefix/` + the id made safe, cut to 63
/// characters with a hash suffix when longer (kopf's "V2" keys).
pub fn annotation_key(prefix: &str, handler_id: &str) -> String {
    const MAX: usize = 63;
    let suffix = if handler_id.len() > MAX {
        hash_suffix(handler_id)
    } else {
        String::new()
    };
    let safe: String = handler_id
        .chars()
        .map(|c| match c {
            '/' => '.',
            '<' | '>' => '_',
            c => c,
        })
        .collect();
    let limit = MAX.saturating_sub(suffix.len());
    let cut: String = safe.chars().take(limit).collect();
    if prefix.is_empty() {
        format!("{cut}{suffix}")
    } else {
        format!("{prefix}/{cut}{suffix}")
    }
}

fn hash_suffix(key: &str) -> String {
    let mut hasher = match blake2::Blake2bVar::new(4) {
        Ok(hasher) => hasher,
        Err(_) => return String::new(),
    };
    hasher.update(key.as_bytes());
    let mut digest = [0u8; 4];
    if hasher.finalize_variable(&mut digest).is_err() {
        return String::new();
    }
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::Alphabet::new(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.",
        )
        .unwrap_or(base64::alphabet::STANDARD),
        base64::engine::general_purpose::PAD,
    );
    let encoded = engine.encode(digest);
    format!("-{encoded}")
        .trim_end_matches(['=', '-', '.'])
        .to_string()
}

/// The stored records of these handlers (`None` where there is none).
pub fn load_states(
    body: &Value,
    prefix: &str,
    handler_ids: &[&str],
) -> Vec<(String, Option<HandlerState>)> {
    let annotations = body.pointer("/metadata/annotations");
    let legacy = body.pointer("/status/kopf/progress");
    handler_ids
        .iter()
        .map(|id| {
            let key = annotation_key(prefix, id);
            let stored = annotations
                .and_then(|a| a.get(&key))
                .and_then(Value::as_str)
                .and_then(HandlerState::from_json)
                .or_else(|| {
                    legacy
                        .and_then(|l| l.get(*id))
                        .and_then(HandlerState::from_value)
                });
            (id.to_string(), stored)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_keys_are_kopfs() {
        let started: Timestamp = "2026-11-25T05:38:23.996470Z".parse().unwrap();
        let state = HandlerState::new("create", started);
        assert_eq!(
            state.to_json(),
            r#"{"started":"2026-11-25T05:38:23.996470+00:00","purpose":"create","retries":0,"success":false,"failure":false}"#
        );
        assert_eq!(HandlerState::from_json(&state.to_json()), Some(state));
        assert_eq!(
            annotation_key("kopf.zalando.org", "field_fn/spec.field"),
            "kopf.zalando.org/field_fn.spec.field"
        );
        let long = "x".repeat(70);
        let key = annotation_key("kopf.zalando.org", &long);
        assert!(key.len() <= "kopf.zalando.org/".len() + 63, "{key}");
        // Byte-exact against kopf 1.45.2's `make_v2_key` for a long sub-handler id.
        assert_eq!(
            annotation_key(
                "kopf.zalando.org",
                "parent_handler_with_a_very_long_name/child_handler_with_another_long_name_x"
            ),
            "kopf.zalando.org/parent_handler_with_a_very_long_name.child_handler_with_-J2PY8w"
        );
    }
}
