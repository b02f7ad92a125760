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
