//! kopf's events (`kopf::event`, `info`, `warn`, `exception`, and the object loggers' lines)
//! posted by a `kopf::Operator` run in-process against the embedded API server.
//!
//! The running operator's event queue is process-wide, so these tests take turns.

use k8s_openapi::api::core::v1::Event;
use kopf_test_support::{TestServer, config_for, create_crd, kex, poll_until};
use kube::api::{Api, ListParams};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::sync::{Mutex, MutexGuard, oneshot};
use tokio::task::JoinHandle;

const DEADLINE: Duration = Duration::from_secs(30);

static TURNS: Mutex<()> = Mutex::const_new(());

async fn turn() -> MutexGuard<'static, ()> {
    TURNS.lock().await
}

/// One of each, in this order.
async fn post_all_four(body: kopf::Body) {
    kopf::info(&body, "SomeReason", "Some message");
    kopf::warn(&body, "WarnReason", "Warn message");
    kopf::exception(&body, "ErrorReason", "Error message");
    kopf::event(&body, "Normal", "EventReason", "Event message");
}

#[kopf::on::create("kopfexamples", labels = {"posting": "sync"})]
fn post_from_a_thread(body: kopf::Body) {
    kopf::info(&body, "FromThread", "posted by a sync handler");
    let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1", "uid": "node-uid"}});
    kopf::warn(&node, "AboutNode", "a cluster-scoped object");
}

struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), kopf::OperatorError>>,
}

async fn start(ts: &TestServer, registry: kopf::Registry, settings: kopf::Settings) -> Running {
    let client = kube::Client::try_from(config_for(&ts.server.kubeconfig()).await).unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let operator = kopf::Operator::new(registry)
        .settings(settings)
        .client(client)
        .cluster_wide();
    let task = tokio::spawn(operator.run(async move {
        let _ = stopped.await;
    }));
    Running { stop, task }
}

async fn stop(running: Running) {
    drop(running.stop);
    let ended = tokio::time::timeout(DEADLINE, running.task).await;
    assert!(ended.expect("stops in time").expect("no panic").is_ok());
}

/// The events about the object with this uid, in the order they were posted.
async fn events_about(ts: &TestServer, uid: &str) -> Vec<Event> {
    let api: Api<Event> = Api::all(ts.client.clone());
    // While faults are injected, the listing fails too: then nothing is seen yet.
    let listed = api.list(&ListParams::default()).await;
    let mut events: Vec<Event> = listed
        .map(|list| list.items)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.involved_object.uid.as_deref() == Some(uid))
        .collect();
    let version = |e: &Event| {
        let rv = e.metadata.resource_version.as_deref().unwrap_or("0");
        rv.parse::<u64>().unwrap_or(0)
    };
    events.sort_by_key(version);
    events
}

/// Waits until an event with this reason is about the object; returns all about it.
async fn wait_for_reason(ts: &TestServer, uid: &str, reason: &str) -> Vec<Event> {
    let found = poll_until(DEADLINE, || async {
        let events = events_about(ts, uid).await;
        let has = events.iter().any(|e| e.reason.as_deref() == Some(reason));
        has.then_some(events)
    });
    match found.await {
        Some(events) => events,
        None => panic!(
            "no event {reason}; there are: {:?}",
            reasons(&events_about(ts, uid).await)
        ),
    }
}

fn reasons(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| e.reason.clone().unwrap_or_default())
        .collect()
}

async fn example(ts: &TestServer, name: &str, labels: Value) -> String {
    let body = json!({"apiVersion": "kopf.dev/v1", "kind": "KopfExample",
                      "metadata": {"name": name, "labels": labels}, "spec": {}});
    let created = kex(ts, body).await;
    created["metadata"]["uid"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_from_a_handler_are_posted_in_order_with_kopfs_fields() {
    let _turn = turn().await;
    let ts = kopf_test_support::start().await;
    create_crd(&ts).await;
    let registry = kopf::Registry::new().on_create("kopfexamples", post_all_four);
    let running = start(&ts, registry, kopf::Settings::default()).await;
    ts.server.control().record_requests(true);
    let uid = example(&ts, "kex-g", json!({})).await;

    let events = wait_for_reason(&ts, &uid, "EventReason").await;
    assert_eq!(
        reasons(&events),
        ["SomeReason", "WarnReason", "ErrorReason", "EventReason"]
    );
    let types: Vec<_> = events.iter().map(|e| e.type_.clone().unwrap()).collect();
    assert_eq!(types, ["Normal", "Warning", "Error", "Normal"]);
    let first = &events[0];
    assert_eq!(first.message.as_deref(), Some("Some message"));
    assert_eq!(first.action.as_deref(), Some("Action?"));
    assert_eq!(first.reporting_component.as_deref(), Some("kopf"));
    assert_eq!(first.reporting_instance.as_deref(), Some("dev"));
    let source = first.source.clone().unwrap();
    assert_eq!(source.component.as_deref(), Some("kopf"));
    let name = first.metadata.name.clone().unwrap();
    assert!(name.starts_with("kopf-event-"), "{name}");
    assert_eq!(first.metadata.namespace.as_deref(), Some("default"));
    let involved = serde_json::to_value(&first.involved_object).unwrap();
    assert_eq!(
        involved,
        json!({"apiVersion": "kopf.dev/v1", "kind": "KopfExample", "name": "kex-g",
               "namespace": "default", "uid": uid})
    );
    assert!(first.event_time.is_some() && first.last_timestamp.is_some());

    // On the wire: kopf's body, in kopf's key order.
    let posted: Vec<Value> = ts
        .server
        .control()
        .recorded_requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/api/v1/namespaces/default/events")
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(posted.len(), 4);
    let keys: Vec<&str> = posted[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let kopfs = [
        "metadata",
        "action",
        "type",
        "reason",
        "message",
        "reportingComponent",
        "reportingInstance",
        "source",
        "involvedObject",
        "firstTimestamp",
        "lastTimestamp",
        "eventTime",
    ];
    assert_eq!(keys, kopfs);
    assert_eq!(
        posted[0]["metadata"],
        json!({"namespace": "default", "generateName": "kopf-event-"})
    );
    let stamp = posted[0]["eventTime"].as_str().unwrap();
    assert!(
        stamp.ends_with("+00:00") && stamp == posted[0]["firstTimestamp"],
        "{stamp}"
    );

    // The embedded server prints no event columns of its own: kubectl is told which.
    let selector = format!("involvedObject.uid={uid}");
    let columns = "custom-columns=TYPE:.type,REASON:.reason,OBJECT:.involvedObject.name,\
                   FROM:.source.component,MESSAGE:.message";
    let table = ts.kubectl_ok(&[
        "get",
        "events",
        "--field-selector",
        &selector,
        "-o",
        columns,
    ]);
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().take(4).collect())
        .collect();
    assert_eq!(rows.len(), 4, "{table}");
    for row in [
        ["Normal", "SomeReason", "kex-g", "kopf"],
        ["Warning", "WarnReason", "kex-g", "kopf"],
    ] {
        assert!(rows.contains(&row.to_vec()), "{row:?} not in:\n{table}");
    }
    assert!(table.contains("Some message"), "{table}");
    let described = ts.kubectl_ok(&["describe", "kopfexample", "kex-g"]);
    assert!(described.contains("Events:"), "{described}");
    assert!(described.contains("ErrorReason"), "{described}");
    stop(running).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_handlers_post_too_and_cluster_scoped_objects_post_into_default() {
    let _turn = turn().await;
    let ts = kopf_test_support::start().await;
    create_crd(&ts).await;
    let running = start(
        &ts,
        kopf::Registry::linked().unwrap(),
        kopf::Settings::default(),
    )
    .await;
    let uid = example(&ts, "kex-sync", json!({"posting": "sync"})).await;

    let events = wait_for_reason(&ts, &uid, "FromThread").await;
    assert_eq!(
        events[0].message.as_deref(),
        Some("posted by a sync handler")
    );
    let about_node = wait_for_reason(&ts, "node-uid", "AboutNode").await;
    let involved = serde_json::to_value(&about_node[0].involved_object).unwrap();
    assert_eq!(
        involved,
        json!({"apiVersion": "v1", "kind": "Node", "name": "node-1", "namespace": "default", "uid": "node-uid"})
    );
    stop(running).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_level_filters_explicit_events_and_disabling_posts_none() {
    let _turn = turn().await;
    let ts = kopf_test_support::start().await;
    create_crd(&ts).await;
    let mut settings = kopf::Settings::default();
    settings.posting.level = kopf::tracing::Level::WARN;
    let registry = || kopf::Registry::new().on_create("kopfexamples", post_all_four);
    let running = start(&ts, registry(), settings.clone()).await;
    let uid = example(&ts, "kex-warn", json!({})).await;
    let events = wait_for_reason(&ts, &uid, "EventReason").await;
    assert_eq!(
        reasons(&events),
        ["WarnReason", "ErrorReason", "EventReason"]
    );
    stop(running).await;

    settings.posting.enabled = false;
    let running = start(&ts, registry(), settings).await;
    let uid = example(&ts, "kex-off", json!({})).await;
    let handled = poll_until(DEADLINE, || async {
        let body = ts.get_json("kopfexamples", "kex-off")?;
        body["metadata"]["annotations"]
            .as_object()?
            .contains_key("kopf.zalando.org/last-handled-configuration")
            .then_some(())
    });
    assert!(handled.await.is_some(), "kex-off was not handled");
    stop(running).await; // Flushes whatever was queued.
    assert_eq!(
        reasons(&events_about(&ts, &uid).await),
        Vec::<String>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_loggers_post_their_lines_when_asked_from_the_level_up() {
    let _turn = turn().await;
    let ts = kopf_test_support::start().await;
    create_crd(&ts).await;
    let mut settings = kopf::Settings::default();
    settings.posting.loggers = true;
    let registry = kopf::Registry::new().on_create("kopfexamples", post_all_four);
    let running = start(&ts, registry, settings).await;
    let uid = example(&ts, "kex-logs", json!({})).await;

    let found = poll_until(DEADLINE, || async {
        let events = events_about(&ts, &uid).await;
        let logged: Vec<String> = events
            .iter()
            .filter(|e| e.reason.as_deref() == Some("Logging"))
            .filter_map(|e| e.message.clone())
            .collect();
        logged
            .iter()
            .any(|m| m == "Handler 'post_all_four' succeeded.")
            .then_some(events)
    });
    let events = found.await.expect("the handler's success is posted");
    stop(running).await;
    let logging = events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("Logging"));
    assert!(
        logging
            .clone()
            .all(|e| e.type_.as_deref() == Some("Normal"))
    );
    assert!(reasons(&events).contains(&"EventReason".to_string()));
    // Debug lines (e.g. about the finalizer) stay below the default level.
    let all = events_about(&ts, &uid).await;
    assert!(all.iter().all(|e| e.type_.as_deref() != Some("Debug")));
}

/// The server, for the handler that makes it fail (taken once).
static FAILING: std::sync::Mutex<Option<kopf_apiserver::Control>> = std::sync::Mutex::new(None);

/// Posts while the server fails every request for a moment; then posts into a namespace
/// that does not exist (failing for good); then posts normally.
async fn post_through_failures(body: kopf::Body) {
    let Some(control) = FAILING.lock().unwrap().take() else {
        return;
    };
    let failing = kopf_apiserver::FaultConfig {
        error_500_ratio: 1.0,
        ..Default::default()
    };
    control.faults().set(failing);
    kopf::info(&body, "Persistent", "posted after failures");
    let elsewhere = json!({"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": "c", "uid": "c-uid", "namespace": "missing"}});
    kopf::info(&elsewhere, "Lost", "into a namespace that does not exist");
    kopf::info(&body, "Afterwards", "posted after a lost one");
    tokio::time::sleep(Duration::from_millis(300)).await;
    control.faults().set(Default::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_posts_are_retried_with_the_backoffs_then_given_up() {
    let _turn = turn().await;
    let ts = kopf_test_support::start().await;
    create_crd(&ts).await;
    *FAILING.lock().unwrap() = Some(ts.server.control());
    let mut settings = kopf::Settings::default();
    settings.posting.default_backoffs = vec![0.1; 8];
    let registry = kopf::Registry::new().on_create("kopfexamples", post_through_failures);
    let running = start(&ts, registry, settings).await;
    let uid = example(&ts, "kex-retried", json!({})).await;

    let events = wait_for_reason(&ts, &uid, "Afterwards").await;
    assert_eq!(reasons(&events), ["Persistent", "Afterwards"]);
    assert!(events_about(&ts, "c-uid").await.is_empty());
    stop(running).await;
}

#[tokio::test]
async fn without_an_operator_events_are_dropped_with_a_warning() {
    let _turn = turn().await;
    let object =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "uid": "u"}});
    kopf::info(&object, "Nowhere", "nobody posts this");
    kopf::event(&kopf::Body::new(object), "Normal", "Nowhere", "nor this");
}
