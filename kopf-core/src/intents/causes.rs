//! Causes: why a handler is called and what it is called with, per family, and kopf's
//! classification of a changing cause.

use crate::clients::watching::EventKind;
use crate::intents::stoppers::Stopped;
use crate::logging::ObjectLogger;
use crate::settings::OperatorSettings;
use crate::structs::body::Body;
use crate::structs::diff::Diff;
use crate::structs::finalizers;
use crate::structs::memo::Memo;
use crate::structs::patch::Patch;
use crate::structs::resource::Resource;
use crate::structs::shared::OperatorShared;
use serde_json::Value;
use std::sync::Arc;

/// What every resource handler is called with: the object and the means to act on it.
#[derive(Clone)]
pub struct ObjectCause {
    pub body: Body,
    pub resource: Arc<Resource>,
    /// The shared merge-patch accumulator, applied after the cycle.
    pub patch: Patch,
    /// Prefixed with `[namespace/name]`.
    pub logger: ObjectLogger,
    /// The per-object memo, shared by all handlers of this object.
    pub memo: Memo,
    /// The handler's `param = …` value.
    pub param: Option<Value>,
    /// The handler id (with the field suffix for field handlers).
    pub handler_id: Arc<str>,
    /// A client to talk to the cluster.
    pub client: kube::Client,
    /// The operator's indices and memo, for the arguments the index attributes generate
    /// and `OperatorMemo<T>`.
    pub shared: OperatorShared,
}

/// A changing handler's cause: the object, the reason, the change, the attempt.
#[derive(Clone)]
pub struct ChangingCause {
    pub object: ObjectCause,
    /// `create`, `update`, `delete` or `resume` (a resume handler within an update gets `update`).
    pub reason: Reason,
    /// The diff of essences; for field handlers, re-based to the field.
    pub diff: Diff,
    /// The old essence (or the old field value for field handlers); `None` when absent.
    pub old: Option<Value>,
    /// The new essence (or the new field value for field handlers).
    pub new: Option<Value>,
    /// Attempts made before this one.
    pub retry: u32,
    /// When the first attempt started (persisted across restarts).
    pub started: jiff::Timestamp,
}

/// A watching handler's cause: the object as one raw event brought it.
#[derive(Clone)]
pub struct WatchingCause {
    pub object: ObjectCause,
    /// `Listed` for objects of the initial listing (kopf's `type=None`).
    pub event_kind: EventKind,
}

/// A daemon's or timer's cause: the object (as last seen), the stop flag, the attempt.
#[derive(Clone)]
pub struct SpawningCause {
    pub object: ObjectCause,
    pub stopped: Stopped,
    /// Attempts made before this one (a timer starts afresh after each success).
    pub retry: u32,
    /// When the first attempt started.
    pub started: jiff::Timestamp,
}

/// An index handler's cause: the object whose entries it computes.
#[derive(Clone)]
pub struct IndexingCause {
    pub object: ObjectCause,
}

/// Which of the operator's activities an activity handler serves (kopf's `kopf.Activity`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ActivityKind {
    Startup,
    Cleanup,
    Authentication,
    Probe,
}

impl ActivityKind {
    /// kopf's value: `startup`, `cleanup`, `authentication`, `probe` (its loggers' suffix).
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Startup => "startup",
            ActivityKind::Cleanup => "cleanup",
            ActivityKind::Authentication => "authentication",
            ActivityKind::Probe => "probe",
        }
    }
}

impl std::fmt::Display for ActivityKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An activity handler's cause: the operator, not an object.
#[derive(Clone)]
pub struct ActivityCause {
    pub activity: ActivityKind,
    /// Logs to `kopf.activities.<activity>`, without an object prefix.
    pub logger: ObjectLogger,
    /// The operator's settings: changeable by startup handlers, read by the others.
    pub settings: OperatorSettings,
    /// The operator's indices and memo.
    pub shared: OperatorShared,
    /// The handler's `param = …` value.
    pub param: Option<Value>,
    /// Attempts made before this one.
    pub retry: u32,
    /// When the first attempt started.
    pub started: jiff::Timestamp,
}

/// What every family's cause has: the operator's indices and memo, the handler's `param`.
pub trait OperatorCause: Send + 'static {
    fn shared(&self) -> &OperatorShared;
    fn param(&self) -> Option<&Value>;
}

impl<C: ResourceCause> OperatorCause for C {
    fn shared(&self) -> &OperatorShared {
        &self.object().shared
    }
    fn param(&self) -> Option<&Value> {
        self.object().param.as_ref()
    }
}

impl OperatorCause for ActivityCause {
    fn shared(&self) -> &OperatorShared {
        &self.shared
    }
    fn param(&self) -> Option<&Value> {
        self.param.as_ref()
    }
}

/// The causes of resource handlers: every family's cause has the object.
#[diagnostic::on_unimplemented(
    message = "this argument needs an object, which `{Self}` does not have",
    label = "only resource handlers (create/update/delete/resume/field/event/daemon/timer/index/validate/mutate) take this",
    note = "activities (startup/cleanup/login/probe) take ActivityKind, OperatorSettings, Logger, OperatorMemo<T>, Param<T>, the indices, Retry, Started, Runtime"
)]
pub trait ResourceCause: Send + 'static {
    fn object(&self) -> &ObjectCause;
}

impl ResourceCause for ChangingCause {
    fn object(&self) -> &ObjectCause {
        &self.object
    }
}

impl ResourceCause for IndexingCause {
    fn object(&self) -> &ObjectCause {
        &self.object
    }
}

impl ResourceCause for SpawningCause {
    fn object(&self) -> &ObjectCause {
        &self.object
    }
}

/// Causes of handlers that are retried: how many attempts came before and when the first began.
pub trait AttemptCause {
    fn retry(&self) -> u32;
    fn started(&self) -> jiff::Timestamp;
}

impl AttemptCause for ChangingCause {
    fn retry(&self) -> u32 {
        self.retry
    }
    fn started(&self) -> jiff::Timestamp {
        self.started
    }
}

impl AttemptCause for ActivityCause {
    fn retry(&self) -> u32 {
        self.retry
    }
    fn started(&self) -> jiff::Timestamp {
        self.started
    }
}

impl AttemptCause for SpawningCause {
    fn retry(&self) -> u32 {
        self.retry
    }
    fn started(&self) -> jiff::Timestamp {
        self.started
    }
}

impl ResourceCause for WatchingCause {
    fn object(&self) -> &ObjectCause {
        &self.object
    }
}

/// The reason of a changing cause, as kopf classifies it (in this order of checks).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The object is gone (a `DELETED` event).
    Gone,
    /// Being deleted, and our finalizer is not on it.
    Free,
    /// Being deleted, our finalizer is on it.
    Delete,
    /// No diff-base stored: never handled.
    Create,
    /// Nothing changed, first seen by the initial listing.
    Resume,
    /// Nothing changed in the essence.
    Noop,
    /// The essence changed.
    Update,
}

impl Reason {
    /// The value handlers get as `reason` and progress records store as `purpose`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Gone => "gone",
            Reason::Free => "free",
            Reason::Delete => "delete",
            Reason::Create => "create",
            Reason::Resume => "resume",
            Reason::Noop => "noop",
            Reason::Update => "update",
        }
    }

    /// kopf's title of the cause in log lines: `creation`, `updating`, `deletion`, `resuming`.
    pub fn title(self) -> &'static str {
        match self {
            Reason::Create => "creation",
            Reason::Update => "updating",
            Reason::Delete => "deletion",
            Reason::Resume => "resuming",
            Reason::Gone => "gone",
            Reason::Free => "free",
            Reason::Noop => "noop",
        }
    }
}

impl Reason {
    /// The title starting with a capital: `Creation`, `Updating`, …
    pub fn capitalised_title(self) -> String {
        let mut chars = self.title().chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => String::new(),
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// kopf's classification of a changing cause, checked in kopf's order.
pub fn classify(
    event_deleted: bool,
    body: &Body,
    finalizer: &str,
    old: Option<&Value>,
    diff: &Diff,
    initial: bool,
) -> Reason {
    let deleting = body.deletion_timestamp().is_some();
    let has_finalizer = finalizers::has(body, finalizer);
    if event_deleted {
        Reason::Gone
    } else if deleting && !has_finalizer {
        Reason::Free
    } else if deleting {
        Reason::Delete
    } else if old.is_none() {
        Reason::Create
    } else if diff.is_empty() && initial {
        Reason::Resume
    } else if diff.is_empty() {
        Reason::Noop
    } else {
        Reason::Update
    }
}

/// `Creation is in progress: {body!r}` and its siblings.
pub fn in_progress_line(reason: Reason, body: &Value) -> String {
    format!(
        "{} is in progress: {}",
        reason.capitalised_title(),
        crate::structs::repr::python_repr(body)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structs::diff::diff;
    use serde_json::json;

    const FINALIZER: &str = "kopf.zalando.org/KopfFinalizerMarker";

    #[test]
    fn causes_are_classified_in_kopfs_order() {
        let plain = Body::new(json!({"metadata": {"name": "x"}, "spec": {"a": 1}}));
        let deleting = Body::new(
            json!({"metadata": {"deletionTimestamp": "2026-11-25T05:37:08Z", "finalizers": [FINALIZER]}}),
        );
        let freed = Body::new(
            json!({"metadata": {"deletionTimestamp": "2026-11-25T05:37:08Z", "finalizers": ["other"]}}),
        );
        let old = json!({"spec": {"a": 1}});
        let changed = json!({"spec": {"a": 2}});
        let same = diff(Some(&old), Some(&old));
        let different = diff(Some(&old), Some(&changed));

        assert_eq!(
            classify(true, &deleting, FINALIZER, Some(&old), &same, false),
            Reason::Gone
        );
        assert_eq!(
            classify(false, &freed, FINALIZER, Some(&old), &same, false),
            Reason::Free
        );
        assert_eq!(
            classify(false, &deleting, FINALIZER, None, &different, true),
            Reason::Delete
        );
        assert_eq!(
            classify(false, &plain, FINALIZER, None, &different, true),
            Reason::Create
        );
        assert_eq!(
            classify(false, &plain, FINALIZER, Some(&old), &same, true),
            Reason::Resume
        );
        assert_eq!(
            classify(false, &plain, FINALIZER, Some(&old), &same, false),
            Reason::Noop
        );
        assert_eq!(
            classify(false, &plain, FINALIZER, Some(&old), &different, true),
            Reason::Update
        );
    }

    #[test]
    fn in_progress_lines_use_kopfs_titles_and_python_reprs() {
        let body = json!({"spec": {"a": true, "b": null}});
        assert_eq!(
            in_progress_line(Reason::Create, &body),
            "Creation is in progress: {'spec': {'a': True, 'b': None}}"
        );
        assert_eq!(
            in_progress_line(Reason::Update, &body),
            "Updating is in progress: {'spec': {'a': True, 'b': None}}"
        );
        assert_eq!(
            in_progress_line(Reason::Delete, &json!({})),
            "Deletion is in progress: {}"
        );
        assert_eq!(
            in_progress_line(Reason::Resume, &json!({})),
            "Resuming is in progress: {}"
        );
    }
}
