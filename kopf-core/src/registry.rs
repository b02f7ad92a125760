//! The handlers an operator runs: collected from `#[kopf::on::*]` attributes
//! ([`Registry::linked`]) or registered explicitly ([`Registry::on_create`] and friends).

use crate::Body;
use crate::body::lookup;
use crate::diff::Diff;
use crate::handler::descriptor::{Filters, HandlerDescriptor, KOPF_HANDLERS, Location};
use crate::handler::invoke::{BoxFuture, HandlerFn, panic_message};
use crate::handler::{Cause, Outcome, RetryPolicy};
use crate::resource::Selector;
use futures::FutureExt;
use serde_json::Value;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// Which decorator a handler came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HandlerKind {
    Create,
    Update,
    Delete,
    Resume,
    Field,
}

impl HandlerKind {
    /// The decorator's name: `create`, `update`, …
    pub fn as_str(self) -> &'static str {
        match self {
            HandlerKind::Create => "create",
            HandlerKind::Update => "update",
            HandlerKind::Delete => "delete",
            HandlerKind::Resume => "resume",
            HandlerKind::Field => "field",
        }
    }
}

impl fmt::Display for HandlerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RegistryError {
    #[error("Duplicate handler id '{id}' for on.{kind} of {selector} (at {first} and {second}).")]
    Duplicate {
        id: String,
        kind: HandlerKind,
        selector: String,
        first: String,
        second: String,
    },
}

type Invoker = Arc<dyn Fn(Cause) -> BoxFuture<'static, Outcome> + Send + Sync>;

/// A handler in its runtime form, as the reactor consumes it.
#[derive(Clone)]
pub struct Handler {
    pub kind: HandlerKind,
    /// The function name or `id=`, suffixed `/spec.field` when `field=` is given.
    pub id: String,
    pub selector: Selector,
    /// `field=` split at dots.
    pub field: Option<Vec<String>>,
    pub policy: RetryPolicy,
    /// Delete handlers only: no finalizer is needed for this handler.
    pub optional: bool,
    /// Resume handlers only: also resume objects being deleted.
    pub deleted: bool,
    pub param: Option<Value>,
    pub filters: Filters,
    /// Where the attribute was written (`None` for explicitly registered handlers).
    pub location: Option<Location>,
    invoker: Invoker,
}

impl fmt::Debug for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handler")
            .field("kind", &self.kind)
            .field("id", &self.id)
            .field("selector", &self.selector)
            .field("field", &self.field)
            .field("policy", &self.policy)
            .field("optional", &self.optional)
            .field("deleted", &self.deleted)
            .field("param", &self.param)
            .field("filters", &self.filters)
            .field("location", &self.location)
            .finish()
    }
}

/// The last segment of a function's type name: its bare name.
fn bare_name<F>() -> String {
    let full = std::any::type_name::<F>();
    full.rsplit("::").next().unwrap_or(full).to_string()
}

impl Handler {
    /// An explicitly registered async handler; the id defaults to the function's name.
    pub fn new<Args, F: HandlerFn<Args>>(
        kind: HandlerKind,
        selector: impl IntoSelector,
        f: F,
    ) -> Self {
        let id = bare_name::<F>();
        let f = Arc::new(f);
        Handler {
            kind,
            id,
            selector: selector.into_selector(),
            field: None,
            policy: RetryPolicy::default(),
            optional: false,
            deleted: false,
            param: None,
            filters: Filters::default(),
            location: None,
            invoker: Arc::new(move |cause| f.call(cause)),
        }
    }

    /// The runtime form of an attribute-declared handler.
    pub fn from_descriptor(descriptor: &HandlerDescriptor) -> Self {
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
            optional: descriptor.optional,
            deleted: descriptor.deleted,
            param: (descriptor.param)(),
            filters: (descriptor.filters)(),
            location: Some(descriptor.location),
            invoker: Arc::new(descriptor.invoke),
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

    pub fn with_optional(mut self, optional: bool) -> Self {
        self.optional = optional;
        self
    }

    pub fn with_deleted(mut self, deleted: bool) -> Self {
        self.deleted = deleted;
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

    /// Whether objects need kopf's finalizer because of this handler.
    pub fn requires_finalizer(&self) -> bool {
        self.kind == HandlerKind::Delete && !self.optional
    }

    /// kopf's pre-matching: labels, annotations, the field's `value`, and `when` (the reason is ignored).
    pub fn prematches(&self, body: &Body) -> bool {
        let meta_ok = |filters: &[(String, crate::handler::MetaFilter)], map: &Value| {
            filters
                .iter()
                .all(|(key, filter)| filter.matches(map.get(key).and_then(Value::as_str)))
        };
        if !meta_ok(&self.filters.labels, body.labels()) {
            return false;
        }
        if !meta_ok(&self.filters.annotations, body.annotations()) {
            return false;
        }
        if let (Some(field), Some(filter)) = (&self.field, &self.filters.value)
            && !filter.matches(resolve(Some(body.raw()), field))
        {
            return false;
        }
        match &self.filters.when {
            Some(when) => when(body),
            None => true,
        }
    }

    /// Pre-matching plus, with `field=`: the field changed (update and field handlers), and `old`/`new` match.
    pub fn matches(
        &self,
        body: &Body,
        old: Option<&Value>,
        new: Option<&Value>,
        _diff: &Diff,
    ) -> bool {
        if !self.prematches(body) {
            return false;
        }
        let Some(field) = &self.field else {
            return true;
        };
        let old = resolve(old, field);
        let new = resolve(new, field);
        let needs_change = matches!(self.kind, HandlerKind::Update | HandlerKind::Field);
        (!needs_change || old != new)
            && self.filters.old.as_ref().is_none_or(|f| f.matches(old))
            && self.filters.new.as_ref().is_none_or(|f| f.matches(new))
    }

    /// Calls the handler; panics (also in argument injection) become `Outcome::Exception`.
    pub async fn invoke(&self, cause: Cause) -> Outcome {
        let invoker = self.invoker.clone();
        match AssertUnwindSafe(async move { invoker(cause).await })
            .catch_unwind()
            .await
        {
            Ok(outcome) => outcome,
            Err(payload) => Outcome::Exception {
                message: panic_message(&*payload),
            },
        }
    }
}

fn split_field(dotted: &str) -> Vec<String> {
    dotted.split('.').map(str::to_string).collect()
}

/// The value at a field path; `None` when absent (or `null`).
fn resolve<'a>(root: Option<&'a Value>, field: &[String]) -> Option<&'a Value> {
    root.map(|root| lookup(root, field.iter().map(String::as_str)))
        .filter(|v| !v.is_null())
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
        crate::handler::descriptor::selector_from_parts(&[self])
    }
}

impl<const N: usize> IntoSelector for [&str; N] {
    fn into_selector(self) -> Selector {
        crate::handler::descriptor::selector_from_parts(&self)
    }
}

/// All handlers of an operator, in registration (declaration) order.
#[derive(Clone, Default, Debug)]
pub struct Registry {
    handlers: Vec<Arc<Handler>>,
}

impl Registry {
    pub fn new() -> Self {
        Registry::default()
    }

    /// All `#[kopf::on::*]` handlers linked into the binary, sorted by where they were declared.
    pub fn linked() -> Result<Registry, RegistryError> {
        let mut descriptors: Vec<&HandlerDescriptor> = KOPF_HANDLERS.iter().collect();
        descriptors.sort_by_key(|d| d.location);
        let mut registry = Registry::new();
        for descriptor in descriptors {
            registry.try_add(Handler::from_descriptor(descriptor))?;
        }
        Ok(registry)
    }

    /// Adds a handler (duplicates are not checked; see [`Registry::try_add`]).
    pub fn add(&mut self, handler: Handler) {
        self.handlers.push(Arc::new(handler));
    }

    /// Adds a handler unless one of the same kind and resource already has its id.
    pub fn try_add(&mut self, handler: Handler) -> Result<(), RegistryError> {
        let place = |h: &Handler| {
            h.location
                .map(|l| l.to_string())
                .unwrap_or_else(|| "explicit".into())
        };
        if let Some(existing) = self.handlers.iter().find(|h| {
            h.kind == handler.kind && h.selector == handler.selector && h.id == handler.id
        }) {
            return Err(RegistryError::Duplicate {
                id: handler.id.clone(),
                kind: handler.kind,
                selector: handler.selector.to_string(),
                first: place(existing),
                second: place(&handler),
            });
        }
        self.add(handler);
        Ok(())
    }

    pub fn handlers(&self) -> &[Arc<Handler>] {
        &self.handlers
    }

    /// The distinct selectors of all handlers, in first-seen order.
    pub fn selectors(&self) -> Vec<Selector> {
        let mut seen: Vec<Selector> = Vec::new();
        for handler in &self.handlers {
            if !seen.contains(&handler.selector) {
                seen.push(handler.selector.clone());
            }
        }
        seen
    }

    /// Registers an async function as an `on.create` handler (builder style).
    pub fn on_create<Args, F: HandlerFn<Args>>(self, selector: impl IntoSelector, f: F) -> Self {
        self.with(Handler::new(HandlerKind::Create, selector, f))
    }

    pub fn on_update<Args, F: HandlerFn<Args>>(self, selector: impl IntoSelector, f: F) -> Self {
        self.with(Handler::new(HandlerKind::Update, selector, f))
    }

    pub fn on_delete<Args, F: HandlerFn<Args>>(self, selector: impl IntoSelector, f: F) -> Self {
        self.with(Handler::new(HandlerKind::Delete, selector, f))
    }

    pub fn on_resume<Args, F: HandlerFn<Args>>(self, selector: impl IntoSelector, f: F) -> Self {
        self.with(Handler::new(HandlerKind::Resume, selector, f))
    }

    /// Registers an `on.field` handler for a dotted field.
    pub fn on_field<Args, F: HandlerFn<Args>>(
        self,
        selector: impl IntoSelector,
        field: &str,
        f: F,
    ) -> Self {
        self.with(Handler::new(HandlerKind::Field, selector, f).with_field(field))
    }

    /// Adds a fully configured handler (builder style).
    pub fn with(mut self, handler: Handler) -> Self {
        self.add(handler);
        self
    }
}
