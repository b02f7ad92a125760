//! Handler families: which handlers exist, what each family's handlers are called with,
//! and the options only that family has.
//!
//! A family is a type so that argument injection can be checked per family at compile
//! time: asking a `Watching` handler for a `Diff` is an error at that parameter. The
//! families kopf has and where they go: changing (create/update/delete/resume/field, run by
//! the reactor's processing), watching (event, `engines/watching.rs`), and, as their engines
//! land under `engines/`, spawning (daemon/timer), indexing, activity and webhook.

use crate::intents::causes::{ChangingCause, WatchingCause};
use crate::invocation::outcome::{ErrorsMode, RetryPolicy};
use std::fmt;

/// A family of resource handlers.
pub trait Family: Send + Sync + 'static {
    /// What one invocation of a handler of this family is built from.
    type Cause: Send + 'static;
    /// What only this family's handlers have, beyond the common options.
    type Options: Clone + fmt::Debug + Default + Send + Sync + 'static;

    /// The retry options of a handler that sets none.
    fn default_policy() -> RetryPolicy {
        RetryPolicy::default()
    }
}

/// kopf's changing handlers: `on.create`, `on.update`, `on.delete`, `on.resume`, `on.field`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Changing;

/// kopf's watching handlers: `on.event`, called for every raw event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Watching;

/// What only changing handlers have.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChangingOptions {
    /// Delete handlers only: no finalizer is needed for this handler.
    pub optional: bool,
    /// Resume handlers only: also resume objects being deleted.
    pub deleted: bool,
}

impl Family for Changing {
    type Cause = ChangingCause;
    type Options = ChangingOptions;
}

impl Family for Watching {
    type Cause = WatchingCause;
    type Options = ();

    /// Errors of event handlers are logged and ignored, as kopf's `on.event`.
    fn default_policy() -> RetryPolicy {
        RetryPolicy {
            errors: ErrorsMode::Ignored,
            ..RetryPolicy::default()
        }
    }
}

/// Which attribute a handler came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HandlerKind {
    Create,
    Update,
    Delete,
    Resume,
    Field,
    Event,
}

impl HandlerKind {
    /// The attribute's name: `create`, `update`, …, `event`.
    pub fn as_str(self) -> &'static str {
        match self {
            HandlerKind::Create => "create",
            HandlerKind::Update => "update",
            HandlerKind::Delete => "delete",
            HandlerKind::Resume => "resume",
            HandlerKind::Field => "field",
            HandlerKind::Event => "event",
        }
    }
}

impl fmt::Display for HandlerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
