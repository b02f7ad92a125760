//! The operator's top level: connect, resolve resources, watch them, dispatch events,
//! pick up CRDs created later, stop on signals.

use crate::namespaces::NamespacePatterns;
use crate::reactor::discovery;
use crate::reactor::processing::ResourceContext;
use crate::reactor::queueing::Dispatcher;
use crate::reactor::watching::{StreamMessage, WatchError, WatchStream};
use crate::registry::{Handler, Registry};
use crate::resource::{Resource, Selector};
use crate::settings::{RunOptions, Settings};
use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

const TARGET: &str = "kopf._core.reactor.running";

#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("Either --namespace or --all-namespaces can be used, not both.")]
    NamespaceFlags,
    #[error(
        "no Kubernetes cluster is configured: {0}\n\
         Set KUBECONFIG to a kubeconfig file, create ~/.kube/config, run inside a cluster, \
         or start the embedded cluster with `kopf run --embedded FILE.rs`."
    )]
    NoCluster(String),
    #[error("cannot talk to the cluster at {url}: {source}")]
    Discovery { url: String, source: kube::Error },
    #[error(
        "the operator has no handlers: annotate functions with #[kopf::on::create(\"…\")] and friends"
    )]
    NoHandlers,
    #[error(
        "none of the handled resources is served by the cluster: {0}\n\
         Create their CustomResourceDefinitions first (e.g. `kubectl apply -f crd.yaml`)."
    )]
    NothingToServe(String),
    #[error(transparent)]
    Watch(#[from] WatchError),
}

/// Builds a client the way kopf logs in: KUBECONFIG, `~/.kube/config`, or in-cluster.
pub async fn connect() -> Result<kube::Client, OperatorError> {
    let config = kube::Config::infer()
        .await
        .map_err(|e| OperatorError::NoCluster(e.to_string()))?;
    crate::client::build(config).map_err(|e| OperatorError::NoCluster(e.to_string()))
}

/// Runs an operator with these handlers until `stop` resolves.
pub async fn run(
    registry: Registry,
    options: RunOptions,
    settings: Settings,
    stop: impl Future<Output = ()>,
) -> Result<(), OperatorError> {
    if options.all_namespaces && !options.namespaces.is_empty() {
        return Err(OperatorError::NamespaceFlags);
    }
    if !options.all_namespaces && options.namespaces.is_empty() {
        tracing::warn!(
            target: TARGET,
            "Absence of either namespaces or cluster-wide flag will become an error soon. \
             For now, switching to the cluster-wide mode for backward compatibility."
        );
    }
    if registry.handlers().is_empty() {
        return Err(OperatorError::NoHandlers);
    }
    tracing::debug!(target: TARGET, "Starting kopf-rs {}.", env!("CARGO_PKG_VERSION"));
    let client = connect().await?;
    tracing::info!(target: "kopf._core.engines.activities", "Initial authentication has finished.");

    let namespaces = NamespacePatterns::parse(&options.namespaces);
    let mut reactor = Reactor {
        client: client.clone(),
        registry: Arc::new(registry),
        permits: Arc::new(tokio::sync::Semaphore::new(settings.worker_limit.max(1))),
        settings: Arc::new(settings),
        namespaces,
        served: HashMap::new(),
        streams: JoinSet::new(),
        events: mpsc::unbounded_channel(),
        crd_listed: false,
    };
    reactor.rescan(true).await?;
    if reactor.served.is_empty() {
        let names: Vec<String> = reactor
            .registry
            .selectors()
            .iter()
            .map(|s| s.to_string())
            .collect();
        tracing::warn!(target: TARGET, "{}", OperatorError::NothingToServe(names.join(", ")));
    }
    reactor.watch_crds();
    reactor.serve(stop).await
}

/// A stream's message, tagged with the served resource (`None` for the CRD stream).
type Tagged = (Option<Resource>, StreamMessage);

struct Served {
    dispatcher: Dispatcher,
}

struct Reactor {
    client: kube::Client,
    registry: Arc<Registry>,
    settings: Arc<Settings>,
    /// Shared by every served resource: bounds the cycles running at once.
    permits: Arc<tokio::sync::Semaphore>,
    namespaces: NamespacePatterns,
    served: HashMap<Resource, Served>,
    streams: JoinSet<Result<(), WatchError>>,
    events: (
        mpsc::UnboundedSender<Tagged>,
        mpsc::UnboundedReceiver<Tagged>,
    ),
    crd_listed: bool,
}

impl Reactor {
    /// Resolves the handlers' selectors and starts serving resources not served yet.
    async fn rescan(&mut self, first: bool) -> Result<(), OperatorError> {
        let resources = match discovery::scan(&self.client).await {
            Ok(resources) => resources,
            Err(source) if first => {
                let url = std::env::var("KUBECONFIG")
                    .map(|k| format!("KUBECONFIG={k}"))
                    .unwrap_or_else(|_| "~/.kube/config or the in-cluster service account".into());
                return Err(OperatorError::Discovery { url, source });
            }
            Err(err) => {
                tracing::warn!(target: TARGET, "Rescanning the resources failed: {err}");
                return Ok(());
            }
        };
        let selectors: Vec<Selector> = dedup(self.registry.selectors());
        let resolution = discovery::resolve(&selectors, &resources);
        if first {
            discovery::warn_unserved(&resolution);
        }
        let mut by_resource: HashMap<Resource, Vec<Arc<Handler>>> = HashMap::new();
        for handler in self.registry.handlers() {
            if let Some(resource) = resolution.resolved.get(&handler.selector) {
                by_resource
                    .entry(resource.clone())
                    .or_default()
                    .push(handler.clone());
            }
        }
        for (resource, handlers) in by_resource {
            if self.served.contains_key(&resource) {
                continue;
            }
            self.serve_resource(resource, handlers);
        }
        Ok(())
    }

    fn serve_resource(&mut self, resource: Resource, handlers: Vec<Arc<Handler>>) {
        let context = Arc::new(ResourceContext {
            client: self.client.clone(),
            resource: Arc::new(resource.clone()),
            handlers,
            settings: self.settings.clone(),
            permits: self.permits.clone(),
        });
        let scopes: Vec<Option<String>> = match (resource.namespaced, self.namespaces.exact_names())
        {
            (true, Some(names)) if !self.namespaces.is_cluster_wide() => {
                names.into_iter().map(Some).collect()
            }
            _ => vec![None],
        };
        for namespace in scopes {
            self.spawn_stream(Some(resource.clone()), resource.clone(), namespace);
        }
        self.served.insert(
            resource,
            Served {
                dispatcher: Dispatcher::new(context),
            },
        );
    }

    fn spawn_stream(
        &mut self,
        tag: Option<Resource>,
        resource: Resource,
        namespace: Option<String>,
    ) {
        let stream = WatchStream {
            client: self.client.clone(),
            resource,
            namespace,
            inactivity_timeout: self.settings.inactivity_timeout,
            server_timeout: self.settings.server_timeout.map(|t| t as u32),
        };
        let events = self.events.0.clone();
        let (sink, mut source) = mpsc::unbounded_channel();
        self.streams.spawn(async move {
            let forward = async {
                while let Some(message) = source.recv().await {
                    if events.send((tag.clone(), message)).is_err() {
                        break;
                    }
                }
            };
            let (result, ()) = tokio::join!(stream.run(sink), forward);
            result
        });
    }

    /// CRDs are always watched: a CRD created later makes its resource served.
    fn watch_crds(&mut self) {
        let crds = Resource {
            group: "apiextensions.k8s.io".into(),
            version: "v1".into(),
            plural: "customresourcedefinitions".into(),
            kind: "CustomResourceDefinition".into(),
            singular: "customresourcedefinition".into(),
            short_names: vec!["crd".into()],
            categories: vec![],
            namespaced: false,
            has_status_subresource: true,
            verbs: vec![],
        };
        self.spawn_stream(None, crds, None);
    }

    async fn serve(mut self, stop: impl Future<Output = ()>) -> Result<(), OperatorError> {
        let mut stop = std::pin::pin!(stop);
        let result = loop {
            tokio::select! {
                _ = &mut stop => break Ok(()),
                finished = self.streams.join_next(), if !self.streams.is_empty() => {
                    match finished {
                        Some(Ok(Err(err))) => break Err(OperatorError::Watch(err)),
                        Some(Ok(Ok(()))) | None => {}
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
        let exit_timeout = self.settings.exit_timeout;
        let mut left = 0;
        for (_, served) in self.served.drain() {
            left += served.dispatcher.shutdown(exit_timeout).await;
        }
        if left > 0 {
            tracing::warn!(target: "kopf._core.reactor.queueing", "Unprocessed streams left: {left}.");
        }
        result
    }

    async fn route(&mut self, tag: Option<Resource>, message: StreamMessage) {
        match tag {
            Some(resource) => {
                let StreamMessage::Event(event) = message else {
                    return;
                };
                if resource.namespaced {
                    let namespace = event.namespace().unwrap_or("");
                    if !self.namespaces.is_cluster_wide() && !self.namespaces.matches(namespace) {
                        return;
                    }
                }
                if let Some(served) = self.served.get_mut(&resource) {
                    served.dispatcher.dispatch(event);
                }
            }
            // A CRD event: after the initial listing, any change may serve new resources.
            None => match message {
                StreamMessage::Listed => self.crd_listed = true,
                StreamMessage::Event(_) if self.crd_listed => {
                    if let Err(err) = self.rescan(false).await {
                        tracing::warn!(target: TARGET, "Rescanning the resources failed: {err}");
                    }
                }
                StreamMessage::Event(_) => {}
            },
        }
    }
}

fn dedup(selectors: Vec<Selector>) -> Vec<Selector> {
    let set: BTreeSet<Selector> = selectors.into_iter().collect();
    set.into_iter().collect()
}
