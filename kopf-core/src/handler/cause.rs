//! The context of one handler invocation; every injectable argument is derived from it.

use crate::causes::Reason;
use crate::diff::Diff;
use crate::logging::ObjectLogger;
use crate::resource::Resource;
use crate::{Body, Patch};
use serde_json::Value;
use std::sync::Arc;

/// Everything a handler can ask for, built by the reactor for each invocation.
#[derive(Clone)]
pub struct Cause {
    /// `create`, `update`, `delete` or `resume` (a resume handler within an update gets `update`).
    pub reason: Reason,
    pub body: Body,
    pub resource: Arc<Resource>,
    /// The diff of essences; for field handlers, re-based to the field.
    pub diff: Diff,
    /// The old essence (or the old field value for field handlers); `None` when absent.
    pub old: Option<Value>,
    /// The new essence (or the new field value for field handlers).
    pub new: Option<Value>,
    /// The shared merge-patch accumulator, applied after the cycle.
    pub patch: Patch,
    /// Prefixed with `[namespace/name]`.
    pub logger: ObjectLogger,
    /// Attempts made before this one.
    pub retry: u32,
    /// When the first attempt started (persisted across restarts).
    pub started: jiff::Timestamp,
    /// The per-object memo, shared by all handlers of this object.
    pub memo: crate::handler::Memo,
    /// The handler's `param = …` value.
    pub param: Option<Value>,
    /// The handler id (with the field suffix for field handlers).
    pub handler_id: Arc<str>,
    /// A client to talk to the cluster.
    pub client: kube::Client,
}
