//! The arguments only admission handlers (`on.validate`, `on.mutate`) take: the operation
//! under review, the dry-run flag, the warnings to give, who asks, the webhook request's
//! headers, the subresource, and the old/new objects with their diff, as kopf passes them.

use crate::errors::{Error, PermanentError};
use crate::intents::families::Admission;
use crate::intents::webhooks::AdmissionCause;
use crate::invocation::kwargs::{FromCause, New, Old, newtype_basics};
use crate::structs::diff::Diff;
use crate::structs::reviews::{HeaderMap, Operation, UserInfo, Warnings};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt;
use std::ops::Deref;

/// The request is a dry run (`request.dryRun`): nothing will be stored, so a handler must
/// not act on the world (or declare `side_effects = true`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DryRun(pub bool);
newtype_basics!(DryRun: bool);

impl fmt::Display for DryRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The webhook request's HTTP headers (of the API server's call, not the user's request).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(pub HeaderMap);
newtype_basics!(Headers: HeaderMap);

/// The subresource under review (`status`, `scale`, …); `None` for the main resource.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Subresource(pub Option<String>);
newtype_basics!(Subresource: Option<String>);

impl fmt::Display for Subresource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_deref().unwrap_or(""))
    }
}

impl FromCause<Admission> for Operation {
    fn from_cause(cause: &AdmissionCause) -> Result<Self, Error> {
        cause.operation.ok_or_else(|| {
            Error::from(PermanentError::new(
                "the admission request has no operation",
            ))
        })
    }
}

fn body_as<T: DeserializeOwned>(what: &str, body: Option<&Value>) -> Result<Option<T>, Error> {
    body.map(|value| {
        serde_json::from_value(value.clone()).map_err(|err| {
            Error::from(PermanentError::new(format!(
                "cannot deserialize `{what}` as {}: {err}",
                std::any::type_name::<T>()
            )))
        })
    })
    .transpose()
}

/// The object before the operation: kopf's `old` of admission handlers (the whole object).
impl<T: DeserializeOwned + Send + 'static> FromCause<Admission> for Old<T> {
    fn from_cause(cause: &AdmissionCause) -> Result<Self, Error> {
        body_as("old", cause.old.as_ref().map(|b| b.raw())).map(Old)
    }
}

/// The object after the operation: kopf's `new` of admission handlers (the whole object).
impl<T: DeserializeOwned + Send + 'static> FromCause<Admission> for New<T> {
    fn from_cause(cause: &AdmissionCause) -> Result<Self, Error> {
        body_as("new", cause.new.as_ref().map(|b| b.raw())).map(New)
    }
}

macro_rules! admission_args {
    ($($ty:ty => |$c:ident| $e:expr;)*) => {$(
        impl FromCause<Admission> for $ty {
            fn from_cause($c: &AdmissionCause) -> Result<Self, Error> {
                Ok($e)
            }
        }
    )*};
}

admission_args! {
    DryRun => |c| DryRun(c.dry_run);
    Warnings => |c| c.warnings.clone();
    UserInfo => |c| c.user_info.clone();
    Headers => |c| Headers(c.headers.clone());
    Subresource => |c| Subresource(c.subresource.clone());
    Diff => |c| c.diff.clone();
    AdmissionCause => |c| c.clone();
}
