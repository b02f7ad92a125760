//! What one handler invocation came to, and the options that decide what happens next.
//! Shared by the macros/handler side (which produces outcomes) and execution (which records them).

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
    /// Any other error, or a panic: handled as `errors=` says.
    Exception { message: String },
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
