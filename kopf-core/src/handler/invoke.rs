//! Calling a handler: injecting arguments, containing panics, turning returns into outcomes.

use super::args::FromCause;
use super::cause::Cause;
use super::outcome::Outcome;
use crate::errors::Error;
use futures::FutureExt;
use serde::Serialize;
use serde_json::Value;
use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;

/// A boxed, sendable future (what handler invokers return).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a handler may return: `()`, or `Result<T, E>` with `T: Serialize` and `E: Into<kopf::Error>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a kopf handler",
    note = "kopf handlers return `()` or `kopf::Result<T>` where `T: serde::Serialize`"
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
            Err(err) => err.into().into_outcome(),
        }
    }
}

impl IntoOutcome for Outcome {
    fn into_outcome(self) -> Outcome {
        self
    }
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
    match tokio::task::spawn_blocking(move || std::panic::catch_unwind(AssertUnwindSafe(call)))
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
pub fn extract<T: FromCause>(cause: &Cause) -> Result<T, Outcome> {
    T::from_cause(cause).map_err(Error::into_outcome)
}

/// An async function usable as a handler without the attribute macros (for `Registry::on_create` etc.).
///
/// Implemented for `async fn`s of up to 12 arguments that all implement [`FromCause`].
pub trait HandlerFn<Args>: Send + Sync + 'static {
    fn call(&self, cause: Cause) -> BoxFuture<'static, Outcome>;
}

macro_rules! impl_handler_fn {
    ($($arg:ident),*) => {
        impl<Func, Fut, Ret, $($arg,)*> HandlerFn<($($arg,)*)> for Func
        where
            Func: Fn($($arg),*) -> Fut + Clone + Send + Sync + 'static,
            Fut: Future<Output = Ret> + Send + 'static,
            Ret: IntoOutcome + 'static,
            $($arg: FromCause,)*
        {
            #[allow(non_snake_case, unused_variables)]
            fn call(&self, cause: Cause) -> BoxFuture<'static, Outcome> {
                let func = self.clone();
                Box::pin(async move {
                    $(let $arg = match extract::<$arg>(&cause) {
                        Ok(value) => value,
                        Err(outcome) => return outcome,
                    };)*
                    run_async(func($($arg),*)).await
                })
            }
        }
    };
}

impl_handler_fn!();
impl_handler_fn!(A1);
impl_handler_fn!(A1, A2);
impl_handler_fn!(A1, A2, A3);
impl_handler_fn!(A1, A2, A3, A4);
impl_handler_fn!(A1, A2, A3, A4, A5);
impl_handler_fn!(A1, A2, A3, A4, A5, A6);
impl_handler_fn!(A1, A2, A3, A4, A5, A6, A7);
impl_handler_fn!(A1, A2, A3, A4, A5, A6, A7, A8);
impl_handler_fn!(A1, A2, A3, A4, A5, A6, A7, A8, A9);
impl_handler_fn!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10);
impl_handler_fn!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11);
impl_handler_fn!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12);
