//! Calling a handler: injecting arguments and containing panics, so that a failing
//! handler is a failed attempt and never a crashed operator.

use crate::intents::families::Family;
use crate::invocation::kwargs::FromCause;
use crate::invocation::outcome::{IntoOutcome, Outcome};
use futures::FutureExt;
use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;

/// A boxed, sendable future (what handler invokers return).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An invocation that ended before it started (an argument could not be injected).
pub fn ready(outcome: Outcome) -> BoxFuture<'static, Outcome> {
    Box::pin(std::future::ready(outcome))
}

/// The text of a panic payload, as `panic!` formatted it.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "the handler panicked".to_string()
    }
}

/// Awaits an async handler's future; a panic becomes `Outcome::Exception`.
pub async fn run_async<F, R>(future: F) -> Outcome
where
    F: Future<Output = R>,
    R: IntoOutcome,
{
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(result) => result.into_outcome(),
        Err(payload) => Outcome::Exception {
            message: panic_message(&*payload),
        },
    }
}

/// Runs a plain (blocking) handler on tokio's blocking pool; a panic becomes `Outcome::Exception`.
pub async fn run_sync<F, R>(call: F) -> Outcome
where
    F: FnOnce() -> R + Send + 'static,
    R: IntoOutcome + Send + 'static,
{
    match tokio::task::spawn_blocking(crate::logging::blocking_in_current_dispatch(move || {
        std::panic::catch_unwind(AssertUnwindSafe(call))
    }))
    .await
    {
        Ok(Ok(result)) => result.into_outcome(),
        Ok(Err(payload)) => Outcome::Exception {
            message: panic_message(&*payload),
        },
        Err(join) if join.is_panic() => Outcome::Exception {
            message: panic_message(&*join.into_panic()),
        },
        Err(join) => Outcome::Exception {
            message: join.to_string(),
        },
    }
}

/// Builds one injected argument, or the outcome of a failed injection.
pub fn extract<F: Family, T: FromCause<F>>(cause: &F::Cause) -> Result<T, Outcome> {
    T::from_cause(cause).map_err(Outcome::from)
}

/// Awaits an invoker's future; a panic anywhere in it (argument injection included)
/// becomes `Outcome::Exception`.
pub async fn guarded(invocation: BoxFuture<'static, Outcome>) -> Outcome {
    match AssertUnwindSafe(invocation).catch_unwind().await {
        Ok(outcome) => outcome,
        Err(payload) => Outcome::Exception {
            message: panic_message(&*payload),
        },
    }
}
