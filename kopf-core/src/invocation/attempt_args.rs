//! The arguments of handlers that are retried (changing handlers, daemons, timers): which
//! attempt this is and since when the handler has been tried.

use crate::errors::Error;
use crate::intents::causes::AttemptCause;
use crate::intents::families::Family;
use crate::invocation::kwargs::{FromCause, newtype_basics};
use std::fmt;
use std::ops::Deref;
use std::time::Duration;

/// Attempts made before this one (0 on the first attempt).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Retry(pub u32);
newtype_basics!(Retry: u32);

impl fmt::Display for Retry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl<F: Family> FromCause<F> for Retry
where
    F::Cause: AttemptCause,
{
    fn from_cause(cause: &F::Cause) -> Result<Self, Error> {
        Ok(Retry(cause.retry()))
    }
}

/// When the first attempt of this handler started (persisted across restarts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Started(pub jiff::Timestamp);
newtype_basics!(Started: jiff::Timestamp);

impl fmt::Display for Started {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl<F: Family> FromCause<F> for Started
where
    F::Cause: AttemptCause,
{
    fn from_cause(cause: &F::Cause) -> Result<Self, Error> {
        Ok(Started(cause.started()))
    }
}

/// Time since the first attempt started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Runtime(pub Duration);
newtype_basics!(Runtime: Duration);

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl<F: Family> FromCause<F> for Runtime
where
    F::Cause: AttemptCause,
{
    fn from_cause(cause: &F::Cause) -> Result<Self, Error> {
        let elapsed = jiff::Timestamp::now().duration_since(cause.started());
        Ok(Runtime(Duration::try_from(elapsed).unwrap_or_default()))
    }
}
