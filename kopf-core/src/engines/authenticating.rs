//! Logging in, as kopf does: with `on.login` handlers, their best connection info (the
//! highest priority), and again whenever the API answers 401; without, the built-in way
//! (KUBECONFIG, `~/.kube/config`, the in-cluster service account).

use crate::clients::client::{self, NoCluster};
use crate::clients::vault::Vault;
use crate::engines::activities::{ActivityContext, ActivityError};
use crate::intents::causes::ActivityKind;
use crate::structs::credentials::{ConnectionInfo, LoginError};
use jiff::Timestamp;
use std::sync::Arc;
use std::time::Duration;

const TARGET: &str = "kopf._core.engines.activities";

/// Why the operator could not log in.
#[derive(Debug, thiserror::Error)]
pub enum AuthenticationError {
    #[error(transparent)]
    NoCluster(#[from] NoCluster),
    #[error("the login activity failed: {0}")]
    Activity(#[from] ActivityError),
    #[error(
        "no credentials were retrieved from the login handlers: return a kopf::ConnectionInfo from an #[kopf::on::login] handler"
    )]
    NoCredentials,
    #[error(transparent)]
    Unusable(#[from] LoginError),
    #[error("the login handlers' connection info is not usable: {0}")]
    Client(#[from] kube::Error),
}

/// A logged-in client; with login handlers, also the task that logs in again on 401.
pub struct Authenticated {
    pub client: kube::Client,
    reauthenticator: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Authenticated {
    fn drop(&mut self) {
        if let Some(task) = &self.reauthenticator {
            task.abort();
        }
    }
}

/// Logs in for the first time.
pub async fn authenticate(context: &ActivityContext) -> Result<Authenticated, AuthenticationError> {
    if context
        .registry
        .activities(ActivityKind::Authentication)
        .is_empty()
    {
        // As Python kopf does with its fallback login handlers.
        tracing::info!(target: TARGET, "Initial authentication has been initiated.");
        let (client, login) = client::connect_as_kopf_would().await?;
        let logger =
            crate::logging::ObjectLogger::for_activity(ActivityKind::Authentication.as_str());
        logger.info(format_args!("Activity '{login}' succeeded."));
        tracing::info!(target: TARGET, "Initial authentication has finished.");
        return Ok(Authenticated {
            client,
            reauthenticator: None,
        });
    }
    tracing::info!(target: TARGET, "Initial authentication has been initiated.");
    let (config, expiration) = login(context, "Initial authentication").await?;
    tracing::info!(target: TARGET, "Initial authentication has finished.");
    let vault = Vault::new(client::stack(&config)?);
    let client = vault.client(config.default_namespace.clone());
    let task = tokio::spawn(crate::logging::in_current_dispatch(reauthenticate(
        context.clone(),
        vault,
        expiration,
    )));
    Ok(Authenticated {
        client,
        reauthenticator: Some(task),
    })
}

/// Runs the login handlers and turns the best connection info into a configuration,
/// with when it expires.
async fn login(
    context: &ActivityContext,
    title: &str,
) -> Result<(kube::Config, Option<Timestamp>), AuthenticationError> {
    let results = context.run(ActivityKind::Authentication).await?;
    let best = results
        .into_values()
        .filter_map(|value| serde_json::from_value::<ConnectionInfo>(value).ok())
        .filter(|info| !info.server.is_empty())
        .max_by_key(|info| info.priority);
    let Some(info) = best else {
        tracing::warn!(
            target: TARGET,
            "{title} has failed: no credentials were retrieved from the login handlers."
        );
        return Err(AuthenticationError::NoCredentials);
    };
    Ok((info.to_config().await?, info.expiration))
}

/// Resolves when the credentials expire (never, without an expiration).
async fn expiry(expiration: Option<Timestamp>) {
    match expiration {
        Some(at) => {
            let left = Timestamp::now().duration_until(at);
            tokio::time::sleep(Duration::try_from(left).unwrap_or_default()).await;
        }
        None => std::future::pending().await,
    }
}

/// Whenever the credentials in use are refused or expire, logs in again; failures are retried with
/// a growing pause, the clients meanwhile failing (and retrying) with 401.
async fn reauthenticate(
    context: ActivityContext,
    vault: Arc<Vault>,
    mut expiration: Option<Timestamp>,
) {
    let mut pause = Duration::from_secs(1);
    loop {
        tokio::select! {
            _ = vault.invalidated() => {}
            _ = expiry(expiration) => {}
        }
        tracing::info!(target: TARGET, "Re-authentication has been initiated.");
        let result = match login(&context, "Re-authentication").await {
            Ok((config, expires)) => client::stack(&config)
                .map(|stack| (stack, expires))
                .map_err(AuthenticationError::from),
            Err(err) => Err(err),
        };
        match result {
            Ok((stack, expires)) => {
                expiration = expires;
                vault.replace(stack);
                tracing::info!(target: TARGET, "Re-authentication has finished.");
                pause = Duration::from_secs(1);
            }
            Err(err) => {
                tracing::warn!(target: TARGET, "Re-authentication has failed: {err}");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(60));
            }
        }
    }
}
