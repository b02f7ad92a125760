//! The operator of the replica tests: its create handler prints when it starts and ends,
//! with the replica's POD_ID and the wall clock in milliseconds, so that the test can see
//! who handled what and that no two replicas handled at the same time.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
}

#[kopf::on::create("kopf.dev", "v1", "kopfexamples")]
async fn create_fn(name: kopf::Name) -> kopf::Result<kopf::serde_json::Value> {
    let pod = std::env::var("POD_ID").unwrap_or_default();
    println!("HANDLED {} BY {pod} START {}", name.0, now_ms());
    let sleep_ms = std::env::var("HANDLER_SLEEP_MS").ok().and_then(|ms| ms.parse().ok());
    kopf::tokio::time::sleep(Duration::from_millis(sleep_ms.unwrap_or(20))).await;
    println!("HANDLED {} BY {pod} END {}", name.0, now_ms());
    Ok(kopf::serde_json::json!({"by": pod}))
}
