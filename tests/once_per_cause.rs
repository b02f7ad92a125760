//! One function under several attributes runs once per cause (kopf's deduplication), run
//! in-process by `kopf::Operator` against the embedded API server: an update found at a
//! restart is both an update and a resume, and an event matched by two spellings of one
//! resource is one event.

use kopf_test_support::{KEX, TestServer, create_crd, kex, merge, poll_until};
use serde_json::json;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::oneshot;

const DEADLINE: Duration = Duration::from_secs(30);

static CALLS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn call(what: String) {
    CALLS.lock().unwrap_or_else(|p| p.into_inner()).push(what);
}

fn calls(prefix: &str) -> Vec<String> {
    CALLS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter(|c| c.starts_with(prefix))
        .cloned()
        .collect()
}

#[kopf::on::create("kopfexamples", labels = {"test": "once"})]
#[kopf::on::update("kopfexamples", labels = {"test": "once"})]
#[kopf::on::resume("kopfexamples", labels = {"test": "once"})]
async fn changed(name: kopf::Name, reason: kopf::Reason) {
    call(format!("changed {} {reason}", *name));
}

#[kopf::on::event("kopfexamples", labels = {"test": "event"})]
#[kopf::on::event("kopf.dev", "v1", "kopfexamples", labels = {"test": "event"})]
async fn evented(name: kopf::Name, event_type: kopf::EventType) {
    call(format!("event {} {event_type}", *name));
}

/// Runs the linked handlers until the returned sender is used or dropped.
async fn operator(
    ts: &TestServer,
) -> (
    oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), kopf::OperatorError>>,
) {
    let config = kopf_test_support::config_for(&ts.server.kubeconfig()).await;
    let client = kube::Client::try_from(config).expect("a client");
    let (stop, stopped) = oneshot::channel::<()>();
    let registry = kopf::Registry::linked().expect("no duplicates");
    let task = tokio::spawn(
        kopf::Operator::new(registry)
            .client(client)
            .cluster_wide()
            .run(async move {
                let _ = stopped.await;
            }),
    );
    (stop, task)
}

async fn stop(
    running: (
        oneshot::Sender<()>,
        tokio::task::JoinHandle<Result<(), kopf::OperatorError>>,
    ),
) {
    let (stop, task) = running;
    let _ = stop.send(());
    let result = tokio::time::timeout(DEADLINE, task)
        .await
        .expect("stops in time")
        .expect("no panic");
    assert!(result.is_ok(), "{result:?}");
}

async fn until(prefix: &str, count: usize) -> Vec<String> {
    poll_until(DEADLINE, || async {
        let seen = calls(prefix);
        (seen.len() >= count).then_some(seen)
    })
    .await
    .unwrap_or_else(|| panic!("{count} calls of {prefix}: {:?}", calls(prefix)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_found_at_a_restart_runs_a_create_update_resume_function_once() {
    let ts = kopf_test_support::start().await;
    create_crd(&ts).await;
    let first = operator(&ts).await;
    kex(
        &ts,
        json!({"metadata": {"name": "kex-once", "labels": {"test": "once"}}, "spec": {"a": 1}}),
    )
    .await;
    assert_eq!(until("changed", 1).await, ["changed kex-once create"]);
    // Handled for good: the diff-base is stored once the cause is done.
    poll_until(DEADLINE, || async {
        let (_, object) = merge(&ts, &format!("{KEX}/kex-once"), json!({})).await;
        object
            .pointer("/metadata/annotations/kopf.zalando.org~1last-handled-configuration")
            .map(|_| ())
    })
    .await
    .expect("the diff-base is stored");
    stop(first).await;

    // Changed while no operator runs: at the restart, both an update and a resume.
    merge(&ts, &format!("{KEX}/kex-once"), json!({"spec": {"a": 2}})).await;
    let second = operator(&ts).await;
    assert_eq!(
        until("changed", 2).await,
        ["changed kex-once create", "changed kex-once update"]
    );
    stop(second).await;
    assert_eq!(calls("changed").len(), 2, "{:?}", calls("changed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_event_matched_by_two_spellings_of_a_resource_runs_the_function_once() {
    let ts = kopf_test_support::start().await;
    create_crd(&ts).await;
    let running = operator(&ts).await;
    kex(
        &ts,
        json!({"metadata": {"name": "kex-event", "labels": {"test": "event"}}, "spec": {}}),
    )
    .await;
    until("event kex-event", 1).await;
    merge(&ts, &format!("{KEX}/kex-event"), json!({"spec": {"b": 1}})).await;
    until("event kex-event MODIFIED", 1).await;
    stop(running).await;
    // Listed (None) or ADDED, depending on whether the listing saw it; then MODIFIED.
    let seen = calls("event kex-event");
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        ["event kex-event ADDED", "event kex-event None"].contains(&seen[0].as_str()),
        "{seen:?}"
    );
    assert_eq!(seen[1], "event kex-event MODIFIED");
}
