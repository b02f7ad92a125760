//! One HTTPS POST to a webhook: the address from `clientConfig`, the server certificate
//! checked against `caBundle` and the host name, everything within the webhook's timeout.
//! A fresh connection per call: webhooks are few and calls rare next to their handshakes,
//! and nothing is shared between requests, so a hung webhook holds up only its own request.

use super::config::ClientConfig;
use super::trust::BundleVerifier;
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::sync::Arc;
use std::time::Duration;

/// The largest answer read (kube-apiserver's limit is of this order).
const MAX_ANSWER_BYTES: usize = 3 * 1024 * 1024;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("the webhook has neither a url nor a service")]
    NoAddress,
    #[error("bad webhook URL {0:?}: {1}")]
    BadUrl(String, String),
    #[error("bad caBundle: {0}")]
    BadCaBundle(String),
    #[error("Post {url:?}: {reason}")]
    Post { url: String, reason: String },
    #[error("Post {0:?}: context deadline exceeded")]
    Timeout(String),
    #[error("expected response code 200, got {0}")]
    Status(u16),
}

/// The URL called: `url`, or the service's in-cluster name (which resolves only where
/// such names resolve; the embedded server runs no pods behind services).
pub fn url_of(client: &ClientConfig) -> Result<String, CallError> {
    if let Some(url) = client.url.as_deref().filter(|u| !u.is_empty()) {
        return Ok(url.to_string());
    }
    let service = client.service.as_ref().ok_or(CallError::NoAddress)?;
    let path = service.path.as_deref().unwrap_or("");
    let port = service.port.unwrap_or(443);
    Ok(format!(
        "https://{}.{}.svc:{port}{path}",
        service.name, service.namespace
    ))
}

/// The roots: the `caBundle` certificates only, verified as kube-apiserver verifies them
/// (see `trust`). Without one, nothing is trusted (the system's roots are not loaded
/// here): such a webhook cannot be called.
fn tls_config(ca_bundle: Option<&str>) -> Result<Arc<rustls::ClientConfig>, CallError> {
    let bad = |e: &dyn std::fmt::Display| CallError::BadCaBundle(e.to_string());
    let mut bundle = Vec::new();
    if let Some(encoded) = ca_bundle.filter(|b| !b.is_empty()) {
        let pem = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|e| bad(&e))?;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            bundle.push(cert.map_err(|e| bad(&e))?);
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(&e))?;
    let config = if bundle.is_empty() {
        builder
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth()
    } else {
        let verifier = BundleVerifier::new(bundle, provider).map_err(|e| bad(&e))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth()
    };
    Ok(Arc::new(config))
}

/// Aborts the connection's task when the call ends, however it ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// POSTs `body` and returns the answer's body, or why not, within `timeout`.
pub async fn post(
    client: &ClientConfig,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<Bytes, CallError> {
    let url = url_of(client)?;
    match tokio::time::timeout(timeout, post_inner(client, &url, body)).await {
        Ok(result) => result,
        Err(_) => Err(CallError::Timeout(url)),
    }
}

async fn post_inner(client: &ClientConfig, url: &str, body: Vec<u8>) -> Result<Bytes, CallError> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e: http::uri::InvalidUri| CallError::BadUrl(url.into(), e.to_string()))?;
    if uri.scheme_str() != Some("https") {
        return Err(CallError::BadUrl(
            url.into(),
            "the scheme must be https".into(),
        ));
    }
    let host = uri
        .host()
        .ok_or_else(|| CallError::BadUrl(url.into(), "no host".into()))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = uri.port_u16().unwrap_or(443);
    let config = tls_config(client.ca_bundle.as_deref())?;
    let failed = |reason: String| CallError::Post {
        url: url.to_string(),
        reason,
    };
    let server_name = ServerName::try_from(host.clone())
        .map_err(|e| CallError::BadUrl(url.into(), e.to_string()))?;
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| failed(format!("dial tcp {host}:{port}: {e}")))?;
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(server_name, tcp)
        .await
        .map_err(|e| failed(format!("tls: {e}")))?;
    let io = hyper_util::rt::TokioIo::new(tls);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let _connection = AbortOnDrop(tokio::spawn(async move {
        if let Err(err) = connection.await {
            tracing::debug!("a webhook connection ended: {err}");
        }
    }));
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or(&host);
    let request = http::Request::post(path)
        .header(http::header::HOST, authority)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::ACCEPT, "application/json, */*")
        // kube-apiserver's webhook client names itself so (kopf's example 17 shows it).
        .header(http::header::USER_AGENT, "kube-apiserver-admission")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| failed(e.to_string()))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let status = response.status().as_u16();
    let answer = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
        .collect()
        .await
        .map_err(|e| failed(format!("reading the answer: {e}")))?
        .to_bytes();
    if status != 200 {
        return Err(CallError::Status(status));
    }
    Ok(answer)
}
