//! The generated CA and serving certificate, and the bearer token.
//!
//! A fresh CA signs one serving certificate for the loopback names; clients trust the CA
//! through the kubeconfig. With a data directory, the PEM files and the token are kept there
//! so that a kubeconfig written by one run stays valid for the next.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot generate the certificates: {0}")]
    Generate(String),
    #[error("cannot read or write the certificates in {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// What the server needs to serve HTTPS and what clients need to trust it.
#[derive(Clone)]
pub struct TlsMaterial {
    /// The CA certificate, PEM: goes into the kubeconfig as `certificate-authority-data`.
    pub ca_pem: String,
    /// Ready for `tokio_rustls::TlsAcceptor::from`; offers `h2` and `http/1.1` via ALPN.
    pub server_config: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsMaterial")
            .field("ca_pem", &self.ca_pem)
            .finish_non_exhaustive()
    }
}

/// File names inside the data directory.
pub const CA_FILE: &str = "ca.pem";
pub const CERT_FILE: &str = "server.pem";
pub const KEY_FILE: &str = "server-key.pem";
pub const TOKEN_FILE: &str = "token";

/// The names the serving certificate is valid for: the server binds loopback only.
const SERVER_NAMES: [&str; 3] = ["127.0.0.1", "::1", "localhost"];

/// PEM texts of a generated (or stored) CA and serving certificate.
struct PemSet {
    ca: String,
    cert: String,
    key: String,
}

/// Generates a CA and a certificate for 127.0.0.1/localhost; with `dir`, reuses the ones
/// stored there (so a kubeconfig stays valid across restarts) or stores new ones.
pub fn load_or_generate(dir: Option<&Path>) -> Result<TlsMaterial, TlsError> {
    let pems = match dir {
        Some(dir) => match read_stored(dir)? {
            Some(pems) => pems,
            None => {
                let pems = generate()?;
                store(dir, &pems)?;
                pems
            }
        },
        None => generate()?,
    };
    let server_config = server_config(&pems.cert, &pems.key)?;
    Ok(TlsMaterial {
        ca_pem: pems.ca,
        server_config,
    })
}

/// A random bearer token (32 random bytes, hex); with `dir`, reused from there (or stored)
/// across restarts.
pub fn load_or_generate_token(dir: Option<&Path>) -> Result<String, TlsError> {
    if let Some(dir) = dir {
        let path = dir.join(TOKEN_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) if !text.trim().is_empty() => return Ok(text.trim().to_string()),
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(io_error(&path, source)),
        }
        let token = random_token();
        ensure_dir(dir)?;
        write_private(&path, token.as_bytes())?;
        Ok(token)
    } else {
        Ok(random_token())
    }
}

fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn generate() -> Result<PemSet, TlsError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
        IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let fail = |err: rcgen::Error| TlsError::Generate(err.to_string());
    let now = jiff::Timestamp::now();
    let (not_before, not_after) = validity(now);

    let ca_key = KeyPair::generate().map_err(fail)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(fail)?;
    let mut ca_name = DistinguishedName::new();
    ca_name.push(DnType::CommonName, "kopf embedded cluster CA");
    ca_params.distinguished_name = ca_name;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
    ca_params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
    let ca_cert = ca_params.self_signed(&ca_key).map_err(fail)?;
    let issuer = Issuer::new(ca_params, &ca_key);

    let server_key = KeyPair::generate().map_err(fail)?;
    let names: Vec<String> = SERVER_NAMES.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names).map_err(fail)?;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "kopf embedded apiserver");
    params.distinguished_name = name;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
    params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
    let cert = params.signed_by(&server_key, &issuer).map_err(fail)?;

    Ok(PemSet {
        ca: ca_cert.pem(),
        cert: cert.pem(),
        key: server_key.serialize_pem(),
    })
}

/// From a day ago (clock skew) to ten years ahead, as (year, month, day): long enough
/// that a stored data directory never sees its certificate expire in practice.
fn validity(now: jiff::Timestamp) -> ((i32, u8, u8), (i32, u8, u8)) {
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let start = today.yesterday().unwrap_or(today);
    let (month, day) = (start.month().unsigned_abs(), start.day().unsigned_abs());
    let year = i32::from(start.year());
    ((year, month, day), (year + 10, month, day.min(28)))
}

fn server_config(cert_pem: &str, key_pem: &str) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let fail =
        |what: &str, err: &dyn std::fmt::Display| TlsError::Generate(format!("{what}: {err}"));
    let certs = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail("bad server certificate", &e))?;
    if certs.is_empty() {
        return Err(TlsError::Generate(
            "no server certificate in the PEM".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| fail("bad server key", &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| fail("no usable TLS versions", &e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| fail("certificate and key do not fit", &e))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The stored PEM files, if all three are there; a partial set is regenerated.
fn read_stored(dir: &Path) -> Result<Option<PemSet>, TlsError> {
    let read = |name: &str| -> Result<Option<String>, TlsError> {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(io_error(&path, source)),
        }
    };
    match (read(CA_FILE)?, read(CERT_FILE)?, read(KEY_FILE)?) {
        (Some(ca), Some(cert), Some(key)) => Ok(Some(PemSet { ca, cert, key })),
        _ => Ok(None),
    }
}

fn store(dir: &Path, pems: &PemSet) -> Result<(), TlsError> {
    ensure_dir(dir)?;
    // The key goes first and the CA last: a reader that finds the CA finds a complete set.
    write_private(&dir.join(KEY_FILE), pems.key.as_bytes())?;
    write_private(&dir.join(CERT_FILE), pems.cert.as_bytes())?;
    write_private(&dir.join(CA_FILE), pems.ca.as_bytes())?;
    Ok(())
}

fn ensure_dir(dir: &Path) -> Result<(), TlsError> {
    std::fs::create_dir_all(dir).map_err(|source| io_error(dir, source))
}

/// Writes a file readable by the owner only, atomically (temp file + rename).
fn write_private(path: &Path, data: &[u8]) -> Result<(), TlsError> {
    let tmp: PathBuf = {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".tmp{}", std::process::id()));
        path.with_file_name(name)
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = options.open(&tmp).and_then(|mut file| {
        file.write_all(data)?;
        file.sync_all()
    });
    result.map_err(|source| io_error(&tmp, source))?;
    std::fs::rename(&tmp, path).map_err(|source| io_error(path, source))
}

fn io_error(path: &Path, source: std::io::Error) -> TlsError {
    TlsError::Io {
        path: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn client_config(ca_pem: &str) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec()];
        Arc::new(config)
    }

    /// Runs one TLS handshake over an in-memory pipe and echoes a byte both ways.
    async fn handshake(
        material: &TlsMaterial,
        client_ca: &str,
        name: &str,
    ) -> Result<Vec<u8>, String> {
        let (client_io, server_io) = tokio::io::duplex(64 * 1024);
        let acceptor = tokio_rustls::TlsAcceptor::from(material.server_config.clone());
        let server = tokio::spawn(async move {
            let mut stream = acceptor
                .accept(server_io)
                .await
                .map_err(|e| e.to_string())?;
            let mut byte = [0u8; 1];
            stream
                .read_exact(&mut byte)
                .await
                .map_err(|e| e.to_string())?;
            stream.write_all(&byte).await.map_err(|e| e.to_string())?;
            stream.flush().await.map_err(|e| e.to_string())?;
            Ok::<_, String>(())
        });
        let connector = tokio_rustls::TlsConnector::from(client_config(client_ca));
        let server_name = rustls::pki_types::ServerName::try_from(name.to_string()).unwrap();
        let mut stream = connector
            .connect(server_name, client_io)
            .await
            .map_err(|e| e.to_string())?;
        let alpn = stream
            .get_ref()
            .1
            .alpn_protocol()
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        stream.write_all(b"x").await.map_err(|e| e.to_string())?;
        let mut byte = [0u8; 1];
        stream
            .read_exact(&mut byte)
            .await
            .map_err(|e| e.to_string())?;
        assert_eq!(&byte, b"x");
        server.await.unwrap()?;
        Ok(alpn)
    }

    #[tokio::test]
    async fn client_trusting_the_ca_completes_a_handshake() {
        let material = load_or_generate(None).unwrap();
        for name in SERVER_NAMES {
            let alpn = handshake(&material, &material.ca_pem, name).await.unwrap();
            assert_eq!(alpn, b"h2");
        }
    }

    #[tokio::test]
    async fn client_trusting_another_ca_is_refused() {
        let material = load_or_generate(None).unwrap();
        let other = load_or_generate(None).unwrap();
        assert!(
            handshake(&material, &other.ca_pem, "127.0.0.1")
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn stored_material_is_reused_and_private() {
        let dir = std::env::temp_dir().join(format!("kopf-tls-test-{}", uuid::Uuid::new_v4()));
        let first = load_or_generate(Some(&dir)).unwrap();
        let second = load_or_generate(Some(&dir)).unwrap();
        assert_eq!(first.ca_pem, second.ca_pem);
        // The reloaded server config still chains to the (stored) CA.
        handshake(&second, &first.ca_pem, "localhost")
            .await
            .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let token1 = load_or_generate_token(Some(&dir)).unwrap();
        let token2 = load_or_generate_token(Some(&dir)).unwrap();
        assert_eq!(token1, token2);
        assert_eq!(token1.len(), 64);
        assert!(token1.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(
            load_or_generate_token(None).unwrap(),
            load_or_generate_token(None).unwrap()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
