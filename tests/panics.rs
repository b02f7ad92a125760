//! A handler that panics is a failed attempt: kopf's log line reports it (with the panic's
//! message) and the handler is retried. Rust's own panic report is not printed beside it;
//! panics outside handlers still reach the process's panic hook as before.

use kopf::k8s_openapi::api::core::v1::ConfigMap;
use kopf::testing::{LAST_HANDLED, Runner, Verdict, has_annotation};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

/// Calls of the process's panic hook (set by the test before the operator starts).
static REPORTED: AtomicUsize = AtomicUsize::new(0);
static ASYNC_ATTEMPTS: AtomicUsize = AtomicUsize::new(0);
static SYNC_ATTEMPTS: AtomicUsize = AtomicUsize::new(0);

#[kopf::on::create("configmaps", backoff = 0.2)]
async fn panics_once(name: kopf::Name) {
    if ASYNC_ATTEMPTS.fetch_add(1, Ordering::SeqCst) == 0 {
        panic!("async boom in {}", *name);
    }
}

#[kopf::on::create("configmaps", backoff = 0.2)]
fn panics_once_blocking(name: kopf::Name) {
    if SYNC_ATTEMPTS.fetch_add(1, Ordering::SeqCst) == 0 {
        panic!("sync boom in {}", *name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_is_retried_and_reported_by_kopf_alone() {
    std::panic::set_hook(Box::new(|_| {
        REPORTED.fetch_add(1, Ordering::SeqCst);
    }));
    let runner = Runner::linked().start().await.expect("the operator starts");
    runner
        .apply("{apiVersion: v1, kind: ConfigMap, metadata: {name: demo}, data: {a: b}}")
        .await
        .expect("the ConfigMap is created");
    runner
        .wait_for::<ConfigMap>("default", "demo", has_annotation(LAST_HANDLED), DEADLINE)
        .await
        .expect("both handlers succeed in the end");
    for line in [
        "Handler 'panics_once' failed with an exception and will try again in 0.2 seconds: async boom in demo",
        "Handler 'panics_once_blocking' failed with an exception and will try again in 0.2 seconds: sync boom in demo",
    ] {
        runner.wait_for_log(line, DEADLINE).await.expect(line);
    }
    assert_eq!(runner.count("panics_once", Verdict::Succeeded), 1);
    assert_eq!(runner.count("panics_once_blocking", Verdict::Succeeded), 1);
    assert_eq!(
        REPORTED.load(Ordering::SeqCst),
        0,
        "Rust's report of a handler's panic"
    );
    runner.stop().await.expect("the operator stops");

    let elsewhere = std::panic::catch_unwind(|| panic!("not in a handler"));
    assert!(elsewhere.is_err());
    assert_eq!(
        REPORTED.load(Ordering::SeqCst),
        1,
        "a panic outside handlers is reported"
    );
}
