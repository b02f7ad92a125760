//! The operator of the graceful-stop test: its create handler sleeps as long as the
//! object's `spec.sleep` says, then returns what it did.

use std::time::Duration;

#[kopf::on::create("kopf.dev", "v1", "kopfexamples")]
async fn create_fn(spec: kopf::Spec) -> kopf::Result<kopf::serde_json::Value> {
    let seconds = spec["sleep"].as_f64().unwrap_or(0.0);
    kopf::tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    Ok(kopf::serde_json::json!({"slept": seconds}))
}
