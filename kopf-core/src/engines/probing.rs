//! The liveness endpoint (`--liveness http://HOST:PORT/PATH`): kopf's JSON of the probe
//! handlers' results, recollected at most every 10 seconds. Beyond kopf, it answers 500
//! while a watch-stream is blind (disconnected or silent past its timeout), so that
//! Kubernetes restarts an operator that no longer sees its resources.

use crate::clients::health::WatchHealth;
use crate::engines::activities::ActivityContext;
use crate::intents::causes::ActivityKind;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value, json};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Mutex;
use tokio::time::Instant;

const TARGET: &str = "kopf._core.engines.probing";
/// How long probe results are reused (kopf: 10 seconds).
const MAX_AGE: Duration = Duration::from_secs(10);

/// A `--liveness` URL that cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum LivenessError {
    #[error("Unsupported scheme: {0} (the liveness endpoint is http://HOST:PORT/PATH)")]
    Scheme(String),
    #[error("cannot serve the liveness endpoint at {url}: {source}")]
    Bind { url: String, source: std::io::Error },
}

/// Where to listen: kopf's defaults are host `localhost` and port 80.
struct Endpoint {
    host: String,
    port: u16,
    path: String,
}

fn parse(url: &str) -> Result<Endpoint, LivenessError> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| LivenessError::Scheme(url.to_string()))?;
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, ""),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse()
                .map_err(|_| LivenessError::Scheme(url.to_string()))?,
        ),
        None => (authority, 80),
    };
    Ok(Endpoint {
        host: if host.is_empty() { "localhost" } else { host }.to_string(),
        port,
        path: path.to_string(),
    })
}

/// The probe handlers' results by id, or why the probe activity failed.
type ProbeResults = Result<Map<String, Value>, String>;

/// The probe results, recollected when older than [`MAX_AGE`].
struct Reporter {
    context: ActivityContext,
    health: WatchHealth,
    path: String,
    cache: Mutex<Option<(Instant, ProbeResults)>>,
}

impl Reporter {
    async fn results(&self) -> ProbeResults {
        let mut cache = self.cache.lock().await;
        if let Some((at, results)) = cache.as_ref()
            && at.elapsed() < MAX_AGE
        {
            return results.clone();
        }
        let results = match self.context.run(ActivityKind::Probe).await {
            Ok(results) => Ok(results.into_iter().collect()),
            Err(err) => Err(err.to_string()),
        };
        *cache = Some((Instant::now(), results.clone()));
        results
    }

    async fn answer(&self, request: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
        if request.uri().path() != self.path
            && !(self.path.is_empty() && request.uri().path() == "/")
        {
            return respond(StatusCode::NOT_FOUND, json!({"error": "Not Found"}));
        }
        let blind = self.health.blind();
        if !blind.is_empty() {
            return respond(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "watch-streams are blind", "streams": blind}),
            );
        }
        match self.results().await {
            Ok(mut results) => {
                if let Some(role) = self.role() {
                    results.insert("kopf.replica".into(), role);
                }
                respond(StatusCode::OK, Value::Object(results))
            }
            Err(message) => respond(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": format!("the probe activity failed: {message}")}),
            ),
        }
    }
}

impl Reporter {
    /// Beyond kopf: this replica's role when peering, leader election or sharding decides
    /// it (leader or not, the shards held, what pauses it); `None` for a lone operator.
    fn role(&self) -> Option<Value> {
        let gate = self.context.shared.gate.state();
        let mut role = Map::new();
        if self
            .context
            .settings
            .get()
            .replicas
            .leader_election
            .is_some()
        {
            let leading = !gate.blockers.contains(super::leadership::NOT_LEADING);
            role.insert("leader".into(), Value::Bool(leading));
        }
        if let Some(shards) = &gate.shards {
            role.insert("shards".into(), json!(shards.held));
            role.insert("of".into(), json!(shards.total));
        }
        if !gate.blockers.is_empty() {
            role.insert("paused_by".into(), json!(gate.blockers));
        }
        (!role.is_empty()).then_some(Value::Object(role))
    }
}

fn respond(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

/// Starts serving the endpoint; the server stops when the returned task is aborted.
pub async fn serve(
    url: &str,
    context: ActivityContext,
    health: WatchHealth,
) -> Result<tokio::task::JoinHandle<()>, LivenessError> {
    let endpoint = parse(url)?;
    let listener = TcpListener::bind((endpoint.host.as_str(), endpoint.port))
        .await
        .map_err(|source| LivenessError::Bind {
            url: url.to_string(),
            source,
        })?;
    let port = listener.local_addr().map_or(endpoint.port, |a| a.port());
    tracing::debug!(
        target: TARGET,
        "Serving health status at http://{}:{port}{}",
        endpoint.host,
        endpoint.path
    );
    let reporter = Arc::new(Reporter {
        context,
        health,
        path: endpoint.path,
        cache: Mutex::new(None),
    });
    Ok(tokio::spawn(crate::logging::in_current_dispatch(
        async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let reporter = reporter.clone();
                connections.spawn(crate::logging::in_current_dispatch(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let reporter = reporter.clone();
                        async move { Ok::<_, Infallible>(reporter.answer(request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                }));
                while connections.try_join_next().is_some() {}
            }
        },
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_parsed_with_kopfs_defaults() {
        let e = parse("http://0.0.0.0:8080/healthz").unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.path.as_str()),
            ("0.0.0.0", 8080, "/healthz")
        );
        let e = parse("http://:9000").unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.path.as_str()),
            ("localhost", 9000, "")
        );
        let e = parse("http://example").unwrap();
        assert_eq!(e.port, 80);
        assert!(matches!(
            parse("https://x:1/"),
            Err(LivenessError::Scheme(_))
        ));
    }
}
