//! The cause of an admission handler: the object under review, the operation on it, and
//! what kopf passes along with it (dry-run, user, headers, warnings, old/new and diff).

use crate::intents::causes::{ObjectCause, ResourceCause};
use crate::structs::body::Body;
use crate::structs::diff::Diff;
use crate::structs::reviews::{HeaderMap, Operation, UserInfo, Warnings};

/// Why an admission handler is called: one admission review of one object.
#[derive(Clone)]
pub struct AdmissionCause {
    /// The new object, or the old one when there is no new one (deletion). Its patch is
    /// what a mutating handler changes, answered as a JSON Patch.
    pub object: ObjectCause,
    /// `None` if the API server did not say (kopf passes `None` too).
    pub operation: Option<Operation>,
    /// The request is a dry run: handlers must have no side effects.
    pub dry_run: bool,
    /// Shared by the review's handlers; sent back to the user.
    pub warnings: Warnings,
    pub user_info: UserInfo,
    pub headers: HeaderMap,
    /// `status`, `scale`, …; `None` for the main resource.
    pub subresource: Option<String>,
    /// The object before the operation (`request.oldObject`).
    pub old: Option<Body>,
    /// The object after the operation (`request.object`).
    pub new: Option<Body>,
    /// kopf's diff of the whole old and new objects.
    pub diff: Diff,
}

impl ResourceCause for AdmissionCause {
    fn object(&self) -> &ObjectCause {
        &self.object
    }
}
