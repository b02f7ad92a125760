//! The walkthrough's operator grown by an update and a delete handler, for the
//! end-to-end story: creation, restart, re-creation, update with a diff, and a delete
//! handler that fails once and holds the finalizer until it succeeds.

#[kopf::on::create("ephemeralvolumeclaims")]
async fn create_fn(body: kopf::Body) -> kopf::Result<()> {
    println!("A handler is called with body: {body}");
    Ok(())
}

#[kopf::on::update("ephemeralvolumeclaims")]
async fn update_fn(diff: kopf::Diff, logger: kopf::Logger) -> kopf::Result<()> {
    logger.info(format!("update_fn got the diff: {diff}"));
    Ok(())
}

#[kopf::on::delete("ephemeralvolumeclaims")]
async fn delete_fn(retry: kopf::Retry) -> kopf::Result<()> {
    if *retry == 0 {
        return Err(kopf::TemporaryError::new("not yet, the volume is still in use").with_delay(1.0).into());
    }
    Ok(())
}
