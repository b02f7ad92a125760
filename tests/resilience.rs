//! The operator goes on when the cluster changes under it, run in-process by
//! `kopf::Operator` against the embedded API server: a deleted CRD stops only its own
//! resource's watching, which resumes when the CRD is created again.

use kopf_test_support::{CRD, create_crd, kex, poll_until};
use serde_json::json;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::oneshot;

const DEADLINE: Duration = Duration::from_secs(30);

/// An operator of `registry`, cluster-wide, running in the background until stopped.
struct Running {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), kopf::OperatorError>>,
}

fn run(registry: kopf::Registry, client: kube::Client) -> Running {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(
        kopf::Operator::new(registry)
            .client(client)
            .cluster_wide()
            .run(async move {
                let _ = stopped.await;
            }),
    );
    Running { stop, task }
}

impl Running {
    /// Stops the operator and checks that it stopped in time, cleanly.
    async fn stop(self) {
        let _ = self.stop.send(());
        let result = tokio::time::timeout(DEADLINE, self.task)
            .await
            .expect("stops in time")
            .expect("no panic");
        assert!(result.is_ok(), "{result:?}");
    }
}

async fn client_of(ts: &kopf_test_support::TestServer) -> kube::Client {
    let config = kopf_test_support::config_for(&ts.server.kubeconfig()).await;
    kube::Client::try_from(config).expect("a client")
}

static CREATED: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn created() -> Vec<String> {
    CREATED.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

async fn create_fn(name: kopf::Name) {
    CREATED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(name.to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_crd_stops_its_resource_only_and_it_resumes_when_the_crd_returns() {
    let ts = kopf_test_support::start().await;
    create_crd(&ts).await;
    let client = client_of(&ts).await;
    let mut operator = run(
        kopf::Registry::new().on_create("kopfexamples", create_fn),
        client,
    );
    kex(&ts, json!({"metadata": {"name": "kex-before"}, "spec": {}})).await;
    let seen = poll_until(DEADLINE, || async {
        created().contains(&"kex-before".to_string()).then_some(())
    })
    .await;
    assert!(seen.is_some(), "{:?}", created());

    let crd_path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/kopfexamples.kopf.dev";
    let (code, body) = ts.raw("DELETE", crd_path, None, "").await;
    assert!(code < 300, "{code} {body}");
    let gone = poll_until(DEADLINE, || async {
        let (code, _) = ts.raw("GET", crd_path, None, "").await;
        (code == 404).then_some(())
    })
    .await;
    assert!(gone.is_some(), "the CRD is deleted");
    // The operator goes on without the resource.
    let finished = tokio::time::timeout(Duration::from_secs(3), &mut operator.task).await;
    assert!(finished.is_err(), "the operator stopped: {finished:?}");

    let (code, body) = ts
        .raw(
            "POST",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            Some("application/json"),
            CRD,
        )
        .await;
    assert_eq!(code, 201, "{body}");
    let served = poll_until(DEADLINE, || async {
        let (code, _) = ts
            .raw(
                "POST",
                kopf_test_support::KEX,
                Some("application/json"),
                &json!({"apiVersion": "kopf.dev/v1", "kind": "KopfExample", "metadata": {"name": "kex-after"}, "spec": {}}).to_string(),
            )
            .await;
        (code == 201 || code == 409).then_some(())
    })
    .await;
    assert!(
        served.is_some(),
        "the resource is served by the server again"
    );
    let resumed = poll_until(DEADLINE, || async {
        created().contains(&"kex-after".to_string()).then_some(())
    })
    .await;
    assert!(resumed.is_some(), "the operator resumed: {:?}", created());

    operator.stop().await;
}

/// The server's fault switch, for the handler below to flip.
static FAULTS: std::sync::OnceLock<kopf_apiserver::Control> = std::sync::OnceLock::new();
static INVOCATIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Turns every request into a 500 for 2.5 s, from just before its outcome is written.
async fn break_the_server_for_a_while() -> kopf::Result<serde_json::Value> {
    INVOCATIONS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let control = FAULTS.get().expect("the server is known").clone();
    control.faults().set(kopf_apiserver::FaultConfig {
        error_500_ratio: 1.0,
        ..kopf_apiserver::FaultConfig::default()
    });
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(2500)).await;
        control.faults().set(kopf_apiserver::FaultConfig::default());
    });
    Ok(json!({"done": true}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_are_written_through_a_failing_server_by_kopfs_retries() {
    let ts = kopf_test_support::start().await;
    create_crd(&ts).await;
    let _ = FAULTS.set(ts.server.control());
    let client = client_of(&ts).await;
    let operator = run(
        kopf::Registry::new().on_create("kopfexamples", break_the_server_for_a_while),
        client,
    );
    kex(&ts, json!({"metadata": {"name": "kex-flaky"}, "spec": {}})).await;
    let path = format!("{}/kex-flaky", kopf_test_support::KEX);
    let stored = poll_until(DEADLINE, || async {
        let (code, object) = ts.raw("GET", &path, None, "").await;
        (code == 200
            && object
                .pointer("/status/break_the_server_for_a_while/done")
                .is_some())
        .then_some(object)
    })
    .await
    .expect("the outcome is written once the server answers again");
    assert!(
        stored
            .pointer("/metadata/annotations/kopf.zalando.org~1last-handled-configuration")
            .is_some(),
        "the cause is finished: {stored}"
    );
    assert_eq!(
        INVOCATIONS.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the handler ran once: its outcome was retried, not the handler"
    );
    operator.stop().await;
}

static ODD: Mutex<Vec<String>> = Mutex::new(Vec::new());

async fn odd_create(name: kopf::Name, spec: kopf::Spec) -> kopf::Result<serde_json::Value> {
    ODD.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(name.to_string());
    Ok(json!({"spec-was": *spec}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_of_unexpected_shapes_are_handled_and_crash_nothing() {
    let ts = kopf_test_support::start().await;
    create_crd(&ts).await;
    let huge = "x".repeat(200_000);
    let odd = [
        json!({"metadata": {"name": "kex-no-spec"}}),
        json!({"metadata": {"name": "kex-null-spec"}, "spec": null}),
        // Someone else's garbage where kopf keeps its progress and diff-base.
        json!({"metadata": {"name": "kex-corrupted", "annotations": {
            "kopf.zalando.org/odd_create": "{not json",
            "kopf.zalando.org/last-handled-configuration": "[1, 2",
        }}, "spec": {"a": 1}}),
        json!({"metadata": {"name": "kex-huge", "annotations": {"huge": huge}}, "spec": {}}),
        json!({"metadata": {"name": "kex-deep"}, "spec": {"a": {"b": {"c": {"d": {"e": [[[[1]]]]}}}}}}),
    ];
    let client = client_of(&ts).await;
    let mut operator = run(
        kopf::Registry::new().on_create("kopfexamples", odd_create),
        client,
    );
    for object in &odd {
        kex(&ts, object.clone()).await;
    }
    let names: Vec<String> = odd
        .iter()
        .map(|o| {
            o["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    // kex-corrupted has a (garbage) diff-base: not a creation, so not handled by on_create.
    let expected: Vec<&String> = names.iter().filter(|n| *n != "kex-corrupted").collect();
    let handled = poll_until(DEADLINE, || async {
        let seen = ODD.lock().unwrap_or_else(|p| p.into_inner()).clone();
        expected.iter().all(|n| seen.contains(n)).then_some(seen)
    })
    .await;
    assert!(
        handled.is_some(),
        "{:?}",
        ODD.lock().unwrap_or_else(|p| p.into_inner())
    );
    let finished = tokio::time::timeout(Duration::from_secs(1), &mut operator.task).await;
    assert!(finished.is_err(), "the operator goes on: {finished:?}");
    operator.stop().await;
}

static LATE: Mutex<Vec<String>> = Mutex::new(Vec::new());

async fn late_create(name: kopf::Name) {
    LATE.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(name.to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_started_before_its_cluster_waits_for_it() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("an address").port()
    };
    let url: http::Uri = format!("http://127.0.0.1:{port}").parse().expect("a URL");
    let client = kube::Client::try_from(kube::Config::new(url)).expect("a client");
    let mut operator = run(
        kopf::Registry::new().on_create("kopfexamples", late_create),
        client,
    );
    // Nothing listens yet: the operator waits instead of failing.
    let early = tokio::time::timeout(Duration::from_millis(2500), &mut operator.task).await;
    assert!(early.is_err(), "the operator gave up: {early:?}");

    let server = kopf_apiserver::RunningServer::start(kopf_apiserver::ServerConfig {
        port,
        transport: kopf_apiserver::Transport::InsecureHttp,
        ..kopf_apiserver::ServerConfig::in_memory()
    })
    .await
    .expect("the server starts on the port");
    let ts = kopf_test_support::TestServer::wrap(server).await;
    create_crd(&ts).await;
    kex(&ts, json!({"metadata": {"name": "kex-late"}, "spec": {}})).await;
    let handled = poll_until(DEADLINE, || async {
        LATE.lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&"kex-late".to_string())
            .then_some(())
    })
    .await;
    assert!(
        handled.is_some(),
        "the operator served the cluster once it came"
    );
    operator.stop().await;
}
