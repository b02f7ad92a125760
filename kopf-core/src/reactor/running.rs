//! Running an operator: log in, check the scope, serve until stopped. The entry point
//! for embedding ([`Operator`], [`operator`]) and, with the `cli` feature, for an operator
//! binary's `main` ([`run_main`]).

use crate::engines::activities::ActivityContext;
use crate::engines::authenticating::{Authenticated, authenticate};
use crate::engines::probing;
use crate::intents::causes::ActivityKind;
use crate::intents::registry::Registry;
use crate::reactor::errors::OperatorError;
use crate::reactor::orchestration::Reactor;
use crate::reactor::replicas::Replicas;
use crate::settings::{OperatorSettings, Settings};
use crate::structs::memo::Memos;
use crate::structs::namespaces::NamespacePatterns;
use crate::structs::shared::OperatorShared;
use std::future::Future;
use std::sync::Arc;

const TARGET: &str = "kopf._core.reactor.running";

/// An operator to run in this process: its handlers, its settings, the namespaces it
/// serves, and optionally the client to use (else kopf's login: KUBECONFIG,
/// `~/.kube/config`, or in-cluster).
pub struct Operator {
    registry: Registry,
    settings: Settings,
    namespaces: Vec<String>,
    cluster_wide: bool,
    client: Option<kube::Client>,
    memos: Memos,
    liveness: Option<String>,
    ready: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Operator {
    pub fn new(registry: Registry) -> Self {
        Operator {
            registry,
            settings: Settings::default(),
            namespaces: Vec::new(),
            cluster_wide: false,
            client: None,
            memos: Memos::default(),
            liveness: None,
            ready: None,
        }
    }

    /// Serves the liveness endpoint at `http://HOST:PORT/PATH`, as `--liveness`: the probe
    /// handlers' results as JSON, and 500 while a watch-stream is blind.
    pub fn liveness(mut self, url: impl Into<String>) -> Self {
        self.liveness = Some(url.into());
        self
    }

    /// Told when the operator is ready: the startup handlers have succeeded, it has logged
    /// in and its watch-streams are starting (kopf's `ready_flag`).
    pub fn ready(mut self, ready: tokio::sync::oneshot::Sender<()>) -> Self {
        self.ready = Some(ready);
        self
    }

    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Serve only these namespaces (names, globs, `!` to exclude), as `--namespace`.
    pub fn namespaces<S: Into<String>>(mut self, patterns: impl IntoIterator<Item = S>) -> Self {
        self.namespaces = patterns.into_iter().map(Into::into).collect();
        self
    }

    /// Serve all namespaces, as `--all-namespaces`.
    pub fn cluster_wide(mut self) -> Self {
        self.cluster_wide = true;
        self
    }

    /// Gives every handler a value of type `T`, which they take as `kopf::OperatorMemo<T>`
    /// (kopf's operator-wide memo, typed).
    pub fn memo<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.memos = self.memos.with(value);
        self
    }

    /// Talk to the cluster with this client instead of logging in.
    pub fn client(mut self, client: kube::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Runs until `stop` resolves (then stops the workers within the exit timeout) or a
    /// watch-stream fails for good.
    pub async fn run(self, stop: impl Future<Output = ()>) -> Result<(), OperatorError> {
        // Pinned here: a stop while the cluster is still being waited for ends the wait.
        let mut stop = std::pin::pin!(stop);
        if self.cluster_wide && !self.namespaces.is_empty() {
            return Err(OperatorError::NamespaceFlags);
        }
        if !self.cluster_wide && self.namespaces.is_empty() {
            tracing::warn!(
                target: TARGET,
                "Absence of either namespaces or cluster-wide flag will become an error soon. \
                 For now, switching to the cluster-wide mode for backward compatibility."
            );
        }
        if self.registry.is_empty() {
            return Err(OperatorError::NoHandlers);
        }
        tracing::debug!(target: TARGET, "Starting kopf-rs {}.", env!("CARGO_PKG_VERSION"));
        let registry = Arc::new(self.registry);
        let activities = ActivityContext {
            registry: registry.clone(),
            settings: OperatorSettings::new(self.settings),
            shared: OperatorShared {
                memos: self.memos,
                ..OperatorShared::default()
            },
        };
        activities
            .run(ActivityKind::Startup)
            .await
            .map_err(OperatorError::Startup)?;
        // As kopf refuses such storages when they are built: after startup, which may set them.
        let persistence = activities.settings.get().persistence;
        persistence.validate().map_err(OperatorError::Settings)?;
        if persistence.prefix_too_long() {
            tracing::warn!(
                target: TARGET,
                "The annotations prefix is too long. It can cause errors when PATCHing."
            );
        }
        let (client, _authenticated): (kube::Client, Option<Authenticated>) = match self.client {
            Some(client) => (client, None),
            None => {
                let authenticated = authenticate(&activities).await?;
                (authenticated.client.clone(), Some(authenticated))
            }
        };
        // Events from handlers (`kopf::event()`…) are posted while the operator runs.
        let poster =
            crate::engines::posting::Poster::start(&client, &activities.settings.get().posting);

        let namespaces = NamespacePatterns::parse(&self.namespaces);
        let replicas = Replicas::start(
            &client,
            &activities.settings.get(),
            self.cluster_wide || self.namespaces.is_empty(),
            &namespaces,
            &activities.shared.gate,
        );
        let mut reactor = Reactor::new(
            client.clone(),
            registry.clone(),
            Arc::new(activities.settings.get()),
            namespaces,
            activities.shared.clone(),
        );
        let probe = match &self.liveness {
            Some(url) => Some(probing::serve(url, activities.clone(), reactor.health()).await?),
            None => None,
        };
        let replicas = replicas.with_peering(&reactor.health());
        let scanned = tokio::select! {
            scanned = reactor.rescan(true) => Some(scanned),
            () = stop.as_mut() => None,
        };
        let Some(scanned) = scanned else {
            // Stopped before the cluster answered: nothing is served yet, only cleaned up.
            replicas.stop().await;
            if let Some(probe) = probe {
                probe.abort();
            }
            if let Err(err) = activities.run(ActivityKind::Cleanup).await {
                tracing::error!(target: TARGET, "Cleanup activity has failed: {err}");
            }
            poster.stop().await;
            return Ok(());
        };
        scanned?;
        let paused = activities.shared.gate.is_paused();
        if !paused && !reactor.serves_anything() && !registry.resource_selectors_empty() {
            let names: Vec<String> = registry.selectors().iter().map(|s| s.to_string()).collect();
            tracing::warn!(target: TARGET, "{}", OperatorError::NothingToServe(names.join(", ")));
        }
        // The webhook server and the managed configurations, once the cluster is known.
        let admitting = match crate::reactor::admitting::start(
            &client,
            &registry,
            &activities.settings.get(),
            &activities.shared,
        )
        .await
        {
            Ok(admitting) => admitting,
            Err(err) => {
                if let Some(probe) = probe {
                    probe.abort();
                }
                poster.stop().await;
                return Err(err);
            }
        };
        reactor.watch_crds();
        if let Some(ready) = self.ready {
            let _ = ready.send(());
        }
        let result = reactor.serve(stop.as_mut()).await;
        replicas.stop().await;
        if let Some(admitting) = admitting {
            admitting.stop().await;
        }
        if let Some(probe) = probe {
            probe.abort();
        }
        if let Err(err) = activities.run(ActivityKind::Cleanup).await {
            tracing::error!(target: TARGET, "Cleanup activity has failed: {err}");
        }
        poster.stop().await;
        result
    }
}

/// Runs an operator with these handlers and settings, cluster-wide, until `stop` resolves:
/// kopf's `operator()` for embedding in a program's own `main` or in a test.
pub async fn operator(
    registry: Registry,
    settings: Settings,
    stop: impl Future<Output = ()>,
) -> Result<(), OperatorError> {
    Operator::new(registry)
        .settings(settings)
        .cluster_wide()
        .run(stop)
        .await
}

/// The `main` of an operator binary: parses the command line, runs the linked handlers
/// until SIGINT or SIGTERM; a second signal exits at once.
#[cfg(feature = "cli")]
pub fn run_main() -> std::process::ExitCode {
    use crate::settings::cli::OperatorArgs;
    use clap::Parser;
    use std::process::ExitCode;

    /// The command line of an operator binary (what `kopf run` passes on).
    #[derive(Parser)]
    #[command(about = "A kopf operator")]
    struct OperatorCli {
        #[command(flatten)]
        options: OperatorArgs,
        /// Print what the handlers select, as JSON, and exit (for `kopf manifests`).
        #[arg(long, hide = true)]
        kopf_describe: bool,
    }

    let cli = OperatorCli::parse();
    if cli.kopf_describe {
        return print_description();
    }
    let options = cli.options;
    crate::logging::init(options.log_format, options.log_level(), options.log_prefix);
    let registry = match Registry::linked() {
        Ok(registry) => registry,
        Err(err) => {
            eprintln!("kopf: {err}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("kopf: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let mut operator = Operator::new(registry)
        .settings(options.settings())
        .namespaces(options.namespaces.clone());
    if options.all_namespaces {
        operator = operator.cluster_wide();
    }
    if let Some(url) = &options.liveness {
        operator = operator.liveness(url.clone());
    }
    // Listening from now on: a signal during the startup is not the default (fatal) one.
    let stop = {
        let _entered = runtime.enter();
        stop_signal()
    };
    let result = runtime.block_on(operator.run(stop));
    // Do not wait for blocking handlers that ignore the stop: the bound has passed.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(target: TARGET, "{err}");
            eprintln!("kopf: {err}");
            ExitCode::FAILURE
        }
    }
}

/// `--kopf-describe`: the linked handlers' selectors and which families use each, as
/// one JSON document on stdout, for `kopf manifests` to derive the RBAC rules from.
#[cfg(feature = "cli")]
fn print_description() -> std::process::ExitCode {
    use serde_json::json;
    let registry = match Registry::linked() {
        Ok(registry) => registry,
        Err(err) => {
            eprintln!("kopf: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let families = |selector: &crate::structs::resource::Selector| {
        let uses = |used: bool, name: &str| used.then(|| name.to_string());
        [
            uses(
                registry.changing().iter().any(|h| &h.selector == selector),
                "changing",
            ),
            uses(
                registry.watching().iter().any(|h| &h.selector == selector),
                "watching",
            ),
            uses(
                registry.spawning().iter().any(|h| &h.selector == selector),
                "spawning",
            ),
            uses(
                registry.indexing().iter().any(|h| &h.selector == selector),
                "indexing",
            ),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
    };
    let resources: Vec<_> = registry
        .selectors()
        .iter()
        .map(|s| json!({"group": s.group, "version": s.version, "name": s.name, "families": families(s)}))
        .collect();
    // Peering is used whenever its resource exists; leases with --leader-election/--shards.
    let admission = !registry.admission().is_empty();
    let crds = crate::intents::crds::linked_crds();
    let description = json!({"resources": resources, "peering": true, "leases": true,
                             "admission": admission, "crds": crds});
    println!("{description}");
    std::process::ExitCode::SUCCESS
}

/// Listens for SIGINT/SIGTERM from the call on (in a runtime's context); the future
/// resolves on the first, and the second one exits the process at once.
#[cfg(feature = "cli")]
fn stop_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let signals = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    );
    async move {
        let (Ok(interrupt), Ok(terminate)) = signals else {
            std::future::pending::<()>().await;
            return;
        };
        stopped_by(interrupt, terminate).await;
    }
}

/// Resolves on the first of the signals; the second one exits the process at once.
#[cfg(feature = "cli")]
async fn stopped_by(
    mut interrupt: tokio::signal::unix::Signal,
    mut terminate: tokio::signal::unix::Signal,
) {
    let name = tokio::select! {
        _ = interrupt.recv() => "SIGINT",
        _ = terminate.recv() => "SIGTERM",
    };
    tracing::info!(target: TARGET, "Signal {name} is received. Operator is stopping.");
    tokio::spawn(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
        tracing::warn!(target: TARGET, "A second signal is received. Exiting at once.");
        std::process::exit(130);
    });
}
