//! What the reactor keeps per served resource and per object between events.

use crate::actions::changing::Serving;
use crate::engines::runners::SpawnContext;
use crate::engines::spawning::Spawned;
use crate::intents::families::{Changing, Indexing, Spawning, Watching};
use crate::intents::handlers::Handler;
use crate::logging::ObjectLogger;
use crate::settings::Settings;
use crate::structs::memo::Memo;
use crate::structs::resource::Resource;
use crate::structs::shared::OperatorShared;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// What the reactor remembers about one object between events (by uid), as kopf does.
#[derive(Default)]
pub struct ObjectMemory {
    pub memo: Memo,
    /// First seen by a listing (not a watch event) in this process.
    pub noticed_by_listing: bool,
    /// A cause has been fully handled at least once in this process.
    pub fully_handled_once: bool,
    pub first_appearance_logged: bool,
    /// The object's logger, made at its first event: its name, namespace and uid never
    /// change, so every later event, daemon and timer shares it.
    pub logger: Option<ObjectLogger>,
}

/// Everything a cycle needs about the resource being served.
pub struct ResourceContext {
    pub client: kube::Client,
    pub resource: Arc<Resource>,
    /// The changing handlers that select this resource, in declaration order.
    pub changing: Vec<Arc<Handler<Changing>>>,
    /// The watching handlers that select this resource, in declaration order.
    pub watching: Vec<Arc<Handler<Watching>>>,
    /// The daemons and timers that select this resource, in declaration order.
    pub spawning: Vec<Arc<Handler<Spawning>>>,
    /// The running daemons and timers of this resource's objects.
    pub spawned: Arc<Spawned>,
    /// The index handlers that select this resource.
    pub indexing: Vec<Arc<Handler<Indexing>>>,
    /// The operator's indices and memo.
    pub shared: OperatorShared,
    pub settings: Arc<Settings>,
    /// Shared by all resources: how many cycles may run at once.
    pub permits: Arc<Semaphore>,
    /// What the resource's daemons and timers share (made at the first one).
    pub spawn_context: std::sync::OnceLock<Arc<SpawnContext>>,
}

impl ResourceContext {
    /// Whether anything besides the changing handlers looks at each event: indices,
    /// daemons and timers, event handlers.
    pub fn observes(&self) -> bool {
        !(self.indexing.is_empty() && self.spawning.is_empty() && self.watching.is_empty())
    }

    /// What every daemon and timer of this resource gets: one, shared by all of them.
    pub fn spawn_context(&self) -> Arc<SpawnContext> {
        static_context(self)
    }

    /// The view of this resource that running a changing cause needs.
    pub fn serving(&self) -> Serving<'_> {
        Serving {
            client: &self.client,
            resource: &self.resource,
            handlers: &self.changing,
            settings: &self.settings,
            shared: &self.shared,
        }
    }
}

/// The resource's spawn context, made once: thousands of daemons and timers share it
/// instead of each holding its own client and settings.
fn static_context(context: &ResourceContext) -> Arc<SpawnContext> {
    context
        .spawn_context
        .get_or_init(|| {
            Arc::new(SpawnContext {
                client: context.client.clone(),
                resource: context.resource.clone(),
                settings: context.settings.clone(),
                shared: context.shared.clone(),
                permits: context.permits.clone(),
            })
        })
        .clone()
}
