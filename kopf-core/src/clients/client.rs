//! The API client: kube's request stack over a connection pool that speaks HTTP/2.
//!
//! kube's default client negotiates HTTP/1.1 only, so every request in flight holds its own
//! TLS connection: an operator catching up on thousands of objects opens thousands of them
//! (measured: ~2,000 sockets and most of the operator's memory with 2,000 objects). Real
//! Kubernetes clients multiplex over one HTTP/2 connection; this one does the same when the
//! server offers `h2` (ALPN), and falls back to HTTP/1.1 when it does not.

use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kube::client::ConfigExt;
use kube::client::retry::RetryPolicy;
use tower::ServiceBuilder;
use tower::retry::RetryLayer;
use tower::util::BoxCloneService;

/// kopf's `networking.error_backoffs`: seconds between the attempts of a request that
/// failed transiently.
pub const ERROR_BACKOFFS: [u64; 8] = [1, 1, 2, 3, 5, 8, 13, 21];

/// The pause before attempt `attempt + 1` of something retried without end: kopf's
/// backoffs, the last one repeating.
pub fn error_backoff(attempt: usize) -> std::time::Duration {
    let seconds = ERROR_BACKOFFS[attempt.min(ERROR_BACKOFFS.len() - 1)];
    std::time::Duration::from_secs(seconds)
}

/// The request stack of one set of credentials, as the vault swaps it on re-login.
pub type Stack = BoxCloneService<
    http::Request<kube::client::Body>,
    http::Response<hyper::body::Incoming>,
    tower::BoxError,
>;

/// Builds a client for `config`: HTTP/2 where the server agrees, kube's layers on top
/// (base URI, authentication, extra headers, retries of 429/503/504).
pub fn build(config: kube::Config) -> Result<kube::Client, kube::Error> {
    if config.proxy_url.is_some() {
        // Proxies are kube's business: its own stack knows how to tunnel.
        return kube::Client::try_from(config);
    }
    let namespace = config.default_namespace.clone();
    Ok(kube::Client::new(stack(&config)?, namespace))
}

/// The request stack for `config` (without proxies): see [`build`].
pub fn stack(config: &kube::Config) -> Result<Stack, kube::Error> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    // Many small frames share one connection: Nagle's algorithm would hold them back.
    http.set_nodelay(true);
    http.set_connect_timeout(config.connect_timeout);
    let tls = config.rustls_client_config()?;
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http);
    let pool: HyperClient<_, kube::client::Body> =
        HyperClient::builder(TokioExecutor::new()).build(connector);
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(
            config
                .default_retry
                .then(|| RetryLayer::new(RetryPolicy::server_retry())),
        )
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .map_err(tower::BoxError::from)
        .service(pool);
    Ok(BoxCloneService::new(service))
}

/// No cluster could be found to log in to.
#[derive(Debug, thiserror::Error)]
#[error(
    "no Kubernetes cluster is configured: {0}\n\
     Set KUBECONFIG to a kubeconfig file, create ~/.kube/config, run inside a cluster, \
     or start the embedded cluster with `kopf run --embedded FILE.rs`."
)]
pub struct NoCluster(pub String);

/// Builds a client the way kopf logs in: KUBECONFIG, `~/.kube/config`, or in-cluster.
pub async fn connect() -> Result<kube::Client, NoCluster> {
    let (client, _) = connect_as_kopf_would().await?;
    Ok(client)
}

/// [`connect`], also naming the login handler Python kopf falls back to for it
/// (`login_with_kubeconfig`, else `login_with_service_account`), for the log.
pub async fn connect_as_kopf_would() -> Result<(kube::Client, &'static str), NoCluster> {
    let (mut config, login) = match kube::Config::from_kubeconfig(&Default::default()).await {
        Ok(config) => (config, "login_with_kubeconfig"),
        Err(kubeconfig) => match kube::Config::incluster() {
            Ok(config) => (config, "login_with_service_account"),
            Err(in_cluster) => {
                return Err(NoCluster(format!(
                    "kubeconfig: ({kubeconfig}), in-cluster: ({in_cluster})"
                )));
            }
        },
    };
    config.apply_debug_overrides();
    let client = build(config).map_err(|e| NoCluster(e.to_string()))?;
    Ok((client, login))
}
