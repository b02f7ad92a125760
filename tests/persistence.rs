//! `settings.persistence`, run in-process by `kopf::Operator` against the embedded API
//! server: with a custom prefix, status storages and a custom finalizer, a creation
//! handler that fails once and then succeeds leaves on the object exactly what kopf 1.45.2
//! leaves with those settings — and nothing under `kopf.zalando.org/`.

use kopf::settings::{
    AnnotationsDiffBaseStorage, AnnotationsProgressStorage, PersistenceSettings, Settings,
    StatusDiffBaseStorage, StatusProgressStorage,
};
use kopf_test_support::{TestServer, config_for, create_crd, kex, poll_until};
use serde_json::{Value, json};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::oneshot;

const DEADLINE: Duration = Duration::from_secs(30);
const FINALIZER: &str = "my-op.example.com/finalizer";
const PREFIX: &str = "my-op.example.com";

/// The bodies the handlers saw, by object name and handler.
static SEEN: Mutex<Vec<(String, &'static str, Value)>> = Mutex::new(Vec::new());

fn seen(name: &str, what: &str) -> Option<Value> {
    let seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
    seen.iter()
        .find(|(n, w, _)| n == name && *w == what)
        .map(|(_, _, body)| body.clone())
}

fn see(body: &kopf::Body, what: &'static str) {
    let name = body.name().unwrap_or_default().to_string();
    let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
    seen.push((name, what, body.raw().clone()));
}

/// Fails temporarily the first time, succeeds the second.
async fn create_fn(body: kopf::Body, retry: kopf::Retry) -> kopf::Result<Value> {
    if *retry == 0 {
        return Err(kopf::TemporaryError::new("not yet").with_delay(1.0).into());
    }
    see(&body, "retried");
    Ok(json!({"done": true}))
}

async fn delete_fn(body: kopf::Body) -> kopf::Result<()> {
    see(&body, "deleting");
    Ok(())
}

async fn client_of(ts: &TestServer) -> kube::Client {
    kube::Client::try_from(config_for(&ts.server.kubeconfig()).await).expect("a client")
}

async fn get(ts: &TestServer, name: &str) -> Option<Value> {
    let path = format!("/apis/kopf.dev/v1/namespaces/default/kopfexamples/{name}");
    let (code, body) = ts.raw("GET", &path, None, "").await;
    (code == 200).then_some(body)
}

/// kopf's own annotations: none under kopf's prefix, whatever the settings.
fn assert_no_kopf_annotations(object: &Value) {
    let annotations = object.pointer("/metadata/annotations").cloned();
    let keys: Vec<String> = annotations
        .as_ref()
        .and_then(Value::as_object)
        .map(|a| a.keys().cloned().collect())
        .unwrap_or_default();
    assert!(
        !keys.iter().any(|k| k.starts_with("kopf.zalando.org/")),
        "{keys:?}"
    );
}

/// Runs the operator with these settings: an object is created, handled (failing once),
/// then deleted. Returns the object after the creation was handled.
async fn scenario(name: &str, persistence: PersistenceSettings, done: fn(&Value) -> bool) -> Value {
    let ts = kopf_test_support::start().await;
    create_crd(&ts).await;
    kex(
        &ts,
        json!({"metadata": {"name": name}, "spec": {"field": "value"}}),
    )
    .await;
    let registry = kopf::Registry::new()
        .on_create("kopfexamples", create_fn)
        .on_delete("kopfexamples", delete_fn);
    let settings = Settings {
        persistence,
        ..Settings::default()
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let operator = tokio::spawn(
        kopf::Operator::new(registry)
            .client(client_of(&ts).await)
            .cluster_wide()
            .settings(settings)
            .run(async move {
                let _ = stopped.await;
            }),
    );

    let handled = poll_until(DEADLINE, || async { get(&ts, name).await.filter(done) })
        .await
        .expect("the creation is handled");
    assert_no_kopf_annotations(&seen(name, "retried").expect("create_fn was retried"));
    assert_no_kopf_annotations(&handled);
    assert_eq!(handled["metadata"]["finalizers"], json!([FINALIZER]));
    assert_eq!(handled["status"]["create_fn"], json!({"done": true}));

    let path = format!("/apis/kopf.dev/v1/namespaces/default/kopfexamples/{name}");
    let (code, _) = ts.raw("DELETE", &path, None, "").await;
    assert_eq!(code, 200);
    let gone = poll_until(DEADLINE, || async {
        get(&ts, name).await.is_none().then_some(())
    });
    assert!(gone.await.is_some(), "the finalizer is released");
    let deleting = seen(name, "deleting").expect("delete_fn ran");
    assert_eq!(deleting["metadata"]["finalizers"], json!([FINALIZER]));

    drop(stop);
    let ended = tokio::time::timeout(DEADLINE, operator).await;
    assert!(ended.expect("stops in time").expect("no panic").is_ok());
    handled
}

/// kopf's record after one temporary failure, as the server keeps it (`null`s dropped).
fn assert_first_failure(record: &Value) {
    let fields: Vec<&str> = record
        .as_object()
        .map(|r| r.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        fields,
        [
            "started", "delayed", "purpose", "retries", "success", "failure", "message"
        ],
        "{record}"
    );
    assert_eq!(record["purpose"], "create");
    assert_eq!(record["retries"], 1);
    assert_eq!(record["message"], "not yet");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_storages_keep_everything_in_the_status() {
    let persistence = PersistenceSettings {
        finalizer: FINALIZER.into(),
        progress_storage: StatusProgressStorage::with_field("status.my-op.progress").into(),
        diffbase_storage: StatusDiffBaseStorage::default().into(),
        ..PersistenceSettings::default()
    };
    let done = |o: &Value| {
        o.pointer("/status/kopf/last-handled-configuration")
            .is_some()
    };
    let handled = scenario("in-status", persistence, done).await;

    // While retrying: the record in the status field, and the touch that woke it up.
    let retried = seen("in-status", "retried").unwrap();
    assert_first_failure(&retried["status"]["my-op"]["progress"]["create_fn"]);
    assert!(retried["status"]["kopf"]["dummy"].is_string(), "{retried}");
    assert_eq!(retried["metadata"].get("annotations"), None, "{retried}");

    // Once handled: the record purged, the touch removed, the diff-base without a newline.
    assert_eq!(
        handled["status"]["kopf"]["last-handled-configuration"],
        json!("{\"spec\":{\"field\":\"value\"}}")
    );
    assert_eq!(handled["status"]["my-op"]["progress"], json!({}));
    assert_eq!(handled["status"]["kopf"].get("dummy"), None);
    assert_eq!(handled["metadata"].get("annotations"), None, "{handled}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_prefix_is_used_and_marked() {
    let persistence = PersistenceSettings {
        finalizer: FINALIZER.into(),
        progress_storage: AnnotationsProgressStorage::with_prefix(PREFIX).into(),
        diffbase_storage: AnnotationsDiffBaseStorage::with_prefix(PREFIX).into(),
        ..PersistenceSettings::default()
    };
    let base = format!("{PREFIX}/last-handled-configuration");
    let done = |o: &Value| {
        o.pointer("/metadata/annotations/my-op.example.com~1last-handled-configuration")
            .is_some()
    };
    let handled = scenario("in-annotations", persistence, done).await;

    let retried = seen("in-annotations", "retried").unwrap();
    let annotations = &retried["metadata"]["annotations"];
    let record = annotations[format!("{PREFIX}/create_fn")]
        .as_str()
        .expect("the record");
    assert_first_failure(&serde_json::from_str(record).unwrap());
    assert_eq!(annotations[format!("{PREFIX}/kopf-managed")], "yes");
    assert!(
        annotations[format!("{PREFIX}/touch-dummy")].is_string(),
        "{annotations}"
    );

    // Once handled, only the marker and the diff-base remain (with kopf's newline).
    assert_eq!(
        handled["metadata"]["annotations"],
        json!({
            format!("{PREFIX}/kopf-managed"): "yes",
            base: "{\"spec\":{\"field\":\"value\"}}\n",
        })
    );
    assert_eq!(handled["status"].get("kopf"), None, "{handled}");
}
