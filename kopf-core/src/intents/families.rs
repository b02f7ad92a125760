//! Handler families: which handlers exist, what each family's handlers are called with,
//! and the options only that family has.
//!
//! A family is a type so that argument injection can be checked per family at compile
//! time: asking a `Watching` handler for a `Diff` is an error at that parameter. The
//! families kopf has and where they go: changing (create/update/delete/resume/field, run by
//! the reactor's processing), watching (event, `engines/watching.rs`), spawning
//! (daemon/timer, `engines/spawning.rs`), indexing (`engines/indexing.rs`), activity
//! (startup/cleanup/login/probe, `engines/activities.rs`), and admission (validate/mutate,
//! `engines/admission.rs`).

use crate::intents::causes::{
    ActivityCause, ChangingCause, IndexingCause, SpawningCause, WatchingCause,
};
use crate::intents::webhooks::AdmissionCause;
use crate::invocation::outcome::{ErrorsMode, RetryPolicy};
use crate::structs::reviews::Operation;
use std::borrow::Cow;
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

/// kopf's indexing handlers (`index`): what each object contributes to an in-memory index.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Indexing;

/// kopf's spawning handlers: `daemon` and `timer`, running beside each matching object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Spawning;

/// kopf's activity handlers: `on.startup`, `on.cleanup`, `on.login`, `on.probe` — about
/// the operator, not about any object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Activity;

/// kopf's admission handlers: `on.validate` and `on.mutate`, called by the webhook server
/// for each admission review of a matching object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Admission;

/// Which webhook configuration an admission handler goes to (kopf's `WebhookType`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum WebhookType {
    #[default]
    Validating,
    Mutating,
}

impl WebhookType {
    /// kopf's value: `validating` or `mutating`.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookType::Validating => "validating",
            WebhookType::Mutating => "mutating",
        }
    }
}

/// What only admission handlers have; borrowed forms so that the attributes build them
/// in constants.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdmissionOptions {
    pub reason: WebhookType,
    /// The operations of the webhook's rules; empty means all (`*`).
    pub operations: Cow<'static, [Operation]>,
    /// `status`, `scale`, … or `*`; `None` for the main resource only.
    pub subresource: Option<Cow<'static, str>>,
    /// Kept in the managed configuration when the operator exits.
    pub persistent: bool,
    /// The handler has side effects: `sideEffects: NoneOnDryRun` instead of `None`.
    pub side_effects: bool,
    /// The API server lets the request through when the webhook fails (`failurePolicy: Ignore`).
    pub ignore_failures: bool,
}

/// What only spawning handlers have: whether each is a daemon or a timer, and its timing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SpawningOptions {
    Daemon {
        /// Seconds before the first run.
        initial_delay: Option<f64>,
        /// Seconds between the stop signal and cancelling an async daemon.
        cancellation_backoff: Option<f64>,
        /// Seconds to wait for a cancelled daemon before leaving it orphaned.
        cancellation_timeout: Option<f64>,
        /// Seconds between checks whether a daemon without a timeout has exited.
        cancellation_polling: Option<f64>,
    },
    Timer {
        /// Seconds between runs.
        interval: Option<f64>,
        /// Seconds before the first run.
        initial_delay: Option<f64>,
        /// Run only once the object has been unchanged this many seconds.
        idle: Option<f64>,
        /// Keep to the interval's grid however long a run takes.
        sharp: bool,
    },
}

impl Default for SpawningOptions {
    fn default() -> Self {
        SpawningOptions::Daemon {
            initial_delay: None,
            cancellation_backoff: None,
            cancellation_timeout: None,
            cancellation_polling: None,
        }
    }
}

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

impl Family for Admission {
    type Cause = AdmissionCause;
    type Options = AdmissionOptions;

    /// Every error refuses the request; nothing is retried (kopf's `ErrorsMode.PERMANENT`).
    fn default_policy() -> RetryPolicy {
        RetryPolicy {
            errors: ErrorsMode::Permanent,
            ..RetryPolicy::default()
        }
    }
}

impl Family for Activity {
    type Cause = ActivityCause;
    type Options = ();
}

impl Family for Indexing {
    type Cause = IndexingCause;
    type Options = ();

    /// A failing index function is logged and leaves the object's earlier entries.
    fn default_policy() -> RetryPolicy {
        errors_ignored()
    }
}

impl Family for Spawning {
    type Cause = SpawningCause;
    type Options = SpawningOptions;
}

impl Family for Watching {
    type Cause = WatchingCause;
    type Options = ();

    /// Errors of event handlers are logged and ignored, as kopf's `on.event`.
    fn default_policy() -> RetryPolicy {
        errors_ignored()
    }
}

/// Arbitrary errors are logged and ignored; nothing is retried.
fn errors_ignored() -> RetryPolicy {
    RetryPolicy {
        errors: ErrorsMode::Ignored,
        ..RetryPolicy::default()
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
    Daemon,
    Timer,
    Index,
    Startup,
    Cleanup,
    Login,
    Probe,
    Validate,
    Mutate,
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
            HandlerKind::Daemon => "daemon",
            HandlerKind::Timer => "timer",
            HandlerKind::Index => "index",
            HandlerKind::Startup => "startup",
            HandlerKind::Cleanup => "cleanup",
            HandlerKind::Login => "login",
            HandlerKind::Probe => "probe",
            HandlerKind::Validate => "validate",
            HandlerKind::Mutate => "mutate",
        }
    }
}

impl fmt::Display for HandlerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
