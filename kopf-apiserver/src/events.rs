//! `events.k8s.io/v1` Events share the core `v1` Event store (API-116): stored in the core
//! shape, converted at the edges.

use serde_json::{Map, Value};

/// `(events.k8s.io/v1 field, core/v1 field)`.
const FIELDS: [(&str, &str); 8] = [
    ("note", "message"),
    ("regarding", "involvedObject"),
    ("reportingController", "reportingComponent"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
    ("reportingInstance", "reportingInstance"),
];

fn rename(object: &Value, api_version: &str, to_core: bool) -> Value {
    let Some(map) = object.as_object() else {
        return object.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        let renamed = FIELDS
            .iter()
            .find(|(v1, core)| if to_core { v1 == key } else { core == key })
            .map(|(v1, core)| if to_core { *core } else { *v1 })
            .unwrap_or(key.as_str());
        out.insert(renamed.to_string(), value.clone());
    }
    out.insert("apiVersion".into(), Value::String(api_version.into()));
    out.insert("kind".into(), Value::String("Event".into()));
    Value::Object(out)
}

/// The stored (core) shape of an `events.k8s.io/v1` Event.
pub fn to_core(object: &Value) -> Value {
    rename(object, "v1", true)
}

/// The `events.k8s.io/v1` view of a stored Event.
pub fn from_core(object: &Value) -> Value {
    rename(object, "events.k8s.io/v1", false)
}

/// Field selector names of the new API, in core terms.
pub fn core_field(field: &str) -> String {
    for (v1, core) in FIELDS {
        if field == v1 {
            return core.to_string();
        }
        if let Some(rest) = field.strip_prefix(v1).and_then(|r| r.strip_prefix('.')) {
            return format!("{core}.{rest}");
        }
    }
    field.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip() {
        let v1 = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e"}, "note": "n", "regarding": {"name": "x"}, "reportingController": "c", "series": {"count": 2}});
        let core = to_core(&v1);
        assert_eq!(core["message"], "n");
        assert_eq!(core["involvedObject"]["name"], "x");
        assert_eq!(core["reportingComponent"], "c");
        assert_eq!(core["apiVersion"], "v1");
        assert_eq!(from_core(&core), v1);
        assert_eq!(core_field("regarding.name"), "involvedObject.name");
        assert_eq!(core_field("metadata.name"), "metadata.name");
    }
}
