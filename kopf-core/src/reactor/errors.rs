//! Why an operator could not start or stopped serving.

use crate::clients::client::NoCluster;
use crate::clients::watching::WatchError;
use crate::engines::activities::ActivityError;
use crate::engines::authenticating::AuthenticationError;
use crate::engines::probing::LivenessError;
use crate::engines::webhook_configs::ConfigurationError;
use crate::engines::webhooks::WebhookServerError;

#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("Either --namespace or --all-namespaces can be used, not both.")]
    NamespaceFlags,
    #[error(transparent)]
    NoCluster(#[from] NoCluster),
    #[error(
        "the operator has no handlers: annotate functions with #[kopf::on::create(\"…\")] and friends"
    )]
    NoHandlers,
    #[error(
        "None of the handled resources is served by the cluster: {0}. \
         Create their CustomResourceDefinitions first (e.g. `kubectl apply -f crd.yaml`)."
    )]
    NothingToServe(String),
    #[error(transparent)]
    Watch(#[from] WatchError),
    #[error("Startup activity has failed: {0}")]
    Startup(ActivityError),
    #[error(transparent)]
    Authentication(#[from] AuthenticationError),
    #[error(transparent)]
    Liveness(#[from] LivenessError),
    /// Admission handlers that cannot be served.
    #[error("{0}")]
    Admission(String),
    #[error(transparent)]
    WebhookServer(#[from] WebhookServerError),
    #[error(transparent)]
    WebhookConfiguration(#[from] ConfigurationError),
    /// Settings that kopf refuses (e.g. an annotations storage without a prefix).
    #[error("{0}")]
    Settings(String),
}
