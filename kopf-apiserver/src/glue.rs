//! The engine's one seam to the pure algorithms in `crate::algo`: call sites stay stable,
//! the algorithms live (and are tested) there.

use serde_json::Value;

/// RFC 7386 merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    crate::algo::merge_patch::apply(target, patch);
}

/// Strategic merge patch for built-ins (API-83), with list merge keys.
pub fn strategic_merge(target: &mut Value, patch: &Value, kind: &str) -> Result<(), String> {
    crate::algo::strategic::apply(target, patch, kind)
}

/// A parsed label selector, matched against a whole object.
#[derive(Clone, Debug)]
pub struct LabelSelector(crate::algo::selectors::LabelSelector);

impl LabelSelector {
    pub fn parse(text: &str) -> Result<Self, String> {
        crate::algo::selectors::LabelSelector::parse(text).map(LabelSelector)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.0.matches(
            object
                .pointer("/metadata/labels")
                .and_then(Value::as_object),
        )
    }
}

/// A parsed field selector.
#[derive(Clone, Debug)]
pub struct FieldSelector(crate::algo::selectors::FieldSelector);

impl FieldSelector {
    pub fn parse(text: &str) -> Result<Self, String> {
        crate::algo::selectors::FieldSelector::parse(text).map(FieldSelector)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn fields(&self) -> Vec<String> {
        self.0.fields().into_iter().map(str::to_string).collect()
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.0.matches(object)
    }
}

/// The fields a resource can be selected by (API-55), besides `metadata.name|namespace`.
pub fn supported_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "Event" => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
            "regarding.kind",
            "regarding.namespace",
            "regarding.name",
            "regarding.uid",
            "note",
        ],
        "Pod" => &[
            "spec.nodeName",
            "status.phase",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "status.podIP",
        ],
        "Secret" => &["type"],
        "Namespace" => &["status.phase"],
        _ => &[],
    }
}

/// Why a JSON patch was refused: 400, 413 or 422 (API-81, API-82).
#[derive(Debug)]
pub enum JsonPatchError {
    Malformed(String),
    TooMany,
    Failed(String),
}

/// RFC 6902 JSON patch, applied to a copy.
pub fn json_patch(target: &Value, ops: &Value) -> Result<Value, JsonPatchError> {
    use crate::algo::json_patch::{self, JsonPatchError as Algo};
    json_patch::apply(target, ops).map_err(|error| match error {
        Algo::Malformed(message) => JsonPatchError::Malformed(message),
        Algo::TooManyOperations => JsonPatchError::TooMany,
        Algo::Failed(message) => JsonPatchError::Failed(message),
    })
}
