//! The generated CA and serving certificate. OWNER: helper "apiserver-ops".
//!
//! STUB: the API is fixed; the bodies are being written.

use std::path::Path;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot generate the certificates: {0}")]
    Generate(String),
    #[error("cannot read or write the certificates in {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// What the server needs to serve HTTPS and what clients need to trust it.
#[derive(Clone)]
pub struct TlsMaterial {
    /// The CA certificate, PEM: goes into the kubeconfig as `certificate-authority-data`.
    pub ca_pem: String,
    /// Ready for `tokio_rustls::TlsAcceptor::from`; offers `h2` and `http/1.1` via ALPN.
    pub server_config: Arc<rustls::ServerConfig>,
}

/// Generates a CA and a certificate for 127.0.0.1/localhost; with `dir`, reuses the ones
/// stored there (so a kubeconfig stays valid across restarts) or stores new ones.
pub fn load_or_generate(_dir: Option<&Path>) -> Result<TlsMaterial, TlsError> {
    Err(TlsError::Generate("not yet implemented".into()))
}

/// A random bearer token; with `dir`, reused from there (or stored) across restarts.
pub fn load_or_generate_token(_dir: Option<&Path>) -> Result<String, TlsError> {
    Ok("dev-token".to_string())
}
