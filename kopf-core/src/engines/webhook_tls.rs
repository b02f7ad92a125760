//! The webhook server's certificate: loaded from the files given, or generated for the
//! server's names — a CA (what webhook configurations carry as `caBundle`) and a serving
//! certificate it signs. kopf generates one self-signed certificate that is its own CA;
//! rustls-based clients refuse a CA certificate used as a server's, so ours are two.

use crate::settings::WebhookServer;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

/// Why the webhook server cannot serve HTTPS.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot generate the webhook server's certificate: {0}")]
    Generate(String),
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the webhook server's certificate or key is unusable: {0}")]
    Bad(String),
}

/// What the server serves with, and what its clients must trust.
pub struct ServingMaterial {
    /// The CA bundle (PEM) for `caBundle`.
    pub ca_pem: String,
    pub server_config: Arc<rustls::ServerConfig>,
}

/// The name the webhooks are reached by when listening on `addr`: kopf's accessible
/// address (`localhost` for all interfaces unspecified, loopback for `0.0.0.0`/`::`).
pub fn accessible_addr(addr: Option<&str>) -> String {
    match addr {
        None | Some("") => "localhost".to_string(),
        Some(addr) => match addr.parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) if ip.is_unspecified() => "127.0.0.1".to_string(),
            Ok(IpAddr::V6(ip)) if ip.is_unspecified() => "::1".to_string(),
            _ => addr.to_string(),
        },
    }
}

/// The certificate files, or a generated CA and certificate for the server's names; the
/// CA is also written to `cadump` when given.
pub fn serving_material(server: &WebhookServer) -> Result<ServingMaterial, TlsError> {
    let (ca_pem, cert_pem, key_pem) = match (&server.certfile, &server.pkeyfile) {
        (Some(certfile), Some(pkeyfile)) => {
            let cert = read(certfile)?;
            let key = read(pkeyfile)?;
            let ca = match &server.cafile {
                Some(cafile) => read(cafile)?,
                None => cert.clone(),
            };
            (ca, cert, key)
        }
        _ => {
            let addr = accessible_addr(server.addr.as_deref());
            let mut names = vec![server.host.clone().unwrap_or_else(|| addr.clone()), addr];
            names.extend(server.extra_sans.iter().cloned());
            generate(&names)?
        }
    };
    if let Some(cadump) = &server.cadump {
        std::fs::write(cadump, &ca_pem).map_err(|source| io_error(cadump, source))?;
    }
    Ok(ServingMaterial {
        server_config: server_config(&cert_pem, &key_pem)?,
        ca_pem,
    })
}

fn read(path: &Path) -> Result<String, TlsError> {
    std::fs::read_to_string(path).map_err(|source| io_error(path, source))
}

fn io_error(path: &Path, source: std::io::Error) -> TlsError {
    TlsError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A CA and a serving certificate for `names` (deduplicated; unspecified addresses such as
/// `0.0.0.0` dropped): PEMs of the CA, the certificate and its key.
fn generate(names: &[String]) -> Result<(String, String, String), TlsError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
        IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let fail = |err: rcgen::Error| TlsError::Generate(err.to_string());
    let mut sans: Vec<String> = Vec::new();
    for name in names {
        let unspecified = name.parse::<IpAddr>().is_ok_and(|ip| ip.is_unspecified());
        if !unspecified && !name.is_empty() && !sans.contains(name) {
            sans.push(name.clone());
        }
    }
    let ((y0, m0, d0), (y1, m1, d1)) = validity();

    let ca_key = KeyPair::generate().map_err(fail)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(fail)?;
    let mut ca_name = DistinguishedName::new();
    ca_name.push(DnType::CommonName, "kopf webhook server CA");
    ca_params.distinguished_name = ca_name;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params.not_before = rcgen::date_time_ymd(y0, m0, d0);
    ca_params.not_after = rcgen::date_time_ymd(y1, m1, d1);
    let ca_cert = ca_params.self_signed(&ca_key).map_err(fail)?;
    let issuer = Issuer::new(ca_params, &ca_key);

    let key = KeyPair::generate().map_err(fail)?;
    // The first host name (not an address) is the common name, as kopf names it.
    let common = sans
        .iter()
        .find(|n| n.parse::<IpAddr>().is_err())
        .or(sans.first())
        .cloned()
        .unwrap_or_else(|| "localhost".into());
    let mut params = CertificateParams::new(sans).map_err(fail)?;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common);
    params.distinguished_name = name;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.use_authority_key_identifier_extension = true;
    params.not_before = rcgen::date_time_ymd(y0, m0, d0);
    params.not_after = rcgen::date_time_ymd(y1, m1, d1);
    let cert = params.signed_by(&key, &issuer).map_err(fail)?;
    Ok((ca_cert.pem(), cert.pem(), key.serialize_pem()))
}

/// From a day ago (clock skew) to a year ahead, as (year, month, day): the certificate
/// lives as long as the process.
fn validity() -> ((i32, u8, u8), (i32, u8, u8)) {
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let start = today.yesterday().unwrap_or(today);
    let (year, month, day) = (
        i32::from(start.year()),
        start.month().unsigned_abs(),
        start.day().unsigned_abs(),
    );
    ((year, month, day), (year + 1, month, day.min(28)))
}

fn server_config(cert_pem: &str, key_pem: &str) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let bad = |what: &str, err: &dyn std::fmt::Display| TlsError::Bad(format!("{what}: {err}"));
    let certs = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad("the certificate", &e))?;
    if certs.is_empty() {
        return Err(TlsError::Bad("no certificate in the PEM".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| bad("the key", &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad("TLS versions", &e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| bad("the certificate and key", &e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
