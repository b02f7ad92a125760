//! Admission in a running operator: the webhook server started once the cluster is
//! known (with the resources the admission handlers select), the managed webhook
//! configurations put in place, and at exit reduced to the persistent webhooks before the
//! server stops.

use crate::clients::discovery;
use crate::engines::admission::AdmissionContext;
use crate::engines::webhook_configs::{self, build_webhooks};
use crate::engines::webhooks::{self, RunningWebhookServer};
use crate::intents::families::WebhookType;
use crate::intents::registry::Registry;
use crate::reactor::errors::OperatorError;
use crate::reactor::observation;
use crate::settings::Settings;
use crate::structs::resource::{Resource, Selector};
use crate::structs::shared::OperatorShared;
use std::sync::Arc;

const TARGET: &str = "kopf._core.engines.admission";

/// kopf's refusal to run admission handlers that nothing can call.
pub const NO_SERVER: &str = "Admission handlers exist, but no admission server/tunnel is configured in `settings.admission.server`. More: https://docs.kopf.dev/en/stable/admission/";

/// The running webhook server and what its exit must undo.
pub struct Admitting {
    server: RunningWebhookServer,
    client: kube::Client,
    context: Arc<AdmissionContext>,
    managed: Option<String>,
}

/// Starts the webhook server when one is configured (refusing admission handlers without
/// one) and puts the managed configurations in place.
pub async fn start(
    client: &kube::Client,
    registry: &Registry,
    settings: &Settings,
    shared: &OperatorShared,
) -> Result<Option<Admitting>, OperatorError> {
    let handlers = registry.admission().to_vec();
    let Some(server) = &settings.admission.server else {
        if handlers.is_empty() {
            return Ok(None);
        }
        return Err(OperatorError::Admission(NO_SERVER.to_string()));
    };
    let all = discovery::scan(client)
        .await
        .map_err(|err| OperatorError::Admission(format!("Cannot scan the resources: {err}")))?;
    let mut selectors: Vec<Selector> = handlers.iter().map(|h| h.selector.clone()).collect();
    selectors.sort();
    selectors.dedup();
    let resolution = observation::resolve(&selectors, &all);
    let mut resources: Vec<Resource> = Vec::new();
    for resource in resolution.resolved.into_values() {
        if !resources.contains(&resource) {
            resources.push(resource);
        }
    }
    let context = Arc::new(AdmissionContext {
        client: client.clone(),
        handlers,
        resources,
        shared: shared.clone(),
    });
    let running = webhooks::start(server, context.clone()).await?;
    let admitting = Admitting {
        server: running,
        client: client.clone(),
        context,
        managed: settings.admission.managed.clone(),
    };
    admitting.configure(false).await?;
    Ok(Some(admitting))
}

impl Admitting {
    /// The server's URL and CA, as the webhook configurations carry them.
    pub fn client_config(&self) -> serde_json::Value {
        self.server.client_config()
    }

    /// Replaces the managed configurations' webhooks: all of them, or only the persistent.
    async fn configure(&self, persistent_only: bool) -> Result<(), OperatorError> {
        let Some(name) = &self.managed else {
            return Ok(());
        };
        let client_config = self.server.client_config();
        for reason in [WebhookType::Validating, WebhookType::Mutating] {
            if persistent_only {
                tracing::info!(target: TARGET, "Cleaning up the admission webhook {name}.");
            } else {
                tracing::info!(target: TARGET, "Reconfiguring the {} webhook {name}.", reason.as_str());
            }
            let handlers: Vec<_> = self
                .context
                .handlers
                .iter()
                .filter(|h| h.options.reason == reason)
                .cloned()
                .collect();
            let webhooks = build_webhooks(
                &handlers,
                &self.context.resources,
                name,
                &client_config,
                persistent_only,
            );
            webhook_configs::apply(&self.client, reason, name, webhooks).await?;
        }
        Ok(())
    }

    /// Leaves only the persistent webhooks in the managed configurations, then stops the
    /// server.
    pub async fn stop(self) {
        if let Err(err) = self.configure(true).await {
            tracing::error!(target: TARGET, "{err}");
        }
        self.server.stop();
    }
}
