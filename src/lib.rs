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
//! fn main() -> std::process::ExitCode {
//!     kopf::run()
//! }
//! ```
//!
//! Handler arguments are injected by type (any order, any subset): see [`FromCause`].
//! Plain `fn` handlers run on the blocking thread pool; `async fn` handlers on the runtime.
//! A handler returns `()` or [`Result<T>`] with `T: Serialize` (stored under `status.<handler id>`).
//! A panic is contained and treated as an arbitrary error of the attempt.
//!
//! One function may carry several attributes: it becomes one handler per attribute.
//! Handler ids default to the function's name and are persisted in annotations, so keep them stable
//! (or set `id = "…"`). Handlers in another crate are only linked when the binary mentions that crate
//! (`use my_handlers as _;`); [`Registry`] also offers explicit registration.

/// The handler attributes: `#[kopf::on::create(…)]`, `update`, `delete`, `resume`, `field`.
pub mod on {
    pub use kopf_macros::{create, delete, field, resume, update};
}

pub use kopf_core::Body;
pub use kopf_core::Patch;
pub use kopf_core::causes::Reason;
pub use kopf_core::diff::{Diff, DiffItem, DiffOp};
pub use kopf_core::errors::{Error, PermanentError, Result, TemporaryError};
pub use kopf_core::handler::descriptor::{
    ABSENT, Filters, Marker, MetaFilter, PRESENT, ValueFilter,
};
pub use kopf_core::handler::{
    Annotations, Cause, FromCause, IntoOutcome, Labels, Memo, Meta, Name, Namespace, New, Old,
    Outcome, Param, Retry, RetryPolicy, Runtime, Spec, Started, Status, Uid,
};
pub use kopf_core::logging::ObjectLogger as Logger;
pub use kopf_core::registry::{Handler, HandlerKind, Registry, RegistryError};
pub use kopf_core::resource::{Resource, Selector};

/// kopf's `errors=` option: how an arbitrary error of a handler is treated.
pub use kopf_core::handler::ErrorsMode as Errors;

pub use k8s_openapi;
pub use kube;
pub use serde_json;
pub use tokio;
pub use tracing;

/// Runs the operator with the linked handlers: parses the command line and never returns early.
pub fn run() -> std::process::ExitCode {
    kopf_core::reactor::run_main()
}

/// What the macros' generated code uses. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use kopf_core::handler::args::assert_injectable;
    pub use kopf_core::handler::descriptor::{
        Filters, HandlerDescriptor, KOPF_HANDLERS, Location, MetaFilter, ValueFilter, param_value,
        selector_from_parts, selector_of,
    };
    pub use kopf_core::handler::invoke::{BoxFuture, extract, run_async, run_sync};
    pub use kopf_core::handler::{Cause, ErrorsMode, Outcome, RetryPolicy};
    pub use kopf_core::registry::HandlerKind;
    pub use kopf_core::resource::Selector;
    pub use linkme;
    pub use serde_json;
}
