//! kopf's example 14-daemons: a plain-fn daemon on a blocking thread, which must check
//! `stopped` itself, and an async daemon, which is cancelled after its backoff.
//!
//! ```sh
//! kopf run examples/14-daemons/daemons.rs --verbose --embedded --apply examples/crd.yaml --apply examples/obj.yaml
//! ```

use std::time::{Duration, Instant};

/// Fails three times, then pings for 30 seconds unless stopped earlier.
#[kopf::daemon("kopf.dev", "v1", "kopfexamples", backoff = 3)]
fn background_sync(
    spec: kopf::Spec,
    stopped: kopf::Stopped,
    logger: kopf::Logger,
    retry: kopf::Retry,
    patch: kopf::Patch,
) -> kopf::Result<()> {
    if *retry < 3 {
        patch.set(
            "status.message",
            format!("Failed {} times.", *retry + 1).into(),
        );
        return Err(kopf::TemporaryError::new("Simulated failure.").with_delay(1.0))?;
    }
    let started = Instant::now();
    while !stopped.is_set() && started.elapsed() <= Duration::from_secs(30) {
        logger.info(format!(
            "=> Ping from a sync daemon: field={}, retry={}",
            kopf::repr(&spec["field"]),
            *retry
        ));
        stopped.wait_blocking(Duration::from_secs(5));
    }
    patch.set("status.message", "Accompanying is finished.".into());
    Ok(())
}

/// Fails three times, then pings forever: stopped by cancellation 1 s after the signal.
#[kopf::daemon(
    "kopf.dev", "v1", "kopfexamples",
    backoff = 3,
    cancellation_backoff = 1.0,
    cancellation_timeout = 0.5,
    annotations = {"someannotation": "somevalue"}
)]
async fn background_async(
    spec: kopf::Spec,
    logger: kopf::Logger,
    retry: kopf::Retry,
) -> kopf::Result<()> {
    if *retry < 3 {
        return Err(kopf::TemporaryError::new("Simulated failure.").with_delay(1.0))?;
    }
    loop {
        logger.info(format!(
            "=> Ping from an async daemon: field={}",
            kopf::repr(&spec["field"])
        ));
        kopf::tokio::time::sleep(Duration::from_secs(5)).await;
    }
}
