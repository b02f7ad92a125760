//! Two creation handlers; the second takes `SLOW_FN_SECONDS` (0 when unset).

#[kopf::on::create("ephemeralvolumeclaims")]
async fn quick_fn() -> kopf::Result<()> {
    Ok(())
}

#[kopf::on::create("ephemeralvolumeclaims")]
async fn slow_fn() -> kopf::Result<()> {
    let seconds = std::env::var("SLOW_FN_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    kopf::tokio::time::sleep(std::time::Duration::from_secs(seconds)).await;
    Ok(())
}
