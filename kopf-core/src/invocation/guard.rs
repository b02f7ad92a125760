//! Calling a handler: injecting arguments and containing panics, so that a failing
//! handler is a failed attempt and never a crashed operator. Such a panic is reported by
//! kopf's failure line (with its message), not also by Rust's report on stderr; where it
//! happened is logged at debug level (with the backtrace, at error level, when
//! `RUST_BACKTRACE` asks for one).

use crate::intents::families::Family;
use crate::invocation::kwargs::FromCause;
use crate::invocation::outcome::{IntoOutcome, Outcome};
use futures::FutureExt;
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;

/// A boxed, sendable future (what handler invokers return).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An invocation that ended before it started (an argument could not be injected).
pub fn ready(outcome: Outcome) -> BoxFuture<'static, Outcome> {
    Box::pin(std::future::ready(outcome))
}

const TARGET: &str = "kopf._core.actions.execution";

thread_local! {
    /// Set while this thread runs a handler's code (a poll of its future, or its call).
    static IN_HANDLER: Cell<bool> = const { Cell::new(false) };
    /// Where the last panic of a handler on this thread happened, and its backtrace.
    static PANICKED: RefCell<Option<(String, std::backtrace::Backtrace)>> = const { RefCell::new(None) };
}

/// Runs `f` as handler code: a panic in it is kopf's to report.
pub fn in_handler<T>(f: impl FnOnce() -> T) -> T {
    /// Restores the flag, also when `f` unwinds.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            IN_HANDLER.set(self.0);
        }
    }
    install_panic_hook();
    let _restore = Restore(IN_HANDLER.replace(true));
    f()
}

/// A future polled as handler code (see [`in_handler`]).
async fn polled_in_handler<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| in_handler(|| future.as_mut().poll(cx))).await
}

/// Once per process: panics in handler code are kept for kopf's log, others go to the
/// hook that was there (Rust's report, or the application's own).
fn install_panic_hook() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_HANDLER.get() {
                let location = info
                    .location()
                    .map_or_else(String::new, ToString::to_string);
                let backtrace = std::backtrace::Backtrace::capture();
                PANICKED.set(Some((location, backtrace)));
            } else {
                previous(info);
            }
        }));
    });
}

/// Logs where the handler's panic just caught on this thread happened.
fn log_panic_location() {
    let Some((location, backtrace)) = PANICKED.take() else {
        return;
    };
    if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
        tracing::error!(target: TARGET, "The handler panicked at {location}:\n{backtrace}");
    } else {
        tracing::debug!(target: TARGET, "The handler panicked at {location} (RUST_BACKTRACE=1 shows how it got there).");
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
    match AssertUnwindSafe(polled_in_handler(future))
        .catch_unwind()
        .await
    {
        Ok(result) => result.into_outcome(),
        Err(payload) => caught(&*payload),
    }
}

/// The outcome of a caught panic (its location logged).
pub fn caught(payload: &(dyn Any + Send)) -> Outcome {
    log_panic_location();
    Outcome::Exception {
        message: panic_message(payload),
    }
}

/// Runs a plain (blocking) handler on tokio's blocking pool; a panic becomes `Outcome::Exception`.
pub async fn run_sync<F, R>(call: F) -> Outcome
where
    F: FnOnce() -> R + Send + 'static,
    R: IntoOutcome + Send + 'static,
{
    match tokio::task::spawn_blocking(crate::logging::blocking_in_current_dispatch(move || {
        std::panic::catch_unwind(AssertUnwindSafe(|| in_handler(call)))
            .map_err(|payload| caught(&*payload))
    }))
    .await
    {
        Ok(Ok(result)) => result.into_outcome(),
        Ok(Err(outcome)) => outcome,
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
    match AssertUnwindSafe(polled_in_handler(invocation))
        .catch_unwind()
        .await
    {
        Ok(outcome) => outcome,
        Err(payload) => caught(&*payload),
    }
}
