//! Testing an operator in-process, without a cluster (the cargo feature `testing`): kopf's
//! `KopfRunner`, and more.
//!
//! [`Runner`] starts an in-memory embedded API server and the operator — the handlers linked
//! into the test binary ([`Runner::linked`]) or a [`Registry`] ([`Runner::new`]) — in the
//! test's own runtime. The [`Running`] handle it returns gives the test a kube client,
//! applies manifests and typed objects, waits for conditions on objects and for log lines,
//! reads the operator's captured lines and the handlers' outcomes, injects faults into the
//! server, and stops the operator with its exit status. Dropping it stops everything.
//!
//! The operator's lines are captured for this operator only (its tasks run under their own
//! `tracing` dispatcher) in kopf's formats, and echoed to the test's captured output (shown
//! when the test fails; [`Runner::echo`] turns this off).
//!
//! ```
//! use k8s_openapi::api::core::v1::ConfigMap;
//! use kopf::testing::{LAST_HANDLED, Runner, has_annotation};
//! use std::time::Duration;
//!
//! async fn greet(name: kopf::Name, logger: kopf::Logger) {
//!     logger.info(format!("Hello, {}!", *name));
//! }
//!
//! #[kopf::tokio::main(crate = "kopf::tokio")]
//! async fn main() -> Result<(), kopf::testing::Error> {
//!     let registry = kopf::Registry::new().on_create("configmaps", greet);
//!     let runner = Runner::new(registry).start().await?;
//!     runner
//!         .apply("{apiVersion: v1, kind: ConfigMap, metadata: {name: demo}, data: {a: b}}")
//!         .await?;
//!     let handled = runner
//!         .wait_for::<ConfigMap>("default", "demo", has_annotation(LAST_HANDLED), Duration::from_secs(30))
//!         .await?;
//!     assert_eq!(handled.data.unwrap()["a"], "b");
//!     runner.wait_for_log("[default/demo] Hello, demo!", Duration::from_secs(5)).await?;
//!     runner.wait_for_log("Handler 'greet' succeeded.", Duration::from_secs(5)).await?;
//!     assert_eq!(runner.outcomes()[0].verdict, kopf::testing::Verdict::Succeeded);
//!     runner.stop().await?;
//!     Ok(())
//! }
//! ```
//!
//! With the handlers of the test binary (`#[kopf::on::create(…)]` …), a typed custom resource
//! and its CRD, and faults:
//!
//! ```no_run
//! # use std::time::Duration;
//! # #[derive(Clone, Debug, serde::Serialize, serde::Deserialize)] struct MyResource { metadata: kopf::kube::api::ObjectMeta }
//! # impl kopf::kube::Resource for MyResource { type DynamicType = (); type Scope = kopf::kube::core::NamespaceResourceScope;
//! #   fn kind(_: &()) -> std::borrow::Cow<'_, str> { "MyResource".into() } fn group(_: &()) -> std::borrow::Cow<'_, str> { "example.com".into() }
//! #   fn version(_: &()) -> std::borrow::Cow<'_, str> { "v1".into() } fn plural(_: &()) -> std::borrow::Cow<'_, str> { "myresources".into() }
//! #   fn meta(&self) -> &kopf::kube::api::ObjectMeta { &self.metadata } fn meta_mut(&mut self) -> &mut kopf::kube::api::ObjectMeta { &mut self.metadata } }
//! # impl kopf::kube::CustomResourceExt for MyResource { fn crd() -> kopf::k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition { Default::default() }
//! #   fn crd_name() -> &'static str { "myresources.example.com" } fn api_resource() -> kopf::kube::core::ApiResource { kopf::kube::core::ApiResource::erase::<Self>(&()) } fn shortnames() -> &'static [&'static str] { &[] } }
//! # let my_resource = || MyResource { metadata: Default::default() };
//! # async {
//! use kopf::testing::{FaultConfig, Runner, has_finalizer, DEFAULT_FINALIZER};
//!
//! let runner = Runner::linked().crd::<MyResource>().namespaces(["default"]).start().await?;
//! runner.create(&my_resource()).await?;
//! let handled = runner.handler_succeeded("create_fn");
//! runner.wait_for::<MyResource>("default", "my", |o| handled(o) && has_finalizer(DEFAULT_FINALIZER)(o), Duration::from_secs(10)).await?;
//! runner.faults().set(FaultConfig { error_500_ratio: 0.5, ..FaultConfig::default() });
//! // … the operator retries through the failures …
//! runner.faults().set(FaultConfig::default());
//! runner.stop().await?;
//! # Ok::<(), kopf::testing::Error>(()) };
//! ```

mod conditions;
mod logs;

pub use conditions::{
    DEFAULT_FINALIZER, LAST_HANDLED, has_annotation, has_finalizer, has_label, has_no_finalizers,
};
pub use kopf_apiserver::faults::Faults;
pub use kopf_apiserver::{Control, FaultConfig, RunningServer, ServerConfig, ServerError};
pub use kopf_core::logging::LogRecord;
pub use logs::{HandlerOutcome, Verdict};

use crate::{Operator, OperatorError, Registry, RegistryError};
use kopf_core::settings::{LogFormat, Settings};
use kube::api::{Api, DynamicObject};
use kube::core::ApiResource;
use logs::Logs;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::instrument::WithSubscriber;

/// What went wrong in a test's use of the runner, or (converted with `?` from
/// [`Running::stop`]'s result) in the operator.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the embedded API server: {0}")]
    ServerFailed(#[from] ServerError),
    #[error("a client for the embedded API server: {0}")]
    ClientFailed(String),
    #[error(transparent)]
    Request(#[from] kube::Error),
    #[error(transparent)]
    Serialization(#[from] serde_json::Error),
    #[error(transparent)]
    Handlers(#[from] RegistryError),
    /// The operator's own failure, from [`Running::stop`] with `?`.
    #[error("the operator failed: {0}")]
    OperatorFailed(#[from] OperatorError),
    /// Waited in vain: what for, what was seen last, the operator's state and last lines.
    #[error("timed out waiting for {0}")]
    TimedOut(String),
}

type Configure = Box<dyn FnOnce(Operator) -> Operator + Send>;

/// An operator to start in-process against a fresh in-memory API server: see the
/// [module](self)'s documentation.
pub struct Runner {
    registry: Result<Registry, RegistryError>,
    settings: Settings,
    namespaces: Vec<String>,
    configure: Vec<Configure>,
    server: ServerConfig,
    manifests: Vec<Result<String, serde_json::Error>>,
    format: LogFormat,
    level: tracing::Level,
    echo: bool,
    ready_timeout: Duration,
}

impl Runner {
    /// The operator of the handlers linked into the test binary (`#[kopf::on::create(…)]` …).
    pub fn linked() -> Runner {
        Runner::with_registry(Registry::linked())
    }

    /// The operator of these handlers.
    pub fn new(registry: Registry) -> Runner {
        Runner::with_registry(Ok(registry))
    }

    fn with_registry(registry: Result<Registry, RegistryError>) -> Runner {
        Runner {
            registry,
            settings: Settings::default(),
            namespaces: Vec::new(),
            configure: Vec::new(),
            server: ServerConfig::in_memory(),
            manifests: Vec::new(),
            format: LogFormat::Full,
            level: tracing::Level::DEBUG,
            echo: true,
            ready_timeout: Duration::from_secs(30),
        }
    }

    /// The operator's settings (kopf's defaults otherwise).
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Serve only these namespaces (names, globs, `!` to exclude); cluster-wide otherwise.
    pub fn namespaces<S: Into<String>>(mut self, patterns: impl IntoIterator<Item = S>) -> Self {
        self.namespaces = patterns.into_iter().map(Into::into).collect();
        self
    }

    /// The operator-wide memo of type `T`, taken by handlers as `kopf::OperatorMemo<T>`.
    pub fn memo<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.configure
            .push(Box::new(move |operator: Operator| operator.memo(value)));
        self
    }

    /// The embedded server's configuration (in memory, HTTPS, no faults by default).
    pub fn server(mut self, config: ServerConfig) -> Self {
        self.server = config;
        self
    }

    /// A YAML or JSON manifest (several documents or a `List` allowed) applied before the
    /// operator starts: CRDs, objects that exist when it starts.
    pub fn manifest(mut self, yaml: impl Into<String>) -> Self {
        self.manifests.push(Ok(yaml.into()));
        self
    }

    /// The CRD of a typed custom resource (`#[derive(CustomResource)]`), applied before the
    /// operator starts.
    pub fn crd<K: kube::CustomResourceExt>(mut self) -> Self {
        self.manifests.push(serde_json::to_string(&K::crd()));
        self
    }

    /// The captured lines' format (kopf's `full` by default) and level (DEBUG by default).
    pub fn logging(mut self, format: LogFormat, level: tracing::Level) -> Self {
        self.format = format;
        self.level = level;
        self
    }

    /// Whether the captured lines are also printed (with `eprintln!`, so the test harness
    /// shows them only when the test fails). On by default.
    pub fn echo(mut self, echo: bool) -> Self {
        self.echo = echo;
        self
    }

    /// How long [`start`](Self::start) waits for the operator to be ready (30 s by default).
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// Starts the server and the operator; returns once the operator is ready (its startup
    /// handlers have succeeded and it watches), or has exited (then
    /// [`Running::stop`] returns why).
    pub async fn start(self) -> Result<Running, Error> {
        let registry = self.registry?;
        let server = RunningServer::start(self.server).await?;
        for manifest in self.manifests {
            server.apply_manifests(&manifest?).await?;
        }
        let client = client_of(&server).await?;
        let logs = Logs::default();
        let dispatch = {
            let (logs, echo) = (logs.clone(), self.echo);
            kopf_core::logging::capturing(self.format, self.level, true, move |record| {
                if echo {
                    eprintln!("{}", record.line);
                }
                logs.push(record);
            })
        };
        let mut operator = Operator::new(registry)
            .client(client_of(&server).await?)
            .settings(self.settings);
        operator = match self.namespaces.is_empty() {
            true => operator.cluster_wide(),
            false => operator.namespaces(self.namespaces),
        };
        for configure in self.configure {
            operator = configure(operator);
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let (ready, is_ready) = oneshot::channel::<()>();
        let run = operator.ready(ready).run(async move {
            let _ = stopped.await;
        });
        let task = tokio::spawn(run.with_subscriber(dispatch));
        let running = Running {
            control: server.control(),
            server: Some(server),
            client,
            logs,
            stop: Some(stop),
            task: Some(task),
        };
        match tokio::time::timeout(self.ready_timeout, is_ready).await {
            Ok(_) => Ok(running),
            Err(_) => Err(Error::TimedOut(
                running.explain("the operator to be ready", ""),
            )),
        }
    }
}

async fn client_of(server: &RunningServer) -> Result<kube::Client, Error> {
    let failed = |e: &dyn std::fmt::Display| Error::ClientFailed(e.to_string());
    let kubeconfig =
        kube::config::Kubeconfig::from_yaml(&server.kubeconfig()).map_err(|e| failed(&e))?;
    let options = kube::config::KubeConfigOptions::default();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| failed(&e))?;
    kube::Client::try_from(config).map_err(|e| failed(&e))
}

/// A started server and operator: see the [module](self)'s documentation.
pub struct Running {
    server: Option<RunningServer>,
    control: Control,
    client: kube::Client,
    logs: Logs,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), OperatorError>>>,
}

impl Running {
    /// A kube client for the test (not the operator's: injected faults hit both).
    pub fn client(&self) -> kube::Client {
        self.client.clone()
    }

    /// The embedded server: its URL, CA, token.
    pub fn server(&self) -> &RunningServer {
        self.server
            .as_ref()
            .expect("the server runs until the runner stops")
    }

    /// A kubeconfig for the embedded server (for kubectl or other clients).
    pub fn kubeconfig(&self) -> String {
        self.server().kubeconfig()
    }

    /// The server's test hooks: request counts, compaction, dropping the watches.
    pub fn control(&self) -> &Control {
        &self.control
    }

    /// The server's injected faults, changeable at any time: `runner.faults().set(FaultConfig
    /// { error_500_ratio: 0.5, ..FaultConfig::default() })`; `FaultConfig::default()` heals.
    pub fn faults(&self) -> &Faults {
        self.control.faults()
    }

    /// Ends all open watch-streams abruptly (the operator re-lists and watches again).
    pub fn drop_watches(&self) {
        self.control.drop_watches();
    }

    /// Creates or updates every document of a YAML or JSON manifest, directly in the
    /// server (so injected faults do not hit it); returns `kind/name` per document.
    pub async fn apply(&self, yaml: &str) -> Result<Vec<String>, Error> {
        Ok(self.server().apply_manifests(yaml).await?)
    }

    /// Creates (or updates) a typed object, as [`apply`](Self::apply) does.
    pub async fn create<K>(&self, object: &K) -> Result<(), Error>
    where
        K: kube::Resource + Serialize,
        K::DynamicType: Default,
    {
        let mut value = serde_json::to_value(object)?;
        let dt = K::DynamicType::default();
        if let Some(map) = value.as_object_mut() {
            // k8s-openapi's types serialize their apiVersion and kind; others may not.
            let api_version = K::api_version(&dt).into_owned();
            map.entry("apiVersion").or_insert(api_version.into());
            map.entry("kind")
                .or_insert(K::kind(&dt).into_owned().into());
        }
        self.apply(&value.to_string()).await.map(drop)
    }

    /// The CRD of a typed custom resource, as [`apply`](Self::apply) does.
    pub async fn apply_crd<K: kube::CustomResourceExt>(&self) -> Result<(), Error> {
        self.apply(&serde_json::to_string(&K::crd())?)
            .await
            .map(drop)
    }

    /// The object now, through the test's client (`None` if it does not exist); `namespace`
    /// is `""` for cluster-scoped resources.
    pub async fn get<K>(&self, namespace: &str, name: &str) -> Result<Option<K>, Error>
    where
        K: kube::Resource + DeserializeOwned,
        K::DynamicType: Default,
    {
        let resource = ApiResource::erase::<K>(&Default::default());
        let api: Api<DynamicObject> = match namespace {
            "" => Api::all_with(self.client.clone(), &resource),
            ns => Api::namespaced_with(self.client.clone(), ns, &resource),
        };
        match api.get_opt(name).await? {
            None => Ok(None),
            Some(object) => Ok(Some(serde_json::from_value(serde_json::to_value(object)?)?)),
        }
    }

    /// Waits until the object exists and `condition` holds for it; returns it then. Failed
    /// requests (e.g. injected faults) are retried until `timeout`.
    pub async fn wait_for<K>(
        &self,
        namespace: &str,
        name: &str,
        condition: impl Fn(&K) -> bool,
        timeout: Duration,
    ) -> Result<K, Error>
    where
        K: kube::Resource + DeserializeOwned + Serialize,
        K::DynamicType: Default,
    {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = match self.get::<K>(namespace, name).await {
                Ok(Some(object)) if condition(&object) => return Ok(object),
                Ok(Some(object)) => serde_json::to_string(&object)?,
                Ok(None) => "it does not exist".to_string(),
                Err(err) => format!("the last request failed: {err}"),
            };
            if Instant::now() >= deadline {
                let kind = K::kind(&Default::default()).to_string();
                let what = format!("{kind} {namespace}/{name} to match the condition");
                return Err(Error::TimedOut(self.explain(&what, &seen)));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the object does not exist (kopf's `is_gone`): e.g. after its deletion
    /// handlers have succeeded and the finalizer is removed.
    pub async fn wait_for_gone<K>(
        &self,
        namespace: &str,
        name: &str,
        timeout: Duration,
    ) -> Result<(), Error>
    where
        K: kube::Resource + DeserializeOwned + Serialize,
        K::DynamicType: Default,
    {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = match self.get::<K>(namespace, name).await {
                Ok(None) => return Ok(()),
                Ok(Some(object)) => serde_json::to_string(&object)?,
                Err(err) => format!("the last request failed: {err}"),
            };
            if Instant::now() >= deadline {
                let kind = K::kind(&Default::default()).to_string();
                let what = format!("{kind} {namespace}/{name} to be gone");
                return Err(Error::TimedOut(self.explain(&what, &seen)));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A condition for [`wait_for`](Self::wait_for): the handler `id` has succeeded for the
    /// object (kopf's `Handler 'id' succeeded.` with the object's prefix).
    pub fn handler_succeeded<K: kube::Resource>(&self, id: &str) -> impl Fn(&K) -> bool + use<K> {
        let (logs, id) = (self.logs.clone(), id.to_string());
        move |object| {
            let prefix = conditions::prefix_of(object);
            logs.outcomes().iter().any(|o| {
                o.handler == id
                    && o.verdict == Verdict::Succeeded
                    && o.object.as_deref() == Some(&prefix)
            })
        }
    }

    /// The operator's lines so far, rendered in the runner's format.
    pub fn logs(&self) -> Vec<String> {
        self.logs.records().into_iter().map(|r| r.line).collect()
    }

    /// The operator's lines so far, with their level, logger, object and message.
    pub fn records(&self) -> Vec<LogRecord> {
        self.logs.records()
    }

    /// Waits for a line containing `text` (in its rendered form or its message), logged
    /// since the operator started; returns the line.
    pub async fn wait_for_log(&self, text: &str, timeout: Duration) -> Result<String, Error> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(line) = self.logs.find(0, text) {
                return Ok(line);
            }
            if Instant::now() >= deadline {
                let what = format!("a line with {text:?}");
                return Err(Error::TimedOut(self.explain(&what, "")));
            }
            self.logs.changed().await;
        }
    }

    /// Every outcome of a handler's attempt so far, in order (from kopf's log lines).
    pub fn outcomes(&self) -> Vec<HandlerOutcome> {
        self.logs.outcomes()
    }

    /// How many attempts of handler `id` ended with `outcome`, for any object.
    pub fn count(&self, id: &str, verdict: Verdict) -> usize {
        let outcomes = self.logs.outcomes();
        outcomes
            .iter()
            .filter(|o| o.handler == id && o.verdict == verdict)
            .count()
    }

    /// Whether the operator still runs (it stops on its own when its startup fails).
    pub fn is_running(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Stops the operator (its cleanup handlers run), then the server; returns the
    /// operator's own result. A panic of the operator's task is resumed here.
    pub async fn stop(mut self) -> Result<(), OperatorError> {
        drop(self.stop.take());
        let task = self
            .task
            .take()
            .expect("the operator's task is awaited once");
        let result = match task.await {
            Ok(result) => result,
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            Err(join) => panic!("the operator's task was cancelled: {join}"),
        };
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
        result
    }

    fn explain(&self, what: &str, seen: &str) -> String {
        let state = match self.is_running() {
            true => "the operator runs",
            false => "the operator has exited (`stop()` returns why)",
        };
        let seen = match seen {
            "" => String::new(),
            seen => format!("; seen: {seen}"),
        };
        let tail = self.logs.tail(20).join("\n  ");
        format!("{what}{seen}; {state}; its last lines:\n  {tail}")
    }
}

impl Drop for Running {
    /// Stops the operator, then the server, in the background (when a runtime is there).
    fn drop(&mut self) {
        drop(self.stop.take());
        let (task, server) = (self.task.take(), self.server.take());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Some(task) = task {
                    let _ = task.await;
                }
                if let Some(server) = server {
                    server.shutdown().await;
                }
            });
        }
    }
}
