//! Credentials that can be replaced while the operator runs: every client shares one
//! vault; an answer 401 invalidates the credentials in use, the operator's login handlers
//! run again (kopf's re-authentication), and later requests use what they return.

use crate::clients::client::Stack;
use futures::future::BoxFuture;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::sync::watch;
use tower::{BoxError, Service, ServiceExt};

/// The current credentials' request stack and its generation.
pub struct Vault {
    current: Mutex<(u64, Stack)>,
    /// The generation found invalid, until new credentials replace it.
    invalid: watch::Sender<Option<u64>>,
}

impl Vault {
    pub fn new(stack: Stack) -> Arc<Vault> {
        Arc::new(Vault {
            current: Mutex::new((0, stack)),
            invalid: watch::channel(None).0,
        })
    }

    /// A client whose every request goes through this vault's current credentials.
    pub fn client(self: &Arc<Self>, default_namespace: String) -> kube::Client {
        kube::Client::new(VaultService(self.clone()), default_namespace)
    }

    fn current(&self) -> (u64, Stack) {
        let current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        (current.0, current.1.clone())
    }

    /// The credentials of `generation` were refused; later refusals of the same ones
    /// change nothing.
    fn invalidate(&self, generation: u64) {
        let current = self.current.lock().unwrap_or_else(|p| p.into_inner()).0;
        if current == generation {
            self.invalid.send_if_modified(|invalid| {
                let changed = invalid.is_none();
                *invalid = Some(generation);
                changed
            });
        }
    }

    /// Resolves once the credentials in use have been refused.
    pub async fn invalidated(&self) {
        let mut invalid = self.invalid.subscribe();
        let _ = invalid.wait_for(Option::is_some).await;
    }

    /// New credentials: requests from now on use them.
    pub fn replace(&self, stack: Stack) {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        *current = (current.0 + 1, stack);
        self.invalid.send_replace(None);
    }
}

/// The tower service of a vault's clients.
#[derive(Clone)]
struct VaultService(Arc<Vault>);

impl Service<http::Request<kube::client::Body>> for VaultService {
    type Response = http::Response<hyper::body::Incoming>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<kube::client::Body>) -> Self::Future {
        let vault = self.0.clone();
        Box::pin(async move {
            let (generation, stack) = vault.current();
            let response = stack.oneshot(request).await?;
            if response.status() == http::StatusCode::UNAUTHORIZED {
                vault.invalidate(generation);
            }
            Ok(response)
        })
    }
}
