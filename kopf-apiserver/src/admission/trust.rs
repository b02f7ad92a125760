//! Verifying a webhook's certificate against its `caBundle` as kube-apiserver (Go's
//! crypto/x509) does, where that differs from webpki's stricter rules.
//!
//! One difference matters for webhooks: a self-signed certificate that is its own CA
//! (`CA:TRUE`, as kopf's `WebhookServer` generates when `certbuilder` is installed) and is
//! put in the `caBundle` as is. Go's `Certificate.Verify` returns the one-certificate
//! chain when the leaf is itself among the roots, and never requires a leaf to be a
//! non-CA; webpki refuses any CA certificate as an end-entity (`CaUsedAsEndEntity`).
//! So, and only then — the presented certificate byte for byte one of the `caBundle`'s —
//! it is accepted after Go's remaining checks: the validity period (webpki checks it
//! before the CA flag, so it has passed when that is the error), the host name, and the
//! extended key usage (none, any, or serverAuth). Everything else is webpki's verdict.

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
use std::sync::Arc;

/// webpki's verifier, plus Go's acceptance of a trusted certificate presented as is.
#[derive(Debug)]
pub struct BundleVerifier {
    inner: Arc<WebPkiServerVerifier>,
    bundle: Vec<CertificateDer<'static>>,
}

impl BundleVerifier {
    /// A verifier trusting `bundle`, which must hold a certificate.
    pub fn new(
        bundle: Vec<CertificateDer<'static>>,
        provider: Arc<rustls::crypto::CryptoProvider>,
    ) -> Result<Self, Error> {
        let mut roots = RootCertStore::empty();
        for cert in &bundle {
            roots.add(cert.clone())?;
        }
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| Error::General(e.to_string()))?;
        Ok(BundleVerifier { inner, bundle })
    }
}

fn ca_used_as_end_entity(error: &Error) -> bool {
    match error {
        Error::InvalidCertificate(CertificateError::Other(other)) => other
            .0
            .downcast_ref::<webpki::Error>()
            .is_some_and(|e| matches!(e, webpki::Error::CaUsedAsEndEntity)),
        _ => false,
    }
}

impl ServerCertVerifier for BundleVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let verdict = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        match verdict {
            Err(error)
                if ca_used_as_end_entity(&error)
                    && self
                        .bundle
                        .iter()
                        .any(|c| c.as_ref() == end_entity.as_ref()) =>
            {
                let parsed = ParsedCertificate::try_from(end_entity)?;
                rustls::client::verify_server_name(&parsed, server_name)?;
                if !eku::allows_server_auth(end_entity.as_ref()) {
                    return Err(CertificateError::InvalidPurpose.into());
                }
                Ok(ServerCertVerified::assertion())
            }
            verdict => verdict,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The extended key usage of a DER certificate, as Go checks it for a TLS server.
mod eku {
    /// 2.5.29.37, extKeyUsage.
    const EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
    /// 1.3.6.1.5.5.7.3.1, serverAuth.
    const SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
    /// 2.5.29.37.0, anyExtendedKeyUsage.
    const ANY: &[u8] = &[0x55, 0x1d, 0x25, 0x00];

    #[cfg(test)]
    pub(super) fn usages_of(der: &[u8]) -> Result<Option<Vec<&[u8]>>, ()> {
        usages(der)
    }

    /// One DER element: its tag, its content and what follows it.
    fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, rest) = input.split_first()?;
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            let len = rest[..n]
                .iter()
                .fold(0usize, |acc, b| acc << 8 | usize::from(*b));
            (len, &rest[n..])
        };
        (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
    }

    fn elements(mut input: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
        std::iter::from_fn(move || {
            let (tag, content, rest) = element(input)?;
            input = rest;
            Some((tag, content))
        })
    }

    /// The usages (OIDs' contents) of the extKeyUsage extension: `Ok(None)` without one,
    /// `Err` when the certificate cannot be read that far.
    fn usages(der: &[u8]) -> Result<Option<Vec<&[u8]>>, ()> {
        let (_, certificate, _) = element(der).ok_or(())?;
        let (_, tbs, _) = element(certificate).ok_or(())?;
        // [3] EXPLICIT Extensions, after the fields before it.
        let Some((_, extensions)) = elements(tbs).find(|(tag, _)| *tag == 0xa3) else {
            return Ok(None);
        };
        let (_, list, _) = element(extensions).ok_or(())?;
        for (_, extension) in elements(list) {
            let mut parts = elements(extension);
            let (_, oid) = parts.next().ok_or(())?;
            if oid != EXT_KEY_USAGE {
                continue;
            }
            let (_, value) = parts.find(|(tag, _)| *tag == 0x04).ok_or(())?;
            let (_, sequence, _) = element(value).ok_or(())?;
            return Ok(Some(elements(sequence).map(|(_, oid)| oid).collect()));
        }
        Ok(None)
    }

    /// Go's rule: no extended key usage, any, or serverAuth among them.
    pub fn allows_server_auth(der: &[u8]) -> bool {
        match usages(der) {
            Ok(None) => true,
            Ok(Some(usages)) => usages.iter().any(|oid| *oid == SERVER_AUTH || *oid == ANY),
            Err(()) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
        KeyUsagePurpose,
    };

    /// What kopf's `build_certificate` makes: self-signed, `CA:TRUE`, the names as SANs.
    fn kopf_like(names: &[&str], ekus: Vec<ExtendedKeyUsagePurpose>) -> CertificateDer<'static> {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
        ];
        params.extended_key_usages = ekus;
        params.self_signed(&key).unwrap().der().clone()
    }

    fn verifier(bundle: &[&CertificateDer<'static>]) -> BundleVerifier {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        BundleVerifier::new(bundle.iter().map(|c| (*c).clone()).collect(), provider).unwrap()
    }

    fn verify(
        verifier: &BundleVerifier,
        cert: &CertificateDer<'_>,
        name: &str,
    ) -> Result<(), Error> {
        let name = ServerName::try_from(name.to_string()).unwrap();
        verifier
            .verify_server_cert(cert, &[], &name, &[], UnixTime::now())
            .map(|_| ())
    }

    const BOTH: fn() -> Vec<ExtendedKeyUsagePurpose> = || {
        vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ]
    };

    #[test]
    fn a_self_signed_ca_in_the_bundle_is_accepted_as_the_servers_certificate() {
        let cert = kopf_like(&["127.0.0.1", "localhost"], BOTH());
        let trusting = verifier(&[&cert]);
        verify(&trusting, &cert, "127.0.0.1").unwrap();
        verify(&trusting, &cert, "localhost").unwrap();
        // Go's other checks still apply: the name,
        let err = verify(&trusting, &cert, "elsewhere.example").unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidCertificate(
                    CertificateError::NotValidForNameContext { .. }
                        | CertificateError::NotValidForName
                )
            ),
            "{err:?}"
        );
        // and the purpose.
        let client_only = kopf_like(&["127.0.0.1"], vec![ExtendedKeyUsagePurpose::ClientAuth]);
        let err = verify(&verifier(&[&client_only]), &client_only, "127.0.0.1").unwrap_err();
        assert_eq!(
            err,
            Error::InvalidCertificate(CertificateError::InvalidPurpose)
        );
        let any = kopf_like(&["127.0.0.1"], vec![]);
        verify(&verifier(&[&any]), &any, "127.0.0.1").unwrap();
    }

    #[test]
    fn only_that_very_certificate_is_accepted_otherwise_webpki_decides() {
        let cert = kopf_like(&["127.0.0.1"], BOTH());
        let other = kopf_like(&["127.0.0.1"], BOTH());
        let err = verify(&verifier(&[&other]), &cert, "127.0.0.1").unwrap_err();
        assert!(ca_used_as_end_entity(&err), "{err:?}");

        // A CA-flagged certificate issued by the bundle's CA (not in it) stays refused,
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap().der().clone();
        let issuer = Issuer::new(ca_params, &ca_key);
        let issue = |is_ca: IsCa| {
            let mut params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
            params.is_ca = is_ca;
            params.extended_key_usages = BOTH();
            params
                .signed_by(&KeyPair::generate().unwrap(), &issuer)
                .unwrap()
                .der()
                .clone()
        };
        let trusting_ca = verifier(&[&ca]);
        let sub_ca = issue(IsCa::Ca(BasicConstraints::Unconstrained));
        assert!(ca_used_as_end_entity(
            &verify(&trusting_ca, &sub_ca, "127.0.0.1").unwrap_err()
        ));
        // while an ordinary serving certificate passes as ever.
        verify(&trusting_ca, &issue(IsCa::ExplicitNoCa), "127.0.0.1").unwrap();
    }

    #[test]
    fn extended_key_usages_are_read_from_the_der() {
        let cert = kopf_like(&["a.example"], BOTH());
        let usages = eku::usages_of(cert.as_ref()).unwrap().unwrap();
        assert_eq!(usages.len(), 2);
        assert_eq!(
            eku::usages_of(kopf_like(&["a.example"], vec![]).as_ref()),
            Ok(None)
        );
        assert!(eku::usages_of(b"\x30\x03garbage").is_err());
        assert!(!eku::allows_server_auth(b"not a certificate"));
    }
}
