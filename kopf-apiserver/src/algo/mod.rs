//! Pure JSON algorithms of the API server (patches, selectors, schemas, OpenAPI).

pub mod apply;
pub mod field_set;
pub mod json_patch;
pub mod list_types;
pub mod merge_patch;
pub mod names;
pub mod openapi;
pub mod schema;
pub mod selectors;
pub mod strategic;
pub mod validation;

/// One invalid field, as reported in a 422 Status `details.causes` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    /// Dotted path of the field, e.g. `metadata.name`.
    pub field: String,
    /// Cause type: `FieldValueInvalid`, `FieldValueRequired`, …
    pub reason: String,
    /// Human message in Kubernetes wording.
    pub message: String,
}

impl FieldError {
    pub(crate) fn new(field: &str, reason: &str, message: String) -> Self {
        Self {
            field: field.to_string(),
            reason: reason.to_string(),
            message,
        }
    }
}
