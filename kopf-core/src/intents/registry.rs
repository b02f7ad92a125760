//! The handlers an operator runs: collected from `#[kopf::on::*]` attributes
//! ([`Registry::linked`]) or registered explicitly ([`Registry::on_create`] and friends).

use crate::intents::causes::ActivityKind;
use crate::intents::descriptors::no_selector;
use crate::intents::descriptors::{HandlerDescriptor, KOPF_HANDLERS};
use crate::intents::families::{
    Activity, Admission, AdmissionOptions, Changing, Family, HandlerKind, Indexing, Spawning,
    SpawningOptions, Watching, WebhookType,
};
use crate::intents::handlers::{AnyHandler, Handler, IntoSelector};
use crate::invocation::handler_fn::HandlerFn;
use crate::structs::resource::Selector;
use std::sync::Arc;

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

/// All handlers of an operator, per family, in registration (declaration) order.
#[derive(Clone, Default, Debug)]
pub struct Registry {
    changing: Vec<Arc<Handler<Changing>>>,
    watching: Vec<Arc<Handler<Watching>>>,
    spawning: Vec<Arc<Handler<Spawning>>>,
    indexing: Vec<Arc<Handler<Indexing>>>,
    activities: Vec<Arc<Handler<Activity>>>,
    admission: Vec<Arc<Handler<Admission>>>,
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
            registry.try_add(AnyHandler::from_descriptor(descriptor))?;
        }
        Ok(registry)
    }

    /// Adds a handler (duplicates are not checked; see [`Registry::try_add`]).
    pub fn add(&mut self, handler: impl Into<AnyHandler>) {
        match handler.into() {
            AnyHandler::Changing(h) => self.changing.push(Arc::new(h)),
            AnyHandler::Watching(h) => self.watching.push(Arc::new(h)),
            AnyHandler::Spawning(h) => self.spawning.push(Arc::new(h)),
            AnyHandler::Indexing(h) => self.indexing.push(Arc::new(h)),
            AnyHandler::Activity(h) => self.activities.push(Arc::new(h)),
            AnyHandler::Admission(h) => self.admission.push(Arc::new(h)),
        }
    }

    /// Adds a handler unless one of the same kind and resource already has its id.
    pub fn try_add(&mut self, handler: impl Into<AnyHandler>) -> Result<(), RegistryError> {
        let handler = handler.into();
        match &handler {
            AnyHandler::Changing(h) => check_unique(&self.changing, h)?,
            AnyHandler::Watching(h) => check_unique(&self.watching, h)?,
            AnyHandler::Spawning(h) => check_unique(&self.spawning, h)?,
            AnyHandler::Indexing(h) => check_unique(&self.indexing, h)?,
            AnyHandler::Activity(h) => check_unique(&self.activities, h)?,
            AnyHandler::Admission(h) => check_unique(&self.admission, h)?,
        }
        self.add(handler);
        Ok(())
    }

    /// The changing handlers (create, update, delete, resume, field).
    pub fn changing(&self) -> &[Arc<Handler<Changing>>] {
        &self.changing
    }

    /// The watching handlers (event).
    pub fn watching(&self) -> &[Arc<Handler<Watching>>] {
        &self.watching
    }

    /// The spawning handlers (daemon, timer).
    pub fn spawning(&self) -> &[Arc<Handler<Spawning>>] {
        &self.spawning
    }

    /// The index handlers.
    pub fn indexing(&self) -> &[Arc<Handler<Indexing>>] {
        &self.indexing
    }

    /// The admission handlers (validate, mutate), served by the webhook server.
    pub fn admission(&self) -> &[Arc<Handler<Admission>>] {
        &self.admission
    }

    /// The activity handlers of one activity (startup, cleanup, login, probe).
    pub fn activities(&self, activity: ActivityKind) -> Vec<Arc<Handler<Activity>>> {
        let kind = match activity {
            ActivityKind::Startup => HandlerKind::Startup,
            ActivityKind::Cleanup => HandlerKind::Cleanup,
            ActivityKind::Authentication => HandlerKind::Login,
            ActivityKind::Probe => HandlerKind::Probe,
        };
        self.activities
            .iter()
            .filter(|h| h.kind == kind)
            .cloned()
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.changing.is_empty()
            && self.watching.is_empty()
            && self.spawning.is_empty()
            && self.indexing.is_empty()
            && self.activities.is_empty()
            && self.admission.is_empty()
    }

    /// Whether no resource handler exists (only activities, if anything).
    pub fn resource_selectors_empty(&self) -> bool {
        self.changing.is_empty()
            && self.watching.is_empty()
            && self.spawning.is_empty()
            && self.indexing.is_empty()
    }

    /// The distinct selectors of all handlers, in first-seen order.
    pub fn selectors(&self) -> Vec<Selector> {
        let all = self
            .changing
            .iter()
            .map(|h| &h.selector)
            .chain(self.watching.iter().map(|h| &h.selector))
            .chain(self.spawning.iter().map(|h| &h.selector))
            .chain(self.indexing.iter().map(|h| &h.selector));
        let mut seen: Vec<Selector> = Vec::new();
        for selector in all {
            if !seen.contains(selector) {
                seen.push(selector.clone());
            }
        }
        seen
    }

    /// Registers an async function as an `on.create` handler (builder style).
    pub fn on_create<Args, H: HandlerFn<Changing, Args>>(
        self,
        selector: impl IntoSelector,
        f: H,
    ) -> Self {
        self.with(Handler::<Changing>::new(HandlerKind::Create, selector, f))
    }

    pub fn on_update<Args, H: HandlerFn<Changing, Args>>(
        self,
        selector: impl IntoSelector,
        f: H,
    ) -> Self {
        self.with(Handler::<Changing>::new(HandlerKind::Update, selector, f))
    }

    pub fn on_delete<Args, H: HandlerFn<Changing, Args>>(
        self,
        selector: impl IntoSelector,
        f: H,
    ) -> Self {
        self.with(Handler::<Changing>::new(HandlerKind::Delete, selector, f))
    }

    pub fn on_resume<Args, H: HandlerFn<Changing, Args>>(
        self,
        selector: impl IntoSelector,
        f: H,
    ) -> Self {
        self.with(Handler::<Changing>::new(HandlerKind::Resume, selector, f))
    }

    /// Registers an `on.field` handler for a dotted field.
    pub fn on_field<Args, H: HandlerFn<Changing, Args>>(
        self,
        selector: impl IntoSelector,
        field: &str,
        f: H,
    ) -> Self {
        self.with(Handler::<Changing>::new(HandlerKind::Field, selector, f).with_field(field))
    }

    /// Registers an `on.event` handler: every raw event of the resource.
    pub fn on_event<Args, H: HandlerFn<Watching, Args>>(
        self,
        selector: impl IntoSelector,
        f: H,
    ) -> Self {
        self.with(Handler::<Watching>::new(HandlerKind::Event, selector, f))
    }

    /// Registers a daemon: one per matching object, running while the object exists.
    pub fn daemon<Args, H: HandlerFn<Spawning, Args>>(
        self,
        selector: impl IntoSelector,
        options: SpawningOptions,
        f: H,
    ) -> Self {
        let kind = match options {
            SpawningOptions::Daemon { .. } => HandlerKind::Daemon,
            SpawningOptions::Timer { .. } => HandlerKind::Timer,
        };
        self.with(Handler::<Spawning>::new(kind, selector, f).with_options(options))
    }

    /// Registers a timer: every `interval` seconds per matching object.
    pub fn timer<Args, H: HandlerFn<Spawning, Args>>(
        self,
        selector: impl IntoSelector,
        interval: f64,
        f: H,
    ) -> Self {
        let options = SpawningOptions::Timer {
            interval: Some(interval),
            initial_delay: None,
            idle: None,
            sharp: false,
        };
        self.daemon(selector, options, f)
    }

    /// Registers an index under `id`: what the function returns per object, by key.
    pub fn index<Args, H: HandlerFn<Indexing, Args>>(
        self,
        selector: impl IntoSelector,
        id: &str,
        f: H,
    ) -> Self {
        self.with(Handler::<Indexing>::new(HandlerKind::Index, selector, f).with_id(id))
    }

    /// Registers an `on.validate` handler: its error refuses the API operation.
    pub fn on_validate<Args, H: HandlerFn<Admission, Args>>(
        self,
        selector: impl IntoSelector,
        f: H,
    ) -> Self {
        self.with(Handler::<Admission>::new(
            HandlerKind::Validate,
            selector,
            f,
        ))
    }

    /// Registers an `on.mutate` handler: what it sets on the `Patch` is answered as a JSON Patch.
    pub fn on_mutate<Args, H: HandlerFn<Admission, Args>>(
        self,
        selector: impl IntoSelector,
        f: H,
    ) -> Self {
        let options = AdmissionOptions {
            reason: WebhookType::Mutating,
            ..AdmissionOptions::default()
        };
        self.with(Handler::<Admission>::new(HandlerKind::Mutate, selector, f).with_options(options))
    }

    /// Registers an `on.startup` handler: run before anything is watched.
    pub fn on_startup<Args, H: HandlerFn<Activity, Args>>(self, f: H) -> Self {
        self.with(Handler::<Activity>::new(
            HandlerKind::Startup,
            no_selector(),
            f,
        ))
    }

    /// Registers an `on.cleanup` handler: run when the operator exits.
    pub fn on_cleanup<Args, H: HandlerFn<Activity, Args>>(self, f: H) -> Self {
        self.with(Handler::<Activity>::new(
            HandlerKind::Cleanup,
            no_selector(),
            f,
        ))
    }

    /// Registers an `on.login` handler: returns the credentials (`kopf::ConnectionInfo`).
    pub fn on_login<Args, H: HandlerFn<Activity, Args>>(self, f: H) -> Self {
        self.with(Handler::<Activity>::new(
            HandlerKind::Login,
            no_selector(),
            f,
        ))
    }

    /// Registers an `on.probe` handler: its result is in the liveness endpoint's JSON.
    pub fn on_probe<Args, H: HandlerFn<Activity, Args>>(self, f: H) -> Self {
        self.with(Handler::<Activity>::new(
            HandlerKind::Probe,
            no_selector(),
            f,
        ))
    }

    /// Adds a fully configured handler (builder style).
    pub fn with(mut self, handler: impl Into<AnyHandler>) -> Self {
        self.add(handler);
        self
    }
}

fn check_unique<F: Family>(
    existing: &[Arc<Handler<F>>],
    handler: &Handler<F>,
) -> Result<(), RegistryError> {
    let place = |h: &Handler<F>| {
        h.location
            .map(|l| l.to_string())
            .unwrap_or_else(|| "explicit".into())
    };
    match existing
        .iter()
        .find(|h| h.kind == handler.kind && h.selector == handler.selector && h.id == handler.id)
    {
        Some(first) => Err(RegistryError::Duplicate {
            id: handler.id.clone(),
            kind: handler.kind,
            selector: handler.selector.to_string(),
            first: place(first),
            second: place(handler),
        }),
        None => Ok(()),
    }
}
