//! Handlers as the runtime sees them: the context they are called with, the
//! arguments injected by type, their outcomes and their static descriptors.

pub mod args;
pub mod cause;
pub mod descriptor;
pub mod invoke;
pub mod outcome;

pub use args::{
    Annotations, FromCause, Labels, Memo, Meta, Name, Namespace, New, Old, Param, Retry, Runtime,
    Spec, Started, Status, Uid,
};
pub use cause::Cause;
pub use descriptor::{
    ABSENT, Filters, HandlerDescriptor, KOPF_HANDLERS, Location, Marker, MetaFilter, PRESENT,
    ValueFilter,
};
pub use invoke::{BoxFuture, HandlerFn, IntoOutcome};
pub use outcome::{ErrorsMode, Outcome, RetryPolicy};
