//! Errors that handlers return, and how they map to kopf's retry semantics.
//!
//! [`Error`] is anyhow-like: it is *not* itself a `std::error::Error`, so every
//! `std::error::Error + Send + Sync + 'static` converts into it with `?`.
//! [`TemporaryError`] and [`PermanentError`] are found again by downcasting.

use std::error::Error as StdError;
use std::fmt;

/// What handlers return: `kopf::Result<()>` or `kopf::Result<impl Serialize>`.
pub type Result<T = (), E = Error> = std::result::Result<T, E>;

/// Retry the handler later: after `delay` seconds, or kopf's default (60 s) when `None`.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct TemporaryError {
    pub message: String,
    pub delay: Option<f64>,
}

impl TemporaryError {
    pub fn new(message: impl Into<String>) -> Self {
        TemporaryError {
            message: message.into(),
            delay: None,
        }
    }

    /// Retry after this many seconds instead of the default.
    pub fn with_delay(mut self, seconds: f64) -> Self {
        self.delay = Some(seconds);
        self
    }
}

/// Fail the handler for good: it is never retried for this cause.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct PermanentError {
    pub message: String,
}

impl PermanentError {
    pub fn new(message: impl Into<String>) -> Self {
        PermanentError {
            message: message.into(),
        }
    }
}

/// Refuse the API operation under admission review: kopf's `AdmissionError(message, code)`.
///
/// It is a permanent error with a message and an HTTP code (500 unless given) that the
/// API server passes on to the user. When several handlers fail in one review, an
/// admission error is preferred as the answer over other errors.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AdmissionError {
    pub message: String,
    pub code: u16,
}

impl AdmissionError {
    /// An admission error with kopf's default code, 500.
    pub fn new(message: impl Into<String>) -> Self {
        AdmissionError {
            message: message.into(),
            code: 500,
        }
    }

    /// The HTTP code the user gets (e.g. 403 or 422).
    pub fn code(mut self, code: u16) -> Self {
        self.code = code;
        self
    }
}

/// Any handler error. Classified when the handler returns, by downcasting.
pub struct Error {
    inner: Box<dyn StdError + Send + Sync + 'static>,
}

/// A plain message turned into an error (for [`Error::msg`]).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Message(String);

impl Error {
    /// An arbitrary error with this message (follows the handler's `errors=` option).
    pub fn msg(message: impl fmt::Display) -> Self {
        Error::from(Message(message.to_string()))
    }

    /// A temporary error: retried after `delay` seconds (or the default).
    pub fn temporary(message: impl Into<String>, delay: Option<f64>) -> Self {
        Error::from(TemporaryError {
            message: message.into(),
            delay,
        })
    }

    /// A permanent error: never retried.
    pub fn permanent(message: impl Into<String>) -> Self {
        Error::from(PermanentError::new(message))
    }

    /// The wrapped error, e.g. to downcast it.
    pub fn inner(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &*self.inner
    }

    pub fn downcast_ref<E: StdError + 'static>(&self) -> Option<&E> {
        self.inner.downcast_ref::<E>()
    }

    pub fn is_temporary(&self) -> bool {
        self.downcast_ref::<TemporaryError>().is_some()
    }

    pub fn is_permanent(&self) -> bool {
        self.downcast_ref::<PermanentError>().is_some()
    }
}

impl<E: StdError + Send + Sync + 'static> From<E> for Error {
    fn from(error: E) -> Self {
        Error {
            inner: Box::new(error),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl From<Error> for Box<dyn StdError + Send + Sync + 'static> {
    fn from(error: Error) -> Self {
        error.inner
    }
}
