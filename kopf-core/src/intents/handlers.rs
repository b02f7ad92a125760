//! A handler in its runtime form, as the reactor and the engines consume it.

use crate::intents::descriptors::{FamilyDescriptor, HandlerDescriptor, Location};
use crate::intents::families::{
    Activity, Admission, Changing, ChangingOptions, Family, HandlerKind, Indexing, Spawning,
    Watching,
};
use crate::intents::filters::{Change, Filters, split_field};
use crate::invocation::guard::{BoxFuture, caught, guarded, in_handler};
use crate::invocation::handler_fn::HandlerFn;
use crate::invocation::outcome::{Outcome, RetryPolicy};
use crate::structs::body::Body;
use crate::structs::diff::Diff;
use crate::structs::resource::Selector;
use serde_json::Value;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

type Invoker<F> = Arc<dyn Fn(<F as Family>::Cause) -> BoxFuture<'static, Outcome> + Send + Sync>;

/// A resource handler of family `F` ([`Changing`], [`Watching`], …).
pub struct Handler<F: Family = Changing> {
    pub kind: HandlerKind,
    /// The function name or `id=`, suffixed `/spec.field` when `field=` is given.
    pub id: String,
    pub selector: Selector,
    /// `field=` split at dots.
    pub field: Option<Vec<String>>,
    pub policy: RetryPolicy,
    pub param: Option<Value>,
    pub filters: Filters,
    /// What only this family's handlers have.
    pub options: F::Options,
    /// Where the attribute was written (`None` for explicitly registered handlers).
    pub location: Option<Location>,
    /// The function's path: one function under several attributes runs once per cause.
    pub function: Arc<str>,
    invoker: Invoker<F>,
}

impl<F: Family> Clone for Handler<F> {
    fn clone(&self) -> Self {
        Handler {
            kind: self.kind,
            id: self.id.clone(),
            selector: self.selector.clone(),
            field: self.field.clone(),
            policy: self.policy,
            param: self.param.clone(),
            filters: self.filters.clone(),
            options: self.options.clone(),
            location: self.location,
            function: self.function.clone(),
            invoker: self.invoker.clone(),
        }
    }
}

impl<F: Family> fmt::Debug for Handler<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handler")
            .field("kind", &self.kind)
            .field("id", &self.id)
            .field("selector", &self.selector)
            .field("field", &self.field)
            .field("policy", &self.policy)
            .field("param", &self.param)
            .field("filters", &self.filters)
            .field("options", &self.options)
            .field("location", &self.location)
            .finish()
    }
}

/// The last segment of a function's type name: its bare name.
fn bare_name<T>() -> String {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full).to_string()
}

impl<F: Family> Handler<F> {
    /// An explicitly registered async handler; the id defaults to the function's name.
    pub fn new<Args, H: HandlerFn<F, Args>>(
        kind: HandlerKind,
        selector: impl IntoSelector,
        function: H,
    ) -> Self {
        let function = Arc::new(function);
        Handler {
            kind,
            id: bare_name::<H>(),
            selector: selector.into_selector(),
            field: None,
            policy: F::default_policy(),
            param: None,
            filters: Filters::default(),
            options: F::Options::default(),
            location: None,
            function: std::any::type_name::<H>().into(),
            invoker: Arc::new(move |cause| function.call(cause)),
        }
    }

    fn from_parts(
        descriptor: &HandlerDescriptor,
        options: F::Options,
        invoker: Invoker<F>,
    ) -> Self {
        let base = descriptor.id.unwrap_or(descriptor.fn_name);
        let id = match descriptor.field {
            Some(field) => format!("{base}/{field}"),
            None => base.to_string(),
        };
        Handler {
            kind: descriptor.kind,
            id,
            selector: (descriptor.selector)(),
            field: descriptor.field.map(split_field),
            policy: descriptor.policy,
            param: (descriptor.param)(),
            filters: (descriptor.filters)(),
            options,
            location: Some(descriptor.location),
            function: format!("{}::{}", descriptor.module, descriptor.fn_name).into(),
            invoker,
        }
    }

    /// Replaces the id (before any field suffix is added by [`Handler::with_field`]).
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// Restricts the handler to a dotted field; the id gets the `/field` suffix.
    pub fn with_field(mut self, dotted: &str) -> Self {
        self.id = format!("{}/{dotted}", self.id);
        self.field = Some(split_field(dotted));
        self
    }

    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    pub fn with_param(mut self, param: Value) -> Self {
        self.param = Some(param);
        self
    }

    pub fn with_filters(mut self, filters: Filters) -> Self {
        self.filters = filters;
        self
    }

    pub fn with_options(mut self, options: F::Options) -> Self {
        self.options = options;
        self
    }

    /// kopf's pre-matching: labels, annotations, the field's `value`, and `when` (the reason is ignored).
    pub fn prematches(&self, body: &Body) -> bool {
        self.filters.prematch(self.field.as_deref(), body)
    }

    /// Whether `other` is this handler again: the same function with the same id, under
    /// another attribute (kopf runs it once per cause).
    pub fn is_same(&self, other: &Handler<F>) -> bool {
        self.id == other.id && self.function == other.function
    }

    /// Calls the handler; panics (also in argument injection) become `Outcome::Exception`.
    /// The invoker takes the arguments from the cause at once: the future holds them and
    /// the handler's own future, not the cause beside them (a daemon awaits it for its
    /// whole life).
    pub fn invoke(&self, cause: F::Cause) -> impl Future<Output = Outcome> + Send + use<F> {
        let invocation =
            std::panic::catch_unwind(AssertUnwindSafe(|| in_handler(|| (self.invoker)(cause))));
        async move {
            match invocation {
                Ok(future) => guarded(future).await,
                Err(payload) => caught(&*payload),
            }
        }
    }
}

impl Handler<Changing> {
    pub fn with_optional(mut self, optional: bool) -> Self {
        self.options.optional = optional;
        self
    }

    pub fn with_deleted(mut self, deleted: bool) -> Self {
        self.options.deleted = deleted;
        self
    }

    /// Whether objects need kopf's finalizer because of this handler.
    pub fn requires_finalizer(&self) -> bool {
        self.kind == HandlerKind::Delete && !self.options.optional
    }

    /// Pre-matching plus, with `field=`: the field changed (update and field handlers), and `old`/`new` match.
    pub fn matches(
        &self,
        body: &Body,
        old: Option<&Value>,
        new: Option<&Value>,
        diff: &Diff,
    ) -> bool {
        let change = Change { old, new, diff };
        if !self
            .filters
            .prematch_in(self.field.as_deref(), body, Some(change))
        {
            return false;
        }
        let Some(field) = &self.field else {
            return true;
        };
        let needs_change = matches!(self.kind, HandlerKind::Update | HandlerKind::Field);
        self.filters
            .match_change(body, field, needs_change, old, new)
    }
}

/// The handlers without repeats of the same function and id, in their order (kopf's
/// deduplication: `@on.create` + `@on.resume` on one function run it once per cause).
pub fn deduplicated<F: Family>(handlers: Vec<Arc<Handler<F>>>) -> Vec<Arc<Handler<F>>> {
    let mut kept: Vec<Arc<Handler<F>>> = Vec::with_capacity(handlers.len());
    for handler in handlers {
        if !kept.iter().any(|k| k.is_same(&handler)) {
            kept.push(handler);
        }
    }
    kept
}

/// A handler of whichever family, as the registry receives it.
#[derive(Clone, Debug)]
pub enum AnyHandler {
    Changing(Handler<Changing>),
    Watching(Handler<Watching>),
    Spawning(Handler<Spawning>),
    Indexing(Handler<Indexing>),
    Activity(Handler<Activity>),
    Admission(Handler<Admission>),
}

impl AnyHandler {
    /// The runtime form of an attribute-declared handler of any family.
    pub fn from_descriptor(descriptor: &HandlerDescriptor) -> AnyHandler {
        match descriptor.family {
            FamilyDescriptor::Changing {
                invoke,
                optional,
                deleted,
            } => AnyHandler::Changing(Handler::from_parts(
                descriptor,
                ChangingOptions { optional, deleted },
                Arc::new(invoke),
            )),
            FamilyDescriptor::Watching { invoke } => {
                AnyHandler::Watching(Handler::from_parts(descriptor, (), Arc::new(invoke)))
            }
            FamilyDescriptor::Indexing { invoke } => {
                AnyHandler::Indexing(Handler::from_parts(descriptor, (), Arc::new(invoke)))
            }
            FamilyDescriptor::Spawning { invoke, options } => {
                AnyHandler::Spawning(Handler::from_parts(descriptor, options, Arc::new(invoke)))
            }
            FamilyDescriptor::Activity { invoke } => {
                AnyHandler::Activity(Handler::from_parts(descriptor, (), Arc::new(invoke)))
            }
            FamilyDescriptor::Admission {
                invoke,
                ref options,
            } => AnyHandler::Admission(Handler::from_parts(
                descriptor,
                options.clone(),
                Arc::new(invoke),
            )),
        }
    }

    pub fn kind(&self) -> HandlerKind {
        match self {
            AnyHandler::Changing(h) => h.kind,
            AnyHandler::Watching(h) => h.kind,
            AnyHandler::Spawning(h) => h.kind,
            AnyHandler::Indexing(h) => h.kind,
            AnyHandler::Activity(h) => h.kind,
            AnyHandler::Admission(h) => h.kind,
        }
    }
}

impl From<Handler<Changing>> for AnyHandler {
    fn from(handler: Handler<Changing>) -> Self {
        AnyHandler::Changing(handler)
    }
}

impl From<Handler<Activity>> for AnyHandler {
    fn from(handler: Handler<Activity>) -> Self {
        AnyHandler::Activity(handler)
    }
}

impl From<Handler<Admission>> for AnyHandler {
    fn from(handler: Handler<Admission>) -> Self {
        AnyHandler::Admission(handler)
    }
}

impl From<Handler<Indexing>> for AnyHandler {
    fn from(handler: Handler<Indexing>) -> Self {
        AnyHandler::Indexing(handler)
    }
}

impl From<Handler<Spawning>> for AnyHandler {
    fn from(handler: Handler<Spawning>) -> Self {
        AnyHandler::Spawning(handler)
    }
}

impl From<Handler<Watching>> for AnyHandler {
    fn from(handler: Handler<Watching>) -> Self {
        AnyHandler::Watching(handler)
    }
}

/// What explicit registration accepts as a selector: `"plural"`, `["v1", "pods"]`, `["g", "v", "plural"]`, a `Selector`.
pub trait IntoSelector {
    fn into_selector(self) -> Selector;
}

impl IntoSelector for Selector {
    fn into_selector(self) -> Selector {
        self
    }
}

impl IntoSelector for &str {
    fn into_selector(self) -> Selector {
        crate::intents::descriptors::selector_from_parts(&[self])
    }
}

impl<const N: usize> IntoSelector for [&str; N] {
    fn into_selector(self) -> Selector {
        crate::intents::descriptors::selector_from_parts(&self)
    }
}
