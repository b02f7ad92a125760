//! Why an operator could not start or stopped serving.

use crate::clients::client::NoCluster;
use crate::clients::watching::WatchError;

#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("Either --namespace or --all-namespaces can be used, not both.")]
    NamespaceFlags,
    #[error(transparent)]
    NoCluster(#[from] NoCluster),
    #[error("cannot talk to the cluster at {url}: {source}")]
    Discovery { url: String, source: kube::Error },
    #[error(
        "the operator has no handlers: annotate functions with #[kopf::on::create(\"…\")] and friends"
    )]
    NoHandlers,
    #[error(
        "none of the handled resources is served by the cluster: {0}\n\
         Create their CustomResourceDefinitions first (e.g. `kubectl apply -f crd.yaml`)."
    )]
    NothingToServe(String),
    #[error(transparent)]
    Watch(#[from] WatchError),
}
