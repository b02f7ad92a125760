//! Plain async functions as handlers, for explicit registration without the attributes.

use crate::intents::families::Family;
use crate::invocation::guard::{BoxFuture, extract, ready, run_async};
use crate::invocation::kwargs::FromCause;
use crate::invocation::outcome::{IntoOutcome, Outcome};
use std::future::Future;

/// An async function usable as a handler without the attribute macros (for `Registry::on_create` etc.).
///
/// Implemented for `async fn`s of up to 12 arguments that all implement [`FromCause`], and
/// for cloneable closures returning futures (`move |spec: kopf::Spec| async move { … }`:
/// each call runs a fresh clone, so the future may consume what the closure captured).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be registered as a kopf handler of the `{F}` family",
    note = "a handler is an `async fn` whose arguments all implement `kopf::FromCause<{F}>` and which returns `()` or `kopf::Result<T>`"
)]
pub trait HandlerFn<F: Family, Args>: Send + Sync + 'static {
    fn call(&self, cause: F::Cause) -> BoxFuture<'static, Outcome>;
}

macro_rules! impl_handler_fn {
    ($($arg:ident),*) => {
        impl<Fam, Func, Fut, Ret, $($arg,)*> HandlerFn<Fam, ($($arg,)*)> for Func
        where
            Fam: Family,
            Func: FnOnce($($arg),*) -> Fut + Clone + Send + Sync + 'static,
            Fut: Future<Output = Ret> + Send + 'static,
            Ret: IntoOutcome + 'static,
            $($arg: FromCause<Fam>,)*
        {
            #[allow(non_snake_case, unused_variables)]
            fn call(&self, cause: Fam::Cause) -> BoxFuture<'static, Outcome> {
                let func = self.clone();
                // The arguments are taken now, so the future holds them and not the cause.
                $(let $arg = match extract::<Fam, $arg>(&cause) {
                    Ok(value) => value,
                    Err(outcome) => return ready(outcome),
                };)*
                drop(cause);
                Box::pin(async move { run_async(func($($arg),*)).await })
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
