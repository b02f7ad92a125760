//! The running server: listener, TLS, shared state, test hooks and lifecycle.

use crate::config::{ServerConfig, Storage, Transport};
use crate::faults::Faults;
use crate::ops::{self, WriteOpts};
use crate::persistence::{Persistence, PersistenceError};
use crate::registry::Registry;
pub use crate::shared::{RecordedRequest, Shared};
use crate::status::ApiError;
use crate::store::State;
use crate::tls::TlsError;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Persistence(#[from] PersistenceError),
    #[error("bad manifest: {0}")]
    Manifest(String),
    #[error("{0}")]
    Api(String),
}

/// A started server; dropping it without `shutdown` leaves the tasks running until the runtime ends.
pub struct RunningServer {
    shared: Arc<Shared>,
    url: String,
    ca_pem: Option<String>,
    token: Option<String>,
    tasks: Vec<JoinHandle<()>>,
}

/// A cheap handle with test hooks.
#[derive(Clone)]
pub struct Control {
    shared: Arc<Shared>,
}

impl Control {
    /// Drops all watch history: the next watch from an older version gets 410.
    pub fn compact(&self) {
        self.shared.compact();
    }

    /// Ends all open watch streams abruptly.
    pub fn drop_watches(&self) {
        self.shared.drops.send_modify(|n| *n += 1);
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Requests by verb: get, list, watch, create, update, patch, delete.
    pub fn request_counts(&self) -> BTreeMap<String, u64> {
        self.shared
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn reset_request_counts(&self) {
        self.shared
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    pub fn record_requests(&self, on: bool) {
        self.shared.recording.store(on, Ordering::Relaxed);
    }

    pub fn recorded_requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .recorded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The global counter now.
    pub fn resource_version(&self) -> u64 {
        self.shared.lock().rv
    }
}

const DEFAULT_NAMESPACES: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

impl RunningServer {
    pub async fn start(config: ServerConfig) -> Result<RunningServer, ServerError> {
        let data_dir = match &config.storage {
            Storage::Durable(dir) => Some(dir.clone()),
            Storage::InMemory => None,
        };
        let (acceptor, ca_pem, token) = match config.transport {
            Transport::Https => {
                let material = crate::tls::load_or_generate(data_dir.as_deref())?;
                let token = crate::tls::load_or_generate_token(data_dir.as_deref())?;
                (
                    Some(tokio_rustls::TlsAcceptor::from(material.server_config)),
                    Some(material.ca_pem),
                    Some(token),
                )
            }
            Transport::InsecureHttp => {
                tracing::warn!("the embedded API server serves plain HTTP without authentication");
                (None, None, None)
            }
        };

        let mut state = State::new(Registry::with_builtins(), config.watch_history);
        // The visible version: with a data directory, the persistence writer raises it as
        // groups reach the disk (see `shared`).
        let changed = watch::channel(0).0;
        if let Some(dir) = &data_dir {
            let on_disk = changed.clone();
            let persistence = Persistence::open_notifying(
                dir,
                Box::new(move |rv| crate::shared::publish(&on_disk, rv)),
            )?;
            let snapshot = persistence.load()?;
            state.rv = snapshot.resource_version;
            state.floor = snapshot.resource_version;
            for (id, json) in snapshot.objects {
                match serde_json::from_slice::<Value>(&json) {
                    Ok(object) => state.load(&id, object),
                    Err(err) => tracing::warn!("skipping an unreadable stored object {id}: {err}"),
                }
            }
            let crds = state.list(ops::CRD_KEY, None);
            for crd in crds {
                if let Err(err) = state.registry.register_crd(&crd) {
                    tracing::warn!("skipping a stored CRD that does not register: {err}");
                }
            }
            state.persistence = Some(persistence);
        }
        for name in DEFAULT_NAMESPACES {
            if state.get(ops::NAMESPACE_KEY, "", name).is_none()
                && let Some(res) = state.registry.find("", "v1", "namespaces")
            {
                let body =
                    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
                ops::create(&mut state, &res, "", body, &WriteOpts::default())
                    .map_err(|e| ServerError::Api(e.message))?;
            }
        }
        let initial_commit = state
            .take_batch()
            .and_then(|batch| state.persistence.as_ref().map(|p| p.commit(batch)));
        if let Some(commit) = initial_commit {
            commit.await?;
        }

        let bind = SocketAddr::new(config.bind, config.port);
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .map_err(|source| ServerError::Bind { addr: bind, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ServerError::Bind { addr: bind, source })?;
        let scheme = if acceptor.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{addr}");
        crate::shared::publish(&changed, state.rv);
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            changed,
            drops: watch::channel(0).0,
            shutdown: watch::channel(false).0,
            faults: Faults::new(config.faults.clone()),
            config: config.clone(),
            token: token.clone(),
            tokens: Default::default(),
            addr,
            counts: Mutex::new(BTreeMap::new()),
            recording: AtomicBool::new(false),
            recorded: Mutex::new(Vec::new()),
        });
        let mut tasks = vec![tokio::spawn(accept_loop(
            shared.clone(),
            listener,
            acceptor,
        ))];
        if let Some(every) = config.faults.compact_every {
            let shared = shared.clone();
            let mut shutdown = shared.shutdown.subscribe();
            tasks.push(tokio::spawn(async move {
                let every = every.max(std::time::Duration::from_millis(10));
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(every) => shared.compact(),
                        _ = shutdown.changed() => return,
                    }
                }
            }));
        }
        Ok(RunningServer {
            shared,
            url,
            ca_pem,
            token,
            tasks,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// `https://127.0.0.1:PORT`, or `http://…` for plain HTTP.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    pub fn kubeconfig(&self) -> String {
        crate::kubeconfig::render(&self.url, self.ca_pem(), self.token())
    }

    pub fn write_kubeconfig(&self, path: &std::path::Path) -> std::io::Result<()> {
        crate::kubeconfig::write(path, &self.kubeconfig())
    }

    pub fn control(&self) -> Control {
        Control {
            shared: self.shared.clone(),
        }
    }

    /// Creates or updates every document of a multi-document YAML (or JSON) manifest;
    /// returns `kind/name` per document.
    pub async fn apply_manifests(&self, yaml: &str) -> Result<Vec<String>, ServerError> {
        let mut documents = Vec::new();
        for document in serde_yaml_ng::Deserializer::from_str(yaml) {
            let value = <Value as serde::Deserialize>::deserialize(document)
                .map_err(|e| ServerError::Manifest(e.to_string()))?;
            match value {
                Value::Null => {}
                Value::Object(_) if value.get("kind").and_then(Value::as_str) == Some("List") => {
                    if let Some(items) = value.get("items").and_then(Value::as_array) {
                        documents.extend(items.iter().cloned());
                    }
                }
                Value::Object(_) => documents.push(value),
                _ => return Err(ServerError::Manifest("a document is not an object".into())),
            }
        }
        let mut applied = Vec::new();
        for document in documents {
            applied.push(self.apply_one(document).await?);
        }
        Ok(applied)
    }

    async fn apply_one(&self, document: Value) -> Result<String, ServerError> {
        let text = |p: &str| {
            document
                .pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let (api_version, kind, name) =
            (text("/apiVersion"), text("/kind"), text("/metadata/name"));
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), api_version.clone()),
        };
        let namespace = match text("/metadata/namespace") {
            ns if ns.is_empty() => "default".to_string(),
            ns => ns,
        };
        let shared = self.shared.clone();
        let label = format!("{}/{name}", kind.to_ascii_lowercase());
        shared
            .write(move |state| {
                let res = state
                    .registry
                    .resources
                    .iter()
                    .find(|r| r.group == group && r.version == version && r.kind == kind)
                    .cloned()
                    .ok_or_else(|| {
                        ApiError::bad_request(format!("no resource for {api_version} {kind}"))
                    })?;
                let ns = if res.namespaced {
                    namespace.as_str()
                } else {
                    ""
                };
                let opts = WriteOpts {
                    field_manager: Some("kopf-apply".into()),
                    ..WriteOpts::default()
                };
                match state.get(&res.storage_key(), ns, &name) {
                    None => ops::create(state, &res, ns, document, &opts).map(|_| ()),
                    Some(existing) => {
                        let mut body = document;
                        let rv = existing
                            .pointer("/metadata/resourceVersion")
                            .cloned()
                            .unwrap_or(Value::Null);
                        if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut)
                        {
                            meta.insert("resourceVersion".into(), rv);
                        }
                        ops::update(state, &res, ns, &name, None, body, &opts).map(|_| ())
                    }
                }
            })
            .await
            .map_err(|e| ServerError::Api(e.message))?;
        Ok(label)
    }

    /// Stops accepting, ends watches and connections, flushes persistence.
    pub async fn shutdown(self) {
        self.shared.shutdown.send_replace(true);
        for task in self.tasks {
            let _ = task.await;
        }
        let persistence = self.shared.lock().persistence.take();
        if let Some(persistence) = persistence {
            let _ = tokio::task::spawn_blocking(move || drop(persistence)).await;
        }
    }
}

async fn accept_loop(
    shared: Arc<Shared>,
    listener: tokio::net::TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
) {
    let mut shutdown = shared.shutdown.subscribe();
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((tcp, _)) = accepted else {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                };
                let _ = tcp.set_nodelay(true);
                connections.spawn(serve_connection(shared.clone(), tcp, acceptor.clone()));
            }
            _ = shutdown.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}

async fn serve_connection(
    shared: Arc<Shared>,
    tcp: tokio::net::TcpStream,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
) {
    let service_shared = shared.clone();
    let service = hyper::service::service_fn(move |request| {
        crate::http::handle(service_shared.clone(), request)
    });
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    match acceptor {
        Some(acceptor) => {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let _ = builder.serve_connection(TokioIo::new(tls), service).await;
        }
        None => {
            let _ = builder.serve_connection(TokioIo::new(tcp), service).await;
        }
    }
}
