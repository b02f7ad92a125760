//! Why a handling cycle happens: kopf's cause classification.
//!
//! OWNER: helper "core-logic" implements classification; the types are shared.

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

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// kopf's classification of a changing cause, checked in kopf's order.
pub fn classify(
    event_deleted: bool,
    body: &serde_json::Value,
    finalizer: &str,
    old: Option<&serde_json::Value>,
    diff: &crate::diff::Diff,
    initial: bool,
) -> Reason {
    let meta = body.get("metadata");
    let deleting = meta
        .and_then(|m| m.get("deletionTimestamp"))
        .is_some_and(|v| !v.is_null());
    let has_finalizer = meta
        .and_then(|m| m.get("finalizers"))
        .and_then(serde_json::Value::as_array)
        .is_some_and(|items| items.iter().any(|f| f.as_str() == Some(finalizer)));
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
pub fn in_progress_line(reason: Reason, body: &serde_json::Value) -> String {
    let title = reason.title();
    let mut chars = title.chars();
    let title: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    format!("{title} is in progress: {}", crate::repr::python_repr(body))
}
