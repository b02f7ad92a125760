//! Sub-handlers: handlers that a changing handler registers while it runs, as kopf's
//! `@kopf.subhandler(id=…)`, `kopf.register(fn, id=…)` and `await kopf.execute()`. Their
//! ids are `parent/child`; each has its own progress record and retries; the parent is
//! finished only once all of them are. Running them is the actions layer's part
//! ([`SubExecutor`]); this is what handlers see: the [`SubHandlers`] argument.

use crate::errors::{Error, PermanentError};
use crate::intents::causes::ChangingCause;
use crate::intents::families::{Changing, HandlerKind};
use crate::intents::filters::Filters;
use crate::intents::handlers::Handler;
use crate::invocation::guard::BoxFuture;
use crate::invocation::handler_fn::HandlerFn;
use crate::invocation::kwargs::FromCause;
use crate::invocation::outcome::{ChildrenRetry, ErrorsMode, RetryPolicy};
use crate::structs::resource::Selector;
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

tokio::task_local! {
    /// The sub-handlers of the changing handler whose invocation this task is in.
    static CURRENT: SubHandlers;
}

/// Runs sub-handlers within their parent's invocation: those the lifecycle picks now,
/// each with its progress record, outcome and result kept as for any handler.
pub trait SubExecutor: Send + Sync + 'static {
    /// `None` when all of `handlers` are finished; else the seconds until the soonest
    /// unfinished one may run (0: at once), which is when the parent is retried.
    fn execute(&self, handlers: Vec<Handler<Changing>>) -> BoxFuture<'static, Option<f64>>;
}

/// The sub-handlers of the running changing handler: an argument of create, update,
/// delete, resume and field handlers (and of sub-handlers, for sub-sub-handlers); see
/// `kopf::subhandling` for an example.
///
/// Registered sub-handlers run after the handler returns, or when it calls
/// [`execute`](SubHandlers::execute). Register the same ids on every invocation: the
/// parent is invoked again until all its sub-handlers are finished, and the finished
/// ones are skipped by their ids.
#[derive(Clone)]
pub struct SubHandlers {
    inner: Arc<Inner>,
}

struct Inner {
    parent: String,
    kind: HandlerKind,
    selector: Selector,
    executor: Arc<dyn SubExecutor>,
    state: Mutex<Registered>,
}

#[derive(Default)]
struct Registered {
    /// Registered and not yet executed, in registration order.
    pending: Vec<Handler<Changing>>,
    /// The soonest retry an execution asked for, while some sub-handler is unfinished.
    unfinished: Option<f64>,
}

impl fmt::Debug for SubHandlers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<String> = self.lock().pending.iter().map(|h| h.id.clone()).collect();
        f.debug_struct("SubHandlers")
            .field("parent", &self.inner.parent)
            .field("pending", &ids)
            .finish()
    }
}

impl SubHandlers {
    /// The sub-handlers of `parent`, run by `executor`.
    pub fn new(parent: &Handler<Changing>, executor: Arc<dyn SubExecutor>) -> Self {
        SubHandlers {
            inner: Arc::new(Inner {
                parent: parent.id.clone(),
                kind: parent.kind,
                selector: parent.selector.clone(),
                executor,
                state: Mutex::new(Registered::default()),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Registered> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The id of the handler these sub-handlers belong to.
    pub fn parent_id(&self) -> &str {
        &self.inner.parent
    }

    /// kopf's `kopf.register(fn, id=…)`: a sub-handler with the id `parent/id` and the
    /// default options. Registering an id again replaces the earlier function.
    pub fn register<Args, H: HandlerFn<Changing, Args>>(
        &self,
        id: impl Into<String>,
        function: H,
    ) -> &Self {
        self.subhandler(id).register(function);
        self
    }

    /// kopf's `@kopf.subhandler(id=…, …)`: a sub-handler with options, registered by
    /// [`SubHandler::register`].
    pub fn subhandler(&self, id: impl Into<String>) -> SubHandler {
        SubHandler {
            owner: self.clone(),
            id: id.into(),
            policy: RetryPolicy::default(),
            param: None,
            filters: Filters::default(),
        }
    }

    /// kopf's `await kopf.execute()`: runs the sub-handlers registered so far, now, as
    /// the lifecycle picks them (`asap`: one per invocation of the parent). `Ok` once all
    /// of them are finished (succeeded or failed for good); otherwise an error to return
    /// with `?`, so that the parent is retried when the next of them may run.
    pub async fn execute(&self) -> Result<(), Error> {
        let pending = std::mem::take(&mut self.lock().pending);
        if pending.is_empty() {
            return Ok(());
        }
        match self.inner.executor.execute(pending).await {
            None => Ok(()),
            Some(delay) => {
                let mut state = self.lock();
                let soonest = state.unfinished.map_or(delay, |d| d.min(delay));
                state.unfinished = Some(soonest);
                Err(Error::from(ChildrenRetry { delay }))
            }
        }
    }

    /// After the parent returned: runs what is still registered (kopf runs the
    /// sub-handlers implicitly when the handler did not); `Some(delay)` while any executed
    /// sub-handler is unfinished, even if the parent swallowed `execute`'s error.
    pub async fn finish(&self) -> Option<f64> {
        let _ = self.execute().await;
        self.lock().unfinished
    }

    /// Runs `future` (the parent's invocation) with these as the task's sub-handlers:
    /// what the `SubHandlers` argument and [`register`] & co. find.
    pub fn scope<F: Future>(&self, future: F) -> impl Future<Output = F::Output> {
        CURRENT.scope(self.clone(), future)
    }

    /// The sub-handlers of the changing handler this task runs, if any.
    pub fn current() -> Option<SubHandlers> {
        CURRENT.try_with(SubHandlers::clone).ok()
    }

    fn add(&self, handler: Handler<Changing>) {
        let mut state = self.lock();
        match state.pending.iter_mut().find(|h| h.id == handler.id) {
            Some(existing) => *existing = handler,
            None => state.pending.push(handler),
        }
    }
}

impl FromCause<Changing> for SubHandlers {
    fn from_cause(_: &ChangingCause) -> Result<Self, Error> {
        SubHandlers::current().ok_or_else(|| {
            Error::from(PermanentError::new(
                "sub-handlers exist only while the operator runs a changing handler",
            ))
        })
    }
}

/// A sub-handler being declared, with kopf's options (`param`, `errors`, `timeout`,
/// `retries`, `backoff`, and the filters `labels`, `annotations`, `when`).
#[must_use = "a sub-handler is registered only by `.register(function)`"]
pub struct SubHandler {
    owner: SubHandlers,
    id: String,
    policy: RetryPolicy,
    param: Option<Value>,
    filters: Filters,
}

impl SubHandler {
    /// The `Param<T>` argument's value (kopf's `param=`).
    pub fn param(mut self, param: impl Serialize) -> Self {
        self.param = Some(serde_json::to_value(param).unwrap_or(Value::Null));
        self
    }

    pub fn errors(mut self, errors: ErrorsMode) -> Self {
        self.policy.errors = errors;
        self
    }

    /// Attempts before failing for good.
    pub fn retries(mut self, retries: u32) -> Self {
        self.policy.retries = Some(retries);
        self
    }

    /// Seconds since the first attempt before failing for good.
    pub fn timeout(mut self, seconds: f64) -> Self {
        self.policy.timeout = Some(seconds);
        self
    }

    /// Seconds before retrying an arbitrary error.
    pub fn backoff(mut self, seconds: f64) -> Self {
        self.policy.backoff = Some(seconds);
        self
    }

    /// Labels, annotations and `when` (the object's body only: sub-handlers have no field).
    pub fn filters(mut self, filters: Filters) -> Self {
        self.filters = filters;
        self
    }

    /// Registers `function` as the sub-handler `parent/id`.
    pub fn register<Args, H: HandlerFn<Changing, Args>>(self, function: H) {
        let SubHandler {
            owner,
            id,
            policy,
            param,
            filters,
        } = self;
        let inner = &owner.inner;
        let mut handler = Handler::new(inner.kind, inner.selector.clone(), function)
            .with_id(format!("{}/{id}", inner.parent))
            .with_policy(policy)
            .with_filters(filters);
        handler.param = param;
        owner.add(handler);
    }
}

fn current(what: &str) -> SubHandlers {
    SubHandlers::current().unwrap_or_else(|| {
        panic!("kopf::{what}() works only within an async changing handler's task; take the `kopf::SubHandlers` argument elsewhere")
    })
}

/// kopf's `kopf.register(fn, id=…)` for the changing handler this task runs: in `async`
/// handlers only (it panics elsewhere: in plain `fn` handlers, which run on the blocking
/// pool, and in spawned tasks, take the [`SubHandlers`] argument instead).
pub fn register<Args, H: HandlerFn<Changing, Args>>(id: impl Into<String>, function: H) {
    current("register").register(id, function);
}

/// kopf's `@kopf.subhandler(id=…)` for the changing handler this task runs (as [`register`]).
pub fn subhandler(id: impl Into<String>) -> SubHandler {
    current("subhandler").subhandler(id)
}

/// kopf's `await kopf.execute()` for the changing handler this task runs (as [`register`]).
pub async fn execute() -> Result<(), Error> {
    current("execute").execute().await
}
