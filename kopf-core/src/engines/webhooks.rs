//! kopf's `WebhookServer`: an HTTPS endpoint that receives admission reviews at
//! `POST {path}/{handler id}` and answers them with the admission engine.
//!
//! As kopf: the handler id is the rest of the path after the root path (percent-decoded);
//! a path naming no handler runs none and allows the request. A request that cannot be
//! reviewed is answered with an HTTP error, `"{code}: {reason}"` as text: 400 for a body
//! that is not JSON or lacks what kopf needs, 404 for a resource without admission
//! handlers, 409 for an ambiguous one.

use crate::engines::admission::{
    AdmissionContext, WebhookCall, WebhookError, serve_admission_request,
};
use crate::engines::webhook_tls::{TlsError, accessible_addr, serving_material};
use crate::settings::WebhookServer;
use crate::structs::reviews::{HeaderMap, ReviewRequest};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

const TARGET: &str = "kopf._kits.webhooks";
/// Reviews carry the old and the new object: room for two large objects and then some.
const MAX_BODY: usize = 32 * 1024 * 1024;

/// Why the webhook server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum WebhookServerError {
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("cannot listen for webhooks at {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// A started webhook server: where the API server reaches it and what it must trust.
pub struct RunningWebhookServer {
    /// `https://host:port/path`, without a trailing slash; handler ids follow.
    pub url: String,
    /// The CA bundle (PEM) that verifies the server's certificate.
    pub ca_pem: String,
    task: tokio::task::JoinHandle<()>,
}

impl RunningWebhookServer {
    /// kopf's `WebhookClientConfig`: the URL and the base64 CA bundle, as webhook
    /// configurations take them (before the handler id is added to the URL).
    pub fn client_config(&self) -> Value {
        use base64::Engine;
        let bundle = base64::engine::general_purpose::STANDARD.encode(&self.ca_pem);
        json!({"url": self.url, "caBundle": bundle})
    }

    /// Stops listening; reviews being answered are dropped.
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for RunningWebhookServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// kopf's URL of the server: IPv6 addresses bracketed, the default port omitted.
fn build_url(host: &str, port: u16, path: &str) -> String {
    let host = match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(ip)) => format!("[{ip}]"),
        _ => host.to_string(),
    };
    let netloc = if port == 443 {
        host
    } else {
        format!("{host}:{port}")
    };
    format!("https://{netloc}{}", path.trim_end_matches('/'))
}

/// Starts listening and answering reviews with `context`'s handlers.
pub async fn start(
    server: &WebhookServer,
    context: Arc<AdmissionContext>,
) -> Result<RunningWebhookServer, WebhookServerError> {
    let material = serving_material(server)?;
    let bind_addr = server.addr.clone().unwrap_or_else(|| "0.0.0.0".into());
    let listener = TcpListener::bind((bind_addr.as_str(), server.port.unwrap_or(0)))
        .await
        .map_err(|source| WebhookServerError::Bind {
            addr: format!("{bind_addr}:{}", server.port.unwrap_or(0)),
            source,
        })?;
    let port = listener
        .local_addr()
        .map_or(server.port.unwrap_or(0), |a| a.port());
    let root = server.path.clone().unwrap_or_default();
    let root = root.trim_end_matches('/').to_string();
    tracing::debug!(target: TARGET, "Listening for webhooks at {}", build_url(&bind_addr, port, &root));
    let host = server
        .host
        .clone()
        .unwrap_or_else(|| accessible_addr(server.addr.as_deref()));
    let url = build_url(&host, port, &root);
    tracing::debug!(target: TARGET, "Accessing the webhooks at {url}");
    let acceptor = tokio_rustls::TlsAcceptor::from(material.server_config);
    let root = Arc::<str>::from(root);
    let task = tokio::spawn(crate::logging::in_current_dispatch(async move {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (acceptor, context, root) = (acceptor.clone(), context.clone(), root.clone());
            connections.spawn(crate::logging::in_current_dispatch(async move {
                // A client that fails the handshake (e.g. not trusting the CA) just goes.
                let Ok(stream) = acceptor.accept(stream).await else {
                    return;
                };
                let service = hyper::service::service_fn(move |request| {
                    let (context, root) = (context.clone(), root.clone());
                    async move { Ok::<_, Infallible>(answer(&context, &root, request).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            }));
            while connections.try_join_next().is_some() {}
        }
    }));
    Ok(RunningWebhookServer {
        url,
        ca_pem: material.ca_pem,
        task,
    })
}

fn text(code: StatusCode, reason: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!(
        "{}: {reason}",
        code.as_u16()
    ))));
    *response.status_mut() = code;
    response
}

/// The handler id of a request path under `root`, percent-decoded; `None` when the path
/// is not under the root.
fn handler_id(root: &str, path: &str) -> Option<String> {
    let rest = path.strip_prefix(root)?.strip_prefix('/')?;
    Some(percent_decode(rest))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn answer(
    context: &AdmissionContext,
    root: &str,
    request: Request<hyper::body::Incoming>,
) -> Response<Full<Bytes>> {
    let Some(webhook) = handler_id(root, request.uri().path()) else {
        return text(StatusCode::NOT_FOUND, "Not Found");
    };
    if request.method() != Method::POST {
        return text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    }
    let headers: HeaderMap = request
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) => return text(StatusCode::BAD_REQUEST, &err.to_string()),
    };
    let review: Value = match serde_json::from_slice(&body) {
        Ok(review) => review,
        Err(err) => return text(StatusCode::BAD_REQUEST, &err.to_string()),
    };
    let call = WebhookCall {
        webhook: Some(webhook),
        headers,
    };
    match serve_admission_request(context, &ReviewRequest::new(review), call).await {
        Ok(review) => {
            let mut response = Response::new(Full::new(Bytes::from(review.to_string())));
            response.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("application/json; charset=utf-8"),
            );
            response
        }
        Err(err) => {
            let code = match err {
                WebhookError::AmbiguousResource(_) => StatusCode::CONFLICT,
                WebhookError::UnknownResource(_) => StatusCode::NOT_FOUND,
                WebhookError::MissingData(_) | WebhookError::BadRequest(_) => {
                    StatusCode::BAD_REQUEST
                }
            };
            text(code, &err.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_ids_are_kopfs() {
        assert_eq!(build_url("localhost", 9443, ""), "https://localhost:9443");
        assert_eq!(build_url("::1", 443, "/hooks/"), "https://[::1]/hooks");
        assert_eq!(
            handler_id("", "/validate_fn").as_deref(),
            Some("validate_fn")
        );
        assert_eq!(handler_id("", "/").as_deref(), Some(""));
        assert_eq!(
            handler_id("/hooks", "/hooks/a%2Fb/c").as_deref(),
            Some("a/b/c")
        );
        assert_eq!(handler_id("/hooks", "/other/x"), None);
        assert_eq!(percent_decode("100%"), "100%");
    }
}
