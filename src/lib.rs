//! kopf — the Kubernetes Operator Pythonic Framework, for Rust.
//!
//! Write handlers for the lifecycle of Kubernetes objects; kopf watches, classifies
//! changes, calls the handlers with the arguments they ask for, retries failures and
//! records progress on the objects themselves, as Python kopf does.
//!
//! ```no_run
//! #[kopf::on::create("kopfexamples")]
//! async fn create_fn(body: kopf::Body, spec: kopf::Spec, logger: kopf::Logger) -> kopf::Result<serde_json::Value> {
//!     logger.info(format!("Creating {} with spec {spec}", body.name().unwrap_or_default()));
//!     Ok(serde_json::json!({"message": "created"}))
//! }
//!
//! #[kopf::on::update("kopf.dev", "v1", "kopfexamples", field = "spec.field", retries = 3)]
//! fn field_changed(old: kopf::Old, new: kopf::New) -> kopf::Result<()> {
//!     if new.is_none() {
//!         return Err(kopf::PermanentError::new("the field was removed"))?;
//!     }
//!     println!("{old:?} → {new:?}");
//!     Ok(())
//! }
//!
//! #[kopf::on::event("pods")]
//! async fn pod_event(event_type: kopf::EventType, name: kopf::Name) {
//!     println!("{event_type} {name}");
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     kopf::run()
//! }
//! ```
//!
//! Handler arguments are injected by type (any order, any subset), per handler family:
//! see [`FromCause`] and [`args`]. Plain `fn` handlers run on the blocking thread pool;
//! `async fn` handlers on the runtime. A handler returns `()` or [`Result<T>`] with
//! `T: Serialize` (stored under `status.<handler id>`). A panic is contained and treated as
//! an arbitrary error of the attempt.
//!
//! One function may carry several attributes: it becomes one handler per attribute, and
//! runs once per cause even when several of them match (kopf's `@on.create` + `@on.resume`).
//! Handler ids default to the function's name and are persisted in annotations, so keep them stable
//! (or set `id = "…"`). Handlers in another crate are only linked when the binary mentions that crate
//! (`use my_handlers as _;`); [`Registry`] also offers explicit registration, and
//! [`operator`] / [`Operator`] run a registry from a program's own `main` or a test.

/// The handler attributes: `#[kopf::on::create(…)]`, `update`, `delete`, `resume`, `field`,
/// `event`, the admission webhooks `validate` and `mutate`, and the operator's activities
/// `startup`, `cleanup`, `login`, `probe`.
///
/// Admission handlers are served by the webhook server of `settings.admission.server`;
/// with `settings.admission.managed`, the operator keeps the webhook configurations itself:
///
/// ```no_run
/// #[kopf::on::startup]
/// fn configure(settings: kopf::OperatorSettings) {
///     settings.update(|s| {
///         s.admission.server = Some(kopf::WebhookServer::auto());
///         s.admission.managed = Some("auto.kopf.dev".into());
///     });
/// }
///
/// #[kopf::on::validate("kopfexamples", operations = ["CREATE", "UPDATE"])]
/// fn check(spec: kopf::Spec, dryrun: kopf::DryRun, warnings: kopf::Warnings) -> kopf::Result<()> {
///     if spec["field"] == "wrong" {
///         return Err(kopf::AdmissionError::new("Change the field.").code(422))?;
///     }
///     if *dryrun {
///         warnings.push("a dry run");
///     }
///     Ok(())
/// }
///
/// #[kopf::on::mutate("kopfexamples")]
/// fn defaults(patch: kopf::Patch, operation: kopf::Operation) {
///     if operation == kopf::Operation::Create {
///         patch.set("spec.defaulted", serde_json::json!(true));
///     }
/// }
/// ```
pub mod on {
    pub use kopf_macros::{
        cleanup, create, delete, event, field, login, mutate, probe, resume, startup, update,
        validate,
    };
}

/// `#[kopf::daemon(…)]`: a task per matching object while it exists.
pub use kopf_macros::daemon;
/// `#[kopf::index(…)]`: an in-memory index, taken by handlers as `<FnName>Index`.
pub use kopf_macros::index;
/// `#[kopf::timer(…, interval = 1.0)]`: a periodic call per matching object.
pub use kopf_macros::timer;

/// Python's `repr()` of a JSON value — what kopf's `{value!r}` prints: `'text'`, `None`,
/// `True`, `{'a': [1, 2.5]}`; for log lines that read as kopf's.
pub use kopf_core::structs::repr::python_repr as repr;

/// What handlers can take as arguments, injected by type per family.
pub mod args {
    pub use kopf_core::intents::causes::{
        ActivityCause, ActivityKind, ChangingCause, IndexingCause, ObjectCause, Reason,
        SpawningCause, WatchingCause,
    };
    pub use kopf_core::intents::stoppers::{StopReason, Stopped};
    pub use kopf_core::intents::webhooks::AdmissionCause;
    pub use kopf_core::invocation::admission_args::{DryRun, Headers, Subresource};
    pub use kopf_core::invocation::attempt_args::{Retry, Runtime, Started};
    pub use kopf_core::invocation::event_args::{Event, EventType};
    pub use kopf_core::invocation::kwargs::{
        Annotations, FromCause, Labels, Meta, Name, Namespace, New, Old, OperatorMemo, Param, Spec,
        Status, Uid,
    };
    pub use kopf_core::invocation::subhandlers::SubHandlers;
    pub use kopf_core::logging::ObjectLogger as Logger;
    pub use kopf_core::settings::OperatorSettings;
    pub use kopf_core::structs::body::Body;
    pub use kopf_core::structs::credentials::ConnectionInfo;
    pub use kopf_core::structs::diff::{Diff, DiffItem, DiffOp};
    pub use kopf_core::structs::indices::{Index, Keyed};
    pub use kopf_core::structs::memo::Memo;
    pub use kopf_core::structs::patch::Patch;
    pub use kopf_core::structs::resource::Resource;
    pub use kopf_core::structs::reviews::{Operation, UserInfo, Warnings};
}

/// Handler families: what each kind of handler is called with.
pub mod families {
    pub use kopf_core::intents::families::{
        Activity, Admission, AdmissionOptions, Changing, ChangingOptions, Family, HandlerKind,
        Indexing, Spawning, SpawningOptions, Watching, WebhookType,
    };
}

/// Handler filters: `labels`, `annotations`, `value`, `old`, `new`, `when`; callbacks with
/// injected arguments (`fn big(spec: kopf::Spec, value: kopf::FilterValue) -> bool`) and
/// kopf's combinators `not_`, `all_`, `any_`, `none_` (over tuples: `kopf::any_((f, g))`).
pub mod filters {
    pub use kopf_core::intents::filters::{
        ABSENT, Check, FilterInput, Filters, Marker, MetaFilter, PRESENT, ValueFilter,
    };
    pub use kopf_core::invocation::callbacks::{
        FilterValue, FromFilter, IntoCheck, IntoChecks, all_, any_, check, none_, not_,
    };
}

/// Errors handlers return and what they mean for retries.
pub mod errors {
    pub use kopf_core::errors::{AdmissionError, Error, PermanentError, Result, TemporaryError};
    /// kopf's `errors=` option: how an arbitrary error of a handler is treated.
    pub use kopf_core::invocation::outcome::ErrorsMode as Errors;
    pub use kopf_core::invocation::outcome::{ChildrenRetry, IntoOutcome, Outcome, RetryPolicy};
}

/// kopf's sub-handlers: `subhandlers.register(id, fn)`, `subhandlers.subhandler(id)…`,
/// `subhandlers.execute().await?` on the [`SubHandlers`] argument of changing handlers, or
/// kopf's free functions `kopf::register`, `kopf::subhandler`, `kopf::execute` for the
/// handler the task runs. Their ids are `parent/child`, with progress and retries of their
/// own; the parent finishes once all of them have.
///
/// ```no_run
/// #[kopf::on::create("kopfexamples")]
/// fn create_fn(spec: kopf::Spec, subhandlers: kopf::SubHandlers) {
///     for item in spec["items"].as_array().into_iter().flatten() {
///         let item = item.as_str().unwrap_or_default().to_string();
///         subhandlers.register(item.clone(), move |retry: kopf::Retry| async move {
///             println!("{item}, attempt {}", *retry + 1);
///         });
///     }
/// }
/// ```
pub mod subhandling {
    pub use kopf_core::invocation::subhandlers::{
        SubExecutor, SubHandler, SubHandlers, execute, register, subhandler,
    };
}

/// The operator's settings: kopf's `OperatorSettings` groups.
pub mod settings {
    pub use kopf_core::settings::{
        AdmissionSettings, AnnotationsDiffBaseStorage, AnnotationsProgressStorage,
        BackgroundSettings, DiffBaseStorage, ExecutionSettings, Lifecycle, LogFormat,
        PersistenceSettings, PostingSettings, ProgressStorage, QueueingSettings, Settings,
        SmartProgressStorage, StatusDiffBaseStorage, StatusProgressStorage, WatchingSettings,
        WebhookServer,
    };
}

/// kopf's hierarchies: children owned by their owner, named, namespaced and labelled after it.
///
/// Children are `serde_json::Value`s, any `kube::Resource` (typed k8s-openapi objects,
/// custom resources, `DynamicObject`), or `Vec`s, slices or arrays of them; owners are the
/// handlers' [`Body`], `serde_json::Value`s or any `kube::Resource`. The traits' type
/// parameters (`AsJson`, `AsResource`, `AsEach`) are inferred, never named.
pub mod hierarchies {
    pub use kopf_core::structs::children::{AsEach, Child, MetaMut};
    pub use kopf_core::structs::hierarchies::{
        HierarchyError, HierarchyOptions, adjust_namespace, adopt, append_owner_reference,
        harmonize_naming, label, remove_owner_reference,
    };
    pub use kopf_core::structs::references::{
        AsJson, AsResource, Identity, Owner, build_object_reference, build_owner_reference,
    };
}

/// kopf's events about objects: `kopf::event()`, `info()`, `warn()`, `exception()`.
///
/// Plain functions, callable from any handler (sync or async) or task of a running
/// operator: the events are queued and posted in the background, in order, by the
/// operator that runs in this process (with several, by the one started last); with none
/// running, they are dropped with a warning. `settings.posting` controls them.
pub mod posting {
    pub use kopf_core::clients::events::MAX_MESSAGE_LENGTH;
    pub use kopf_core::engines::posting::{event, exception, info, warn};
}

#[doc(inline)]
pub use args::*;
#[doc(inline)]
pub use errors::*;
#[doc(inline)]
pub use families::HandlerKind;
#[doc(inline)]
pub use filters::{
    ABSENT, FilterValue, Filters, Marker, MetaFilter, PRESENT, ValueFilter, all_, any_, none_, not_,
};
#[doc(inline)]
pub use hierarchies::{
    Child, HierarchyError, HierarchyOptions, Owner, adjust_namespace, adopt,
    append_owner_reference, build_object_reference, build_owner_reference, harmonize_naming, label,
    remove_owner_reference,
};
#[doc(inline)]
pub use kopf_core::intents::handlers::{AnyHandler, Handler, IntoSelector};
#[doc(inline)]
pub use kopf_core::intents::registry::{Registry, RegistryError};
#[doc(inline)]
pub use kopf_core::reactor::{Operator, OperatorError, operator};
#[doc(inline)]
pub use kopf_core::structs::resource::Selector;
#[doc(inline)]
pub use posting::{event, exception, info, warn};
#[doc(inline)]
pub use settings::{Settings, WebhookServer};
#[doc(inline)]
pub use subhandling::{SubHandler, execute, register, subhandler};

/// kopf's log formats, for programs that embed an operator (`kopf::run()` sets them up
/// from the command line): `kopf::logging::init(LogFormat::Full, Level::INFO, true)`.
pub mod logging {
    pub use kopf_core::logging::init;
}

#[cfg(feature = "testing")]
pub mod testing;

/// The book's snippets, compiled and run as doctests.
#[cfg(doctest)]
mod book;

/// The changing handlers' cause (kept under its earlier name).
pub type Cause = ChangingCause;

pub use k8s_openapi;
pub use kube;
pub use serde_json;
pub use tokio;
pub use tracing;

/// Runs the operator with the linked handlers: parses the command line and never returns early.
#[cfg(feature = "cli")]
pub fn run() -> std::process::ExitCode {
    kopf_core::reactor::run_main()
}

/// What the macros' generated code uses. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use kopf_core::errors::Error;
    pub use kopf_core::intents::causes::{OperatorCause, ResourceCause};
    pub use kopf_core::intents::crds::{
        CrdOfAnyResource, CrdOfCustomResource, CrdProbe, KOPF_CRDS,
    };
    pub use kopf_core::intents::descriptors::{
        FamilyDescriptor, HandlerDescriptor, KOPF_HANDLERS, Location, no_selector, param_value,
        selector_from_parts, selector_of,
    };
    pub use kopf_core::intents::families::{
        Activity, Admission, AdmissionOptions, Changing, Family, HandlerKind, Indexing, Spawning,
        SpawningOptions, Watching, WebhookType,
    };
    pub use kopf_core::intents::filters::{Filters, MetaFilter, ValueFilter};
    pub use kopf_core::invocation::callbacks::check;
    pub use kopf_core::invocation::guard::{BoxFuture, extract, ready, run_async, run_sync};
    pub use kopf_core::invocation::kwargs::FromCause;
    pub use kopf_core::invocation::kwargs::assert_injectable;
    pub use kopf_core::invocation::outcome::{ErrorsMode, Outcome, RetryPolicy};
    pub use kopf_core::structs::resource::Selector;
    pub use kopf_core::structs::reviews::Operation;
    pub use linkme;
    pub use serde_json;
    pub use std::borrow::Cow;
}
