//! kopf's example 13-hooks: the operator's activities. Two startup handlers (one retried
//! until it succeeds), a cleanup handler that stops the background tasks, a login handler
//! whose credentials expire every 30 seconds (so it runs again), two probes for the
//! liveness endpoint, and a background task per pod started from an event handler.
//!
//! ```sh
//! kopf run examples/13-hooks/hooks.rs --verbose --embedded --liveness http://127.0.0.1:8080/healthz
//! curl http://127.0.0.1:8080/healthz
//! ```

use kopf::tokio;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::sync::{Mutex, watch};

/// A stop flag per pod, by namespace and name.
type Stoppers = BTreeMap<String, BTreeMap<String, watch::Sender<bool>>>;

/// Created by the first startup handler: the handlers below rely on it.
static STOPPERS: OnceLock<Mutex<Stoppers>> = OnceLock::new();

async fn stoppers() -> tokio::sync::MutexGuard<'static, Stoppers> {
    STOPPERS.get_or_init(Mutex::default).lock().await
}

#[kopf::on::startup]
async fn startup_fn_simple(logger: kopf::Logger) {
    logger.info("Initialising the task-lock...");
    let _ = STOPPERS.set(Mutex::default());
}

#[kopf::on::startup]
async fn startup_fn_retried(retry: kopf::Retry, logger: kopf::Logger) -> kopf::Result<()> {
    if *retry < 3 {
        let message = format!("Going to succeed in {}s", 3 - *retry);
        return Err(kopf::TemporaryError::new(message).with_delay(1.0))?;
    }
    logger.info("Starting retried...");
    Ok(())
}

#[kopf::on::cleanup]
async fn cleanup_fn(logger: kopf::Logger) {
    logger.info("Cleaning up...");
    for flags in stoppers().await.values() {
        for flag in flags.values() {
            let _ = flag.send(true);
        }
    }
    logger.info("All pod-tasks are requested to stop...");
}

#[kopf::on::login(errors = kopf::Errors::Permanent)]
async fn login_fn() -> kopf::Result<kopf::ConnectionInfo> {
    println!("Logging in in 2s...");
    tokio::time::sleep(Duration::from_secs(2)).await;
    // The kubeconfig's connection, as kopf's built-in login would use it.
    let info = kopf::ConnectionInfo::from_kubeconfig()?;
    Ok(info.expiring_in(Duration::from_secs(30)))
}

#[kopf::on::probe]
async fn tasks_count() -> kopf::Result<usize> {
    Ok(stoppers().await.values().map(BTreeMap::len).sum())
}

#[kopf::on::probe]
async fn monitored_objects() -> kopf::Result<BTreeMap<String, Vec<String>>> {
    let stoppers = stoppers().await;
    Ok(stoppers
        .iter()
        .map(|(namespace, flags)| (namespace.clone(), flags.keys().cloned().collect()))
        .collect())
}

#[kopf::on::event("pods")]
async fn pod_task(namespace: kopf::Namespace, name: kopf::Name, logger: kopf::Logger) {
    let mut stoppers = stoppers().await;
    let flags = stoppers.entry(namespace.to_string()).or_default();
    if !flags.contains_key(name.as_str()) {
        let (flag, should_stop) = watch::channel(false);
        flags.insert(name.to_string(), flag);
        tokio::spawn(task_fn(logger, should_stop));
    }
}

async fn task_fn(logger: kopf::Logger, mut should_stop: watch::Receiver<bool>) {
    while !*should_stop.borrow() {
        let seconds = 1 + jitter() % 10;
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(seconds)) => {}
            _ = should_stop.changed() => {}
        }
        logger.info("Served by the background task.");
    }
    logger.info("Serving is finished by request.");
}

/// Some variety for the demo, without a random-number crate.
fn jitter() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()))
}
