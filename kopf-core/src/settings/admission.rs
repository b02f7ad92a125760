//! `settings.admission`: where admission reviews are received (kopf's
//! `settings.admission.server = kopf.WebhookServer(…)`) and whether the operator keeps the
//! webhook configurations in the cluster itself (`settings.admission.managed = NAME`).

use std::path::PathBuf;

/// `settings.admission`.
#[derive(Clone, Debug, Default)]
pub struct AdmissionSettings {
    /// The webhook server to run; admission handlers without one stop the operator at
    /// start with kopf's hint, as kopf does.
    pub server: Option<WebhookServer>,
    /// The name of the `ValidatingWebhookConfiguration` and `MutatingWebhookConfiguration`
    /// the operator creates and keeps current (needs `create` and `patch` on them); `None`
    /// leaves the configurations to the user.
    pub managed: Option<String>,
}

/// kopf's `WebhookServer`: an HTTPS endpoint for the API server to call.
///
/// Without certificate files, a CA and a serving certificate for `host`, the accessible
/// address and `extra_sans` are generated at start; the CA is what webhook configurations
/// carry as `caBundle`. There is no plain-HTTP mode (kopf's `insecure=True`): Kubernetes
/// only calls webhooks over HTTPS, and tunnels that needed it are out of scope.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WebhookServer {
    /// Where to listen; `None` means all interfaces (as kopf).
    pub addr: Option<String>,
    /// Where to listen; `None` picks a free port.
    pub port: Option<u16>,
    /// A root path before the handler ids (`/hooks` → `https://…/hooks/<id>`).
    pub path: Option<String>,
    /// The host name in the webhooks' URLs (and the certificate's first name); by default,
    /// the listening address, or `localhost` when listening on all interfaces.
    pub host: Option<String>,
    /// The CA bundle (PEM) to give the API server, when the certificate files are given
    /// and not self-signed; otherwise the certificate file itself is given.
    pub cafile: Option<PathBuf>,
    /// The server's certificate chain (PEM); with `pkeyfile`, nothing is generated.
    pub certfile: Option<PathBuf>,
    /// The server's private key (PEM).
    pub pkeyfile: Option<PathBuf>,
    /// Where to write the CA bundle, e.g. for `curl --cacert`.
    pub cadump: Option<PathBuf>,
    /// More names (DNS or IP) for the generated certificate.
    pub extra_sans: Vec<String>,
}

impl WebhookServer {
    /// A server with kopf's defaults: all interfaces, a free port, a generated certificate.
    pub fn new() -> Self {
        WebhookServer::default()
    }

    /// kopf's `WebhookAutoServer` for local development: HTTPS on the loopback address on a
    /// free port, with a generated certificate; the API server must run on this machine
    /// (e.g. `kopf run --embedded`). Cluster detection (k3d, minikube) is not done.
    pub fn auto() -> Self {
        WebhookServer {
            addr: Some("127.0.0.1".into()),
            ..WebhookServer::default()
        }
    }

    pub fn addr(mut self, addr: impl Into<String>) -> Self {
        self.addr = Some(addr.into());
        self
    }

    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// Serve with these files instead of a generated certificate.
    pub fn certificate(
        mut self,
        certfile: impl Into<PathBuf>,
        pkeyfile: impl Into<PathBuf>,
    ) -> Self {
        self.certfile = Some(certfile.into());
        self.pkeyfile = Some(pkeyfile.into());
        self
    }

    pub fn cafile(mut self, cafile: impl Into<PathBuf>) -> Self {
        self.cafile = Some(cafile.into());
        self
    }

    pub fn cadump(mut self, cadump: impl Into<PathBuf>) -> Self {
        self.cadump = Some(cadump.into());
        self
    }

    pub fn extra_sans<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.extra_sans = names.into_iter().map(Into::into).collect();
        self
    }
}
