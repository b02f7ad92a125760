//! kopf's example 15-timers: a plain-fn and an async timer, each waiting until the object
//! has been left alone for a while.
//!
//! ```sh
//! kopf run examples/15-timers/timers.rs --verbose --embedded --apply examples/crd.yaml --apply examples/obj.yaml
//! ```

#[kopf::timer("kopfexamples", idle = 5, interval = 2)]
fn every_few_seconds_sync(spec: kopf::Spec, logger: kopf::Logger) {
    logger.info(format!(
        "Ping from a sync timer: field={}",
        kopf::repr(&spec["field"])
    ));
}

#[kopf::timer("kopfexamples", idle = 10, interval = 4)]
async fn every_few_seconds_async(spec: kopf::Spec, logger: kopf::Logger) {
    logger.info(format!(
        "Ping from an async timer: field={}",
        kopf::repr(&spec["field"])
    ));
}
