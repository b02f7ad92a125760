//! Orchestration: serving each resource the handlers select — one watch-stream per
//! resource (and namespace), events routed to per-object queues, resources of CRDs
//! created later picked up.

use crate::clients::client::error_backoff;
use crate::clients::discovery;
use crate::clients::health::WatchHealth;
use crate::clients::watching::{EventKind, StreamMessage, WatchError, WatchStream, describe_scope};
use crate::engines::spawning::Spawned;
use crate::intents::families::{Changing, Family, Indexing, Spawning, Watching};
use crate::intents::handlers::Handler;
use crate::intents::registry::Registry;
use crate::reactor::context::ResourceContext;
use crate::reactor::errors::OperatorError;
use crate::reactor::observation;
use crate::reactor::queueing::Dispatcher;
use crate::settings::Settings;
use crate::structs::gate::GateState;
use crate::structs::namespaces::NamespacePatterns;
use crate::structs::resource::{Resource, Selector};
use crate::structs::shared::OperatorShared;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

const TARGET: &str = "kopf._core.reactor.running";

/// A stream's message, tagged with the served resource (`None` for the CRD stream).
type Tagged = (Option<Resource>, StreamMessage);

pub(super) struct Served {
    pub(super) dispatcher: Dispatcher,
    /// Its watch-streams, aborted when the gate closes.
    pub(super) streams: Vec<tokio::task::AbortHandle>,
    /// Streams whose first listing the indices still wait for.
    pub(super) listings_left: usize,
    /// The resource has index handlers.
    indexed: bool,
}

/// The running operator: the served resources, their watch-streams, the event routing.
pub struct Reactor {
    client: kube::Client,
    registry: Arc<Registry>,
    pub(super) settings: Arc<Settings>,
    /// Shared by every served resource: bounds the cycles running at once.
    permits: Arc<tokio::sync::Semaphore>,
    namespaces: NamespacePatterns,
    pub(super) served: HashMap<Resource, Served>,
    /// Each stream ends with its resource (`None`: the CRDs' stream) and why.
    streams: JoinSet<(Option<Resource>, Result<(), WatchError>)>,
    events: (
        mpsc::UnboundedSender<Tagged>,
        mpsc::UnboundedReceiver<Tagged>,
    ),
    crd_listed: bool,
    /// The operator's indices and memo, shared by all served resources.
    pub(super) shared: OperatorShared,
    health: WatchHealth,
    /// The gate as last applied: serving at all, and which shards.
    pub(super) applied: GateState,
    /// A failed rescan is retried then, with kopf's backoffs.
    rescan_retry: Option<tokio::time::Instant>,
    rescan_attempts: usize,
}

impl Reactor {
    pub fn new(
        client: kube::Client,
        registry: Arc<Registry>,
        settings: Arc<Settings>,
        namespaces: NamespacePatterns,
        shared: OperatorShared,
    ) -> Self {
        Reactor {
            client,
            registry,
            permits: Arc::new(Semaphore::new(settings.queueing.worker_limit.max(1))),
            settings,
            namespaces,
            served: HashMap::new(),
            streams: JoinSet::new(),
            events: mpsc::unbounded_channel(),
            crd_listed: false,
            applied: shared.gate.state(),
            rescan_retry: None,
            rescan_attempts: 0,
            shared,
            health: WatchHealth::default(),
        }
    }

    /// Whether any resource is served.
    pub fn serves_anything(&self) -> bool {
        !self.served.is_empty()
    }

    /// Resolves the handlers' selectors and starts serving resources not served yet.
    pub async fn rescan(&mut self, first: bool) -> Result<(), OperatorError> {
        let resources = match discovery::scan(&self.client).await {
            Ok(resources) => resources,
            Err(first_error) if first => {
                observation::discover_until_answered(&self.client, first_error).await
            }
            Err(err) => {
                let delay = error_backoff(self.rescan_attempts);
                self.rescan_attempts += 1;
                tracing::warn!(target: TARGET, "Rescanning the resources failed; retrying in {} seconds: {err}", delay.as_secs());
                self.rescan_retry = Some(tokio::time::Instant::now() + delay);
                return Ok(());
            }
        };
        self.rescan_attempts = 0;
        let selectors: Vec<Selector> = observation::dedup(self.registry.selectors());
        let resolution = observation::resolve(&selectors, &resources);
        if first {
            observation::warn_unserved(&resolution);
        }
        if self.applied.is_paused() {
            return Ok(()); // Served when the gate opens.
        }
        let mut resources: Vec<&Resource> = resolution.resolved.values().collect();
        resources.sort_by_key(|r| r.to_string());
        resources.dedup();
        for resource in resources {
            if self.served.contains_key(resource) {
                continue;
            }
            let of = |selector: &Selector| resolution.resolved.get(selector) == Some(resource);
            let handlers = Handlers {
                changing: selecting(self.registry.changing(), of),
                watching: selecting(self.registry.watching(), of),
                spawning: selecting(self.registry.spawning(), of),
                indexing: selecting(self.registry.indexing(), of),
            };
            self.serve_resource(resource.clone(), handlers);
        }
        Ok(())
    }

    /// The watch-streams' health, for the liveness endpoint.
    pub fn health(&self) -> WatchHealth {
        self.health.clone()
    }

    fn serve_resource(&mut self, resource: Resource, handlers: Handlers) {
        let Handlers {
            changing,
            watching,
            spawning,
            indexing,
        } = handlers;
        let indexed = !indexing.is_empty();
        let context = Arc::new(ResourceContext {
            client: self.client.clone(),
            resource: Arc::new(resource.clone()),
            changing,
            watching,
            spawning,
            indexing,
            shared: self.shared.clone(),
            spawned: Arc::new(Spawned::new(self.settings.background.cancellation_polling)),
            settings: self.settings.clone(),
            permits: self.permits.clone(),
            spawn_context: std::sync::OnceLock::new(),
        });
        let scopes: Vec<Option<String>> = match (resource.namespaced, self.namespaces.exact_names())
        {
            (true, Some(names)) if !self.namespaces.is_cluster_wide() => {
                names.into_iter().map(Some).collect()
            }
            _ => vec![None],
        };
        let listings_left = if indexed { scopes.len() } else { 0 };
        if indexed {
            self.shared.indices.expect_listings(1);
        }
        let streams = scopes
            .into_iter()
            .map(|namespace| self.spawn_stream(Some(resource.clone()), resource.clone(), namespace))
            .collect();
        self.served.insert(
            resource,
            Served {
                streams,
                dispatcher: Dispatcher::new(context),
                listings_left,
                indexed,
            },
        );
    }

    fn spawn_stream(
        &mut self,
        tag: Option<Resource>,
        resource: Resource,
        namespace: Option<String>,
    ) -> tokio::task::AbortHandle {
        let inactivity_timeout = self.settings.watching.inactivity_timeout;
        let name = format!(
            "the watch-stream of {resource} {}",
            describe_scope(namespace.as_deref())
        );
        let stream = WatchStream {
            client: self.client.clone(),
            resource,
            namespace,
            inactivity_timeout,
            server_timeout: self.settings.watching.server_timeout.map(|t| t as u32),
            pulse: self.health.register(name, inactivity_timeout),
        };
        let events = self.events.0.clone();
        let (sink, mut source) = mpsc::unbounded_channel();
        self.streams
            .spawn(crate::logging::in_current_dispatch(async move {
                let forward = async {
                    while let Some(message) = source.recv().await {
                        if events.send((tag.clone(), message)).is_err() {
                            break;
                        }
                    }
                };
                let (result, ()) = tokio::join!(stream.run(sink), forward);
                (tag, result)
            }))
    }

    /// CRDs are always watched: a CRD created later makes its resource served.
    pub fn watch_crds(&mut self) {
        let _ = self.spawn_stream(None, observation::crd_resource(), None);
    }

    /// Routes events until `stop` resolves or a watch-stream fails for good, then stops
    /// the workers within the exit timeout.
    pub async fn serve(mut self, stop: impl Future<Output = ()>) -> Result<(), OperatorError> {
        let mut stop = std::pin::pin!(stop);
        // Idle workers exit; their tasks are reaped as often, events or not.
        let mut reaping = tokio::time::interval(self.settings.queueing.idle_timeout);
        reaping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut gate = self.shared.gate.subscribe();
        let state = gate.borrow_and_update().clone();
        self.apply_gate(state).await; // Changed since the reactor was made, maybe.
        let result = loop {
            tokio::select! {
                _ = &mut stop => break Ok(()),
                _ = super::gating::sleep_until(self.rescan_retry), if self.rescan_retry.is_some() => {
                    self.rescan_retry = None;
                    let _ = self.rescan(false).await;
                }
                Ok(()) = gate.changed() => {
                    let state = gate.borrow_and_update().clone();
                    self.apply_gate(state).await;
                }
                _ = reaping.tick() => {
                    for served in self.served.values_mut() {
                        served.dispatcher.reap();
                    }
                }
                finished = self.streams.join_next(), if !self.streams.is_empty() => {
                    match finished {
                        // The CRDs' stream is the operator's eyes: without it, stop.
                        Some(Ok((None, Err(err)))) => break Err(OperatorError::Watch(err)),
                        // One resource's stream: that resource stops being served, the rest goes on.
                        Some(Ok((Some(resource), Err(err)))) => self.unserve(&resource, &err),
                        Some(Ok((_, Ok(())))) | None => {}
                        Some(Err(join)) if join.is_panic() => {
                            tracing::error!(target: TARGET, "A watch-stream crashed: {join}");
                        }
                        Some(Err(_)) => {}
                    }
                }
                message = self.events.1.recv() => {
                    let Some((tag, message)) = message else { break Ok(()) };
                    self.route(tag, message).await;
                }
            }
        };
        self.streams.abort_all();
        let exit_timeout = self.settings.queueing.exit_timeout;
        let mut left = 0;
        for (_, served) in self.served.drain() {
            left += served.dispatcher.shutdown(exit_timeout).await;
        }
        if left > 0 {
            tracing::warn!(target: "kopf._core.reactor.queueing", "Unprocessed streams left: {left}.");
        }
        result
    }

    /// A resource whose stream failed for good (a deleted CRD: 404) is no longer served: its
    /// workers and daemons stop in the background; a later rescan (its CRD created again)
    /// serves it afresh.
    fn unserve(&mut self, resource: &Resource, err: &WatchError) {
        let Some(served) = self.served.remove(resource) else {
            return; // Another stream of it (another namespace) reported first.
        };
        tracing::warn!(
            target: TARGET,
            "Stopped serving {resource}: {err}. It is served again when it reappears (e.g. when its CRD is created again)."
        );
        if served.listings_left > 0 {
            // The indices must not wait for a listing that will not come.
            self.shared.indices.listing_done();
        }
        let exit_timeout = self.settings.queueing.exit_timeout;
        tokio::spawn(crate::logging::in_current_dispatch(
            served.dispatcher.shutdown(exit_timeout),
        ));
    }

    /// One stream's listing has been delivered: the indices stop waiting for it.
    fn listing_done(&mut self, resource: &Resource) {
        if let Some(served) = self.served.get_mut(resource)
            && served.listings_left > 0
        {
            served.listings_left -= 1;
            if served.listings_left == 0 {
                self.shared.indices.listing_done();
            }
        }
    }

    async fn route(&mut self, tag: Option<Resource>, message: StreamMessage) {
        match tag {
            Some(resource) => {
                let event = match message {
                    StreamMessage::Event(event) => event,
                    StreamMessage::Listed => {
                        self.listing_done(&resource);
                        return;
                    }
                };
                if resource.namespaced {
                    let namespace = event.namespace().unwrap_or("");
                    if !self.namespaces.is_cluster_wide() && !self.namespaces.matches(namespace) {
                        return;
                    }
                }
                if let Some(shards) = &self.applied.shards
                    && !event.uid().is_some_and(|uid| shards.holds(uid))
                {
                    return; // Another replica's shard.
                }
                if let Some(served) = self.served.get_mut(&resource) {
                    // An indexed resource's first listing: the indices wait for each object.
                    let awaited = served.indexed
                        && served.listings_left > 0
                        && event.kind == EventKind::Listed;
                    if awaited {
                        self.shared.indices.listed_object();
                    }
                    served.dispatcher.dispatch(event, awaited);
                }
            }
            // A CRD event: after the initial listing, any change may serve new resources.
            None => match message {
                StreamMessage::Listed => self.crd_listed = true,
                StreamMessage::Event(_) if self.crd_listed => {
                    let _ = self.rescan(false).await; // Failures are retried.
                }
                StreamMessage::Event(_) => {}
            },
        }
    }
}

/// The handlers of every family that serve one resource.
struct Handlers {
    changing: Vec<Arc<Handler<Changing>>>,
    watching: Vec<Arc<Handler<Watching>>>,
    spawning: Vec<Arc<Handler<Spawning>>>,
    indexing: Vec<Arc<Handler<Indexing>>>,
}

/// The handlers of a family whose selectors resolve to one resource.
fn selecting<F: Family>(
    handlers: &[Arc<Handler<F>>],
    of: impl Fn(&Selector) -> bool,
) -> Vec<Arc<Handler<F>>> {
    handlers
        .iter()
        .filter(|h| of(&h.selector))
        .cloned()
        .collect()
}
