//! What one handler invocation came to, and the options that decide what happens next.
//! Shared by the macros/handler side (which produces outcomes) and execution (which records them).

use crate::errors::{AdmissionError, Error, PermanentError, TemporaryError};
use serde::Serialize;
use serde_json::Value;

/// The result of one invocation.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Returned normally; a non-`None` value is stored under `status.<handler id>`.
    Success(Option<Value>),
    /// `kopf::TemporaryError`: retry after `delay` seconds (kopf's default: 60).
    Temporary { message: String, delay: Option<f64> },
    /// `kopf::PermanentError`: never retried.
    Permanent { message: String },
    /// `kopf::AdmissionError`: permanent, with the HTTP code an admission review answers.
    Admission { message: String, code: u16 },
    /// Any other error, or a panic: handled as `errors=` says.
    Exception { message: String },
    /// Its sub-handlers are not all finished: retried after `delay` seconds (0: soon),
    /// as kopf's `HandlerChildrenRetry`, without the error's log lines.
    Unfinished { delay: f64 },
}

/// What `SubHandlers::execute` fails with while sub-handlers are unfinished; propagated
/// with `?`, it makes the parent handler be retried (kopf's `HandlerChildrenRetry`).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("the sub-handlers are not finished yet")]
pub struct ChildrenRetry {
    /// Seconds until the soonest unfinished sub-handler may run (0: now).
    pub delay: f64,
}

/// kopf's `errors=` option: what an arbitrary error means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ErrorsMode {
    #[default]
    Temporary,
    Permanent,
    Ignored,
}

/// Retry options of a handler (`errors`, `retries`, `timeout`, `backoff`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RetryPolicy {
    pub errors: ErrorsMode,
    /// Maximum attempts; `None` = unlimited.
    pub retries: Option<u32>,
    /// Seconds since the first attempt; `None` = unlimited.
    pub timeout: Option<f64>,
    /// Seconds before retrying an arbitrary error; `None` = the settings' default (60).
    pub backoff: Option<f64>,
}

/// What a handler may return: `()`, or `Result<T, E>` with `T: Serialize` and `E: Into<kopf::Error>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a kopf handler",
    note = "kopf handlers return `()`, `Option<T>` or `kopf::Result<T>` where `T: serde::Serialize`"
)]
pub trait IntoOutcome {
    fn into_outcome(self) -> Outcome;
}

impl IntoOutcome for () {
    fn into_outcome(self) -> Outcome {
        Outcome::Success(None)
    }
}

impl<T: Serialize, E: Into<Error>> IntoOutcome for Result<T, E> {
    fn into_outcome(self) -> Outcome {
        match self {
            Ok(value) => match serde_json::to_value(&value) {
                Ok(Value::Null) => Outcome::Success(None),
                Ok(value) => Outcome::Success(Some(value)),
                Err(err) => Outcome::Exception {
                    message: format!("cannot serialize the handler's result: {err}"),
                },
            },
            Err(err) => Outcome::from(err.into()),
        }
    }
}

/// `None` succeeds with nothing to store; `Some(value)` as `Ok(value)` would.
impl<T: Serialize> IntoOutcome for Option<T> {
    fn into_outcome(self) -> Outcome {
        match self {
            None => Outcome::Success(None),
            Some(value) => Ok::<T, Error>(value).into_outcome(),
        }
    }
}

impl IntoOutcome for Outcome {
    fn into_outcome(self) -> Outcome {
        self
    }
}

/// An attempt that failed with this error: temporary and permanent errors are found by
/// downcasting, anything else is an arbitrary error.
impl From<Error> for Outcome {
    fn from(error: Error) -> Self {
        if let Some(retry) = error.downcast_ref::<ChildrenRetry>() {
            return Outcome::Unfinished { delay: retry.delay };
        }
        if let Some(temporary) = error.downcast_ref::<TemporaryError>() {
            return Outcome::Temporary {
                message: temporary.message.clone(),
                delay: temporary.delay,
            };
        }
        if let Some(admission) = error.downcast_ref::<AdmissionError>() {
            return Outcome::Admission {
                message: admission.message.clone(),
                code: admission.code,
            };
        }
        if let Some(permanent) = error.downcast_ref::<PermanentError>() {
            return Outcome::Permanent {
                message: permanent.message.clone(),
            };
        }
        Outcome::Exception {
            message: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::Result;

    fn fails(kind: u8) -> Result<()> {
        match kind {
            0 => Err(TemporaryError::new("later").with_delay(5.0))?,
            1 => Err(PermanentError::new("never"))?,
            _ => Err(std::io::Error::other("boom"))?,
        }
    }

    #[test]
    fn errors_are_classified_by_downcast() {
        assert_eq!(
            Outcome::from(fails(0).unwrap_err()),
            Outcome::Temporary {
                message: "later".into(),
                delay: Some(5.0)
            }
        );
        assert_eq!(
            Outcome::from(fails(1).unwrap_err()),
            Outcome::Permanent {
                message: "never".into()
            }
        );
        assert_eq!(
            Outcome::from(fails(2).unwrap_err()),
            Outcome::Exception {
                message: "boom".into()
            }
        );
        assert_eq!(Error::msg("plain").to_string(), "plain");
    }
}
