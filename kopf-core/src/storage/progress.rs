//! Per-handler progress records in kopf's format; where they are kept is the progress
//! storage's choice (`storage::records`).

use jiff::Timestamp;
use serde_json::{Map, Value};

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
        serde_json::to_string(&Value::Object(self.to_record(false))).unwrap_or_default()
    }

    /// The record in kopf's key order; with `nulls`, the absent fields are kept as `null`
    /// (as kopf's status storage and its verbose annotations storage write them).
    pub fn to_record(&self, nulls: bool) -> Map<String, Value> {
        let time = |t: Option<Timestamp>| t.map(|t| Value::String(format_timestamp(t)));
        let subrefs = (!self.subrefs.is_empty()).then(|| {
            let mut subrefs = self.subrefs.clone();
            subrefs.sort();
            Value::from(subrefs)
        });
        let fields = [
            ("started", time(Some(self.started))),
            ("stopped", time(self.stopped)),
            ("delayed", time(self.delayed)),
            ("purpose", self.purpose.clone().map(Value::String)),
            ("retries", Some(Value::from(self.retries))),
            ("success", Some(Value::Bool(self.success))),
            ("failure", Some(Value::Bool(self.failure))),
            ("message", self.message.clone().map(Value::String)),
            ("subrefs", subrefs),
        ];
        fields
            .into_iter()
            .filter(|(_, value)| nulls || value.is_some())
            .map(|(key, value)| (key.to_string(), value.unwrap_or(Value::Null)))
            .collect()
    }

    pub fn from_json(text: &str) -> Option<Self> {
        let value: Value = serde_json::from_str(text).ok()?;
        Self::from_value(&value)
    }

    /// A record as stored (`null`s and absent fields alike).
    pub fn from_value(value: &Value) -> Option<Self> {
        value.as_object()?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_kopfs() {
        let started: Timestamp = "2026-11-25T05:38:23.996470Z".parse().unwrap();
        let state = HandlerState::new("create", started);
        assert_eq!(
            state.to_json(),
            r#"{"started":"2026-11-25T05:38:23.996470+00:00","purpose":"create","retries":0,"success":false,"failure":false}"#
        );
        assert_eq!(
            HandlerState::from_json(&state.to_json()),
            Some(state.clone())
        );
        let full = state.to_record(true);
        let keys: Vec<&str> = full.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "started", "stopped", "delayed", "purpose", "retries", "success", "failure",
                "message", "subrefs"
            ]
        );
        assert_eq!(full["stopped"], Value::Null);
        assert_eq!(HandlerState::from_value(&Value::Object(full)), Some(state));
    }
}
