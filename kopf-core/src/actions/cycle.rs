//! A handling cycle's frame: what it is given about the served resource, its place among
//! the running cycles, and what it comes to for the per-object worker.

use crate::clients::patching::Target;
use crate::intents::families::Changing;
use crate::intents::handlers::Handler;
use crate::settings::Settings;
use crate::structs::resource::Resource;
use crate::structs::shared::OperatorShared;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OwnedSemaphorePermit;

/// A cycle's place among the running ones; given up when a handler turns out to be slow.
pub type Permit = Option<OwnedSemaphorePermit>;

/// What the worker does after a cycle.
#[derive(Debug, Default)]
pub struct CycleOutcome {
    /// Our own patch's resulting resourceVersion: changing handlers wait for it to arrive.
    pub patched_version: Option<String>,
    /// Handlers are delayed: sleep this long (interruptible by new events), then touch.
    pub sleep: Option<Duration>,
    /// The object is gone: forget it.
    pub gone: bool,
    /// Every handler of the cause has finished.
    pub finished: bool,
    /// The finalizer waits for the object's daemons: process again once they exited.
    pub wait_daemons: bool,
}

impl CycleOutcome {
    pub fn gone() -> Self {
        CycleOutcome {
            gone: true,
            ..CycleOutcome::default()
        }
    }
}

/// What running a changing cause needs about the served resource.
pub struct Serving<'a> {
    pub client: &'a kube::Client,
    pub resource: &'a Arc<Resource>,
    /// The resource's changing handlers, in declaration order.
    pub handlers: &'a [Arc<Handler<Changing>>],
    pub settings: &'a Settings,
    pub shared: &'a OperatorShared,
}

impl<'a> Serving<'a> {
    pub fn target(&self) -> Target<'a> {
        Target {
            client: self.client,
            resource: self.resource,
            storage: &self.settings.persistence.progress_storage,
        }
    }
}
