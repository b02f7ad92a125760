// Daemons and timers with kopf's options and the arguments spawning handlers take.
use std::time::Duration;

#[kopf::daemon(
    "kopfexamples",
    id = "watcher",
    initial_delay = 1,
    cancellation_backoff = 1.5,
    cancellation_timeout = 10,
    cancellation_polling = 5,
    retries = 3,
    backoff = 2,
    labels = {"app": kopf::PRESENT},
    param = "x"
)]
async fn async_daemon(
    stopped: kopf::Stopped,
    retry: kopf::Retry,
    logger: kopf::Logger,
    param: kopf::Param<String>,
) -> kopf::Result<()> {
    while !stopped.wait_timeout(Duration::from_secs(1)).await {
        logger.info(format!("attempt {} with {}", *retry, *param));
    }
    Ok(())
}

#[kopf::daemon("v1", "pods")]
fn plain_daemon(stopped: kopf::Stopped, name: kopf::Name) {
    while !stopped.wait_blocking(Duration::from_secs(1)) {
        println!("{name}");
    }
}

#[kopf::timer("kopfexamples", interval = 60, initial_delay = 5, idle = 10, sharp = true)]
async fn timer_fn(spec: kopf::Spec, runtime: kopf::Runtime) -> kopf::Result<kopf::serde_json::Value> {
    Ok(kopf::serde_json::json!({"spec": *spec, "runtime": runtime.as_secs()}))
}

fn main() {}
