//! Daemons and timers declared with `#[kopf::daemon]` / `#[kopf::timer]`, run in-process by
//! `kopf::Operator` against the embedded API server. Each test labels its objects so that
//! only its own handler picks them up; handlers journal what they do per object.

use kopf_test_support::{TestServer, config_for, create_crd, poll_until};
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

const DEADLINE: Duration = Duration::from_secs(30);

/// What the handlers did to one object, with when they did it.
type Notes = Vec<(Instant, String)>;

/// What the handlers did, per object name.
static JOURNAL: Mutex<Option<HashMap<String, Notes>>> = Mutex::new(None);

fn journal() -> MutexGuard<'static, Option<HashMap<String, Notes>>> {
    JOURNAL.lock().unwrap_or_else(|p| p.into_inner())
}

fn note(name: &str, what: impl Into<String>) {
    journal()
        .get_or_insert_with(HashMap::new)
        .entry(name.to_string())
        .or_default()
        .push((Instant::now(), what.into()));
}

fn notes(name: &str) -> Notes {
    journal()
        .as_ref()
        .and_then(|j| j.get(name).cloned())
        .unwrap_or_default()
}

fn said(name: &str) -> Vec<String> {
    notes(name).into_iter().map(|(_, what)| what).collect()
}

// ---- the handlers -------------------------------------------------------------------

#[kopf::timer("kopfexamples", interval = 0.2, labels = {"test": "interval"})]
async fn every_fifth(name: kopf::Name) -> kopf::Result<Value> {
    note(&name, "tick");
    Ok(json!({"ticks": said(&name).len()}))
}

#[kopf::timer("kopfexamples", interval = 0.1, idle = 0.6, labels = {"test": "idle"})]
async fn when_idle(name: kopf::Name) {
    note(&name, "idle tick");
}

#[kopf::timer("kopfexamples", interval = 1.0, sharp = true, labels = {"test": "sharp"})]
async fn sharp_and_slow(name: kopf::Name) {
    note(&name, "start");
    tokio::time::sleep(Duration::from_millis(600)).await;
}

#[kopf::timer("kopfexamples", interval = 1.0, labels = {"test": "blunt"})]
async fn blunt_and_slow(name: kopf::Name) {
    note(&name, "start");
    tokio::time::sleep(Duration::from_millis(600)).await;
}

#[kopf::daemon("kopfexamples", labels = {"test": "daemon"})]
async fn slow_to_exit(name: kopf::Name, stopped: kopf::Stopped) {
    note(&name, "started");
    stopped.wait().await;
    note(
        &name,
        format!(
            "signalled: {}",
            stopped.reason().map(|r| r.to_string()).unwrap_or_default()
        ),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    note(&name, "exited");
}

/// Records its own cancellation: an async daemon is cancelled by dropping its future.
struct DropNote(String);

impl Drop for DropNote {
    fn drop(&mut self) {
        note(&self.0, "dropped");
    }
}

#[kopf::daemon(
    "kopfexamples",
    labels = {"test": "stubborn"},
    cancellation_backoff = 0.2,
    cancellation_timeout = 5.0
)]
async fn stubborn(name: kopf::Name) {
    let _note = DropNote(name.to_string());
    note(&name, "started");
    loop {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}

#[kopf::daemon("kopfexamples", labels = {"test": "plain"})]
fn plain_polling(name: kopf::Name, stopped: kopf::Stopped) {
    note(&name, "started");
    while !stopped.wait_blocking(Duration::from_millis(50)) {}
    note(&name, "exited");
}

#[kopf::daemon("kopfexamples", labels = {"test": "failing"}, backoff = 0.1, retries = 5)]
async fn failing_twice(name: kopf::Name, retry: kopf::Retry) -> kopf::Result<()> {
    note(&name, format!("attempt {}", *retry));
    if *retry < 2 {
        return Err(kopf::Error::msg("not yet"));
    }
    Ok(())
}

#[kopf::daemon("kopfexamples", labels = {"test": "exiting"})]
async fn until_exit(name: kopf::Name, stopped: kopf::Stopped) {
    note(&name, "started");
    stopped.wait().await;
    note(
        &name,
        format!(
            "stopped: {}",
            stopped.reason().map(|r| r.to_string()).unwrap_or_default()
        ),
    );
}

// ---- the harness --------------------------------------------------------------------

struct Cluster {
    ts: TestServer,
    api: Api<DynamicObject>,
    stop: Option<oneshot::Sender<()>>,
    operator: Option<tokio::task::JoinHandle<Result<(), kopf::OperatorError>>>,
}

impl Cluster {
    /// A server with the CRD and an operator with every handler of this file.
    async fn start() -> Cluster {
        let ts = kopf_test_support::start().await;
        create_crd(&ts).await;
        let gvk = GroupVersionKind::gvk("kopf.dev", "v1", "KopfExample");
        let api = Api::namespaced_with(ts.client.clone(), "default", &ApiResource::from_gvk(&gvk));
        let config = config_for(&ts.server.kubeconfig()).await;
        let client = kube::Client::try_from(config).expect("a client");
        let (stop, stopped) = oneshot::channel::<()>();
        let registry = kopf::Registry::linked().expect("no duplicate handlers");
        let operator = tokio::spawn(
            kopf::Operator::new(registry)
                .client(client)
                .cluster_wide()
                .run(async move {
                    let _ = stopped.await;
                }),
        );
        Cluster {
            ts,
            api,
            stop: Some(stop),
            operator: Some(operator),
        }
    }

    async fn create(&self, name: &str, test: &str) {
        let object: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "kopf.dev/v1", "kind": "KopfExample",
            "metadata": {"name": name, "labels": {"test": test}}, "spec": {"n": 0},
        }))
        .unwrap();
        self.api
            .create(&PostParams::default(), &object)
            .await
            .unwrap();
    }

    async fn get(&self, name: &str) -> Option<Value> {
        let object = self.api.get_opt(name).await.unwrap()?;
        Some(serde_json::to_value(object).unwrap())
    }

    async fn delete(&self, name: &str) {
        self.api
            .delete(name, &DeleteParams::default())
            .await
            .unwrap();
    }

    async fn wait_gone(&self, name: &str) {
        let gone = poll_until(DEADLINE, || async {
            self.get(name).await.is_none().then_some(())
        });
        assert!(
            gone.await.is_some(),
            "{name} is not gone; journal: {:?}",
            said(name)
        );
    }

    /// Stops the operator; returns how long the stop took.
    async fn stop(&mut self) -> Duration {
        let started = Instant::now();
        drop(self.stop.take());
        if let Some(operator) = self.operator.take() {
            let ended = tokio::time::timeout(DEADLINE, operator).await;
            let result = ended
                .expect("the operator stops in time")
                .expect("no panic");
            assert!(result.is_ok(), "the operator failed: {result:?}");
        }
        started.elapsed()
    }
}

async fn wait_said(name: &str, what: &str, check: impl Fn(&[String]) -> bool) {
    let waited = poll_until(DEADLINE, || async { check(&said(name)).then_some(()) }).await;
    assert!(
        waited.is_some(),
        "timed out waiting for {what}; journal of {name}: {:?}",
        said(name)
    );
}

fn has(lines: &[String], line: &str) -> bool {
    lines.iter().any(|l| l == line)
}

// ---- the tests ----------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_fires_at_its_interval_and_stores_its_result() {
    let mut cluster = Cluster::start().await;
    cluster.create("ticking", "interval").await;
    wait_said("ticking", "the first tick", |l| !l.is_empty()).await;
    let from = notes("ticking").len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ticks = notes("ticking").len() - from;
    // 10 at 0.2 s; the bounds leave room for a busy machine, not for a missing interval.
    assert!(
        (5..=11).contains(&ticks),
        "{ticks} ticks in 2 s at an interval of 0.2 s"
    );
    let object = cluster.get("ticking").await.unwrap();
    assert!(
        object
            .pointer("/status/every_fifth/ticks")
            .is_some_and(Value::is_u64),
        "{object}"
    );
    let finalizers = object
        .pointer("/metadata/finalizers")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        finalizers,
        json!(["kopf.zalando.org/KopfFinalizerMarker"]),
        "timers hold the finalizer"
    );
    cluster.delete("ticking").await;
    cluster.wait_gone("ticking").await;
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_postpones_a_timer_while_the_object_keeps_changing() {
    let mut cluster = Cluster::start().await;
    cluster.create("busy", "idle").await;
    let params = PatchParams::default();
    let busy_until = Instant::now() + Duration::from_millis(1500);
    let mut n = 0;
    while Instant::now() < busy_until {
        n += 1;
        let patch = json!({"spec": {"n": n}});
        cluster
            .api
            .patch("busy", &params, &Patch::Merge(&patch))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        said("busy").is_empty(),
        "ran while changing: {:?}",
        said("busy")
    );
    wait_said("busy", "a run once idle", |l| !l.is_empty()).await;
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sharp_timer_keeps_its_schedule_with_a_slow_handler() {
    let mut cluster = Cluster::start().await;
    cluster.create("sharp", "sharp").await;
    cluster.create("blunt", "blunt").await;
    for name in ["sharp", "blunt"] {
        wait_said(name, "four starts", |l| l.len() >= 4).await;
    }
    let gap = |name: &str| {
        let starts: Vec<Instant> = notes(name).into_iter().map(|(at, _)| at).take(4).collect();
        (starts[3] - starts[0]).as_secs_f64() / 3.0
    };
    // interval 1 s, handler 0.6 s: sharp starts every 1 s, blunt every 1.6 s.
    let (sharp, blunt) = (gap("sharp"), gap("blunt"));
    assert!(sharp < 1.3, "sharp timer's average gap: {sharp:.2} s");
    assert!(blunt > 1.3, "non-sharp timer's average gap: {blunt:.2} s");
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_is_signalled_on_deletion_and_the_finalizer_waits_for_its_exit() {
    let mut cluster = Cluster::start().await;
    cluster.create("guarded", "daemon").await;
    wait_said("guarded", "the daemon's start", |l| has(l, "started")).await;
    let object = cluster.get("guarded").await.unwrap();
    assert!(object.pointer("/metadata/finalizers").is_some(), "{object}");
    cluster.delete("guarded").await;
    wait_said("guarded", "the signal", |l| {
        l.iter().any(|s| s.starts_with("signalled"))
    })
    .await;
    assert!(
        cluster.get("guarded").await.is_some(),
        "gone before its daemon exited"
    );
    cluster.wait_gone("guarded").await;
    assert_eq!(
        said("guarded"),
        vec!["started", "signalled: resource deleted", "exited"],
        "the daemon exited before the object went"
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_that_ignores_the_signal_is_cancelled_after_its_backoff() {
    let mut cluster = Cluster::start().await;
    cluster.create("stubborn", "stubborn").await;
    wait_said("stubborn", "the daemon's start", |l| has(l, "started")).await;
    cluster.delete("stubborn").await;
    cluster.wait_gone("stubborn").await;
    assert_eq!(said("stubborn"), vec!["started", "dropped"]);
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_fn_daemon_polling_stopped_exits() {
    let mut cluster = Cluster::start().await;
    cluster.create("plain", "plain").await;
    wait_said("plain", "the daemon's start", |l| has(l, "started")).await;
    cluster.delete("plain").await;
    cluster.wait_gone("plain").await;
    assert_eq!(said("plain"), vec!["started", "exited"]);
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_daemon_is_retried_by_its_backoff_then_finishes() {
    let mut cluster = Cluster::start().await;
    cluster.create("failing", "failing").await;
    wait_said("failing", "three attempts", |l| l.len() >= 3).await;
    // Finished: not restarted by later events.
    let patch = json!({"spec": {"n": 1}});
    cluster
        .api
        .patch("failing", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(said("failing"), vec!["attempt 0", "attempt 1", "attempt 2"]);
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_operator_stops_every_daemon_within_the_bound() {
    let mut cluster = Cluster::start().await;
    for index in 0..5 {
        cluster.create(&format!("exiting-{index}"), "exiting").await;
    }
    for index in 0..5 {
        wait_said(&format!("exiting-{index}"), "the start", |l| {
            has(l, "started")
        })
        .await;
    }
    let took = cluster.stop().await;
    assert!(took < Duration::from_secs(10), "the stop took {took:?}");
    for index in 0..5 {
        assert_eq!(
            said(&format!("exiting-{index}")),
            vec!["started", "stopped: operator exiting"]
        );
    }
    drop(cluster.ts);
}
