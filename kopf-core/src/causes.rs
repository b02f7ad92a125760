//! Why a handling cycle happens: kopf's cause classification.

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::diff;
    use serde_json::json;

    const FINALIZER: &str = "kopf.zalando.org/KopfFinalizerMarker";

    #[test]
    fn causes_are_classified_in_kopfs_order() {
        let plain = json!({"metadata": {"name": "x"}, "spec": {"a": 1}});
        let deleting = json!({"metadata": {"deletionTimestamp": "2026-11-25T05:37:08Z", "finalizers": [FINALIZER]}});
        let freed = json!({"metadata": {"deletionTimestamp": "2026-11-25T05:37:08Z", "finalizers": ["other"]}});
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
