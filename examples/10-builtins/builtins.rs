//! kopf's example 10-builtins: handlers for a built-in resource (pods). A pod in sight
//! (created, or found at start) gets a background task that would delete it after 30
//! seconds; the task is cancelled when the pod is deleted first.
//!
//! ```sh
//! kopf run examples/10-builtins/builtins.rs --verbose --embedded
//! ```

use kopf::k8s_openapi::api::core::v1::Pod;
use kopf::kube::api::{Api, DeleteParams};
use kopf::tokio;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// The killers of the pods in sight, by namespace and name.
static TASKS: Mutex<BTreeMap<(String, String), tokio::task::AbortHandle>> =
    Mutex::new(BTreeMap::new());

#[kopf::on::resume("pods")]
#[kopf::on::create("pods")]
async fn pod_in_sight(
    namespace: kopf::Namespace,
    name: kopf::Name,
    logger: kopf::Logger,
    client: kopf::kube::Client,
) {
    let namespace = namespace.to_string();
    if namespace.starts_with("kube-") {
        return;
    }
    let key = (namespace.clone(), name.to_string());
    let task = tokio::spawn(pod_killer(client, key.clone(), logger, Duration::from_secs(30)));
    TASKS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, task.abort_handle());
}

#[kopf::on::delete("pods")]
async fn pod_deleted(namespace: kopf::Namespace, name: kopf::Name, logger: kopf::Logger) {
    let key = (namespace.to_string(), name.to_string());
    let task = TASKS.lock().unwrap_or_else(|p| p.into_inner()).remove(&key);
    if let Some(task) = task {
        task.abort();
        // Aborting drops the task's future: say it here, as kopf's task says on cancellation.
        logger.info("=== Pod killing is cancelled!");
    }
}

async fn pod_killer(
    client: kopf::kube::Client,
    (namespace, name): (String, String),
    logger: kopf::Logger,
    timeout: Duration,
) {
    logger.info(format!("=== Pod killing happens in {}s.", timeout.as_secs()));
    tokio::time::sleep(timeout).await;
    logger.info("=== Pod killing happens NOW!");
    let pods: Api<Pod> = Api::namespaced(client, &namespace);
    if let Err(err) = pods.delete(&name, &DeleteParams::default()).await {
        logger.warning(format!("The pod could not be deleted: {err}"));
    }
    TASKS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&(namespace, name));
}
