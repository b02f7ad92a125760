//! The reduced chaos soak (issue 14), in-process and bounded in time: the embedded server
//! injects 500s, 429s with `Retry-After`, dropped watches, forced relists (410) and latency
//! while a driver creates, updates and deletes objects, and the operator is killed three
//! times (its whole runtime dropped mid-flight, as SIGKILL would) and started again.
//! Afterwards every live object's final state has been handled (its diff-base is its final
//! spec, its create handler ran), every deleted object is gone with no finalizer of ours
//! left, and nothing panicked. `KOPF_CHAOS_OBJECTS` makes it longer by hand.

use kopf_apiserver::FaultConfig;
use kopf_test_support::{CRD, KEX, TestServer, poll_until};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(60);

/// Handler invocations: (handler, object) → how many.
static CALLS: Mutex<BTreeMap<(String, String), usize>> = Mutex::new(BTreeMap::new());

fn called(handler: &str, name: &str) {
    *CALLS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry((handler.to_string(), name.to_string()))
        .or_default() += 1;
}

fn calls(handler: &str) -> BTreeMap<String, usize> {
    CALLS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter(|((h, _), _)| h == handler)
        .map(|((_, n), c)| (n.clone(), *c))
        .collect()
}

async fn create_fn(name: kopf::Name) -> kopf::Result<Value> {
    called("create", &name);
    Ok(json!({"created": true}))
}

async fn update_fn(name: kopf::Name) {
    called("update", &name);
}

async fn delete_fn(name: kopf::Name) {
    called("delete", &name);
}

/// One incarnation of the operator, in a runtime of its own: dropping it kills everything.
struct Incarnation {
    runtime: tokio::runtime::Runtime,
}

fn start_operator(kubeconfig: String) -> Incarnation {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.spawn(async move {
        let config = kopf_test_support::config_for(&kubeconfig).await;
        let client = kube::Client::try_from(config).expect("a client");
        let registry = kopf::Registry::new()
            .on_create("kopfexamples", create_fn)
            .on_update("kopfexamples", update_fn)
            .on_delete("kopfexamples", delete_fn);
        let mut settings = kopf::Settings::default();
        settings.execution.default_backoff = 0.5;
        settings.watching.inactivity_timeout = Duration::from_secs(5);
        let result = kopf::Operator::new(registry)
            .client(client)
            .settings(settings)
            .cluster_wide()
            .run(std::future::pending())
            .await;
        panic!("the operator stopped by itself: {result:?}");
    });
    Incarnation { runtime }
}

impl Incarnation {
    /// SIGKILL-like: every task of this operator is dropped where it is.
    fn kill(self) {
        self.runtime.shutdown_background();
    }
}

/// A request retried until the (faulty) server accepts it; its status and body.
async fn insist(ts: &TestServer, method: &str, path: &str, body: Value) -> (u16, Value) {
    let content_type = match method {
        "PATCH" => Some("application/merge-patch+json"),
        "POST" => Some("application/json"),
        _ => None,
    };
    for _ in 0..200 {
        let (code, answer) = ts.raw(method, path, content_type, &body.to_string()).await;
        if code != 500 && code != 429 {
            return (code, answer);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{method} {path} never got through");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reduced_chaos_soak_loses_and_repeats_nothing_that_was_stored() {
    let objects: usize = std::env::var("KOPF_CHAOS_OBJECTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(60);
    let ts = kopf_test_support::start().await;
    let (code, body) = ts
        .raw(
            "POST",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            Some("application/json"),
            CRD,
        )
        .await;
    assert_eq!(code, 201, "{body}");
    let control = ts.server.control();
    let chaos = FaultConfig {
        error_500_ratio: 0.05,
        error_429_ratio: 0.02,
        watch_drop_ratio: 0.02,
        latency: Duration::from_millis(2),
        compact_every: Some(Duration::from_secs(3)),
        ..FaultConfig::default()
    };
    control.faults().set(chaos.clone());
    let kubeconfig = ts.server.kubeconfig();
    let mut operator = Some(start_operator(kubeconfig.clone()));
    let mut kills = 0;

    // The driver: create all, update every second one twice, delete every third one; the
    // operator is killed and restarted three times along the way.
    let name = |i: usize| format!("kex-chaos-{i}");
    let kill_at = [objects / 3, objects * 2 / 3, objects - 1];
    for i in 0..objects {
        let object = json!({"apiVersion": "kopf.dev/v1", "kind": "KopfExample",
            "metadata": {"name": name(i)}, "spec": {"value": 0}});
        let (code, answer) = insist(&ts, "POST", KEX, object).await;
        assert!(code == 201 || code == 409, "{code} {answer}");
        if i % 2 == 0 {
            for value in [1, 2] {
                let path = format!("{KEX}/{}", name(i));
                insist(&ts, "PATCH", &path, json!({"spec": {"value": value}})).await;
            }
        }
        if i % 3 == 0 && i > 0 {
            let victim = format!("{KEX}/{}", name(i - 3));
            insist(&ts, "DELETE", &victim, json!({})).await;
        }
        if kill_at.contains(&i) {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if let Some(running) = operator.take() {
                running.kill();
                kills += 1;
            }
            operator = Some(start_operator(kubeconfig.clone()));
        }
    }
    let deleted: Vec<String> = (0..objects)
        .filter(|i| i % 3 == 0 && i + 3 < objects)
        .map(name)
        .collect();

    // The server recovers; the operator must converge.
    control.faults().set(FaultConfig::default());
    let converged = poll_until(DEADLINE, || async {
        let (code, list) = ts.raw("GET", KEX, None, "").await;
        if code != 200 {
            return None;
        }
        let items = list["items"].as_array()?.clone();
        let mut live = 0;
        for item in &items {
            let item_name = item["metadata"]["name"].as_str()?;
            if deleted.iter().any(|d| d == item_name) {
                return None; // Still being deleted.
            }
            let handled = item
                .pointer("/metadata/annotations/kopf.zalando.org~1last-handled-configuration")
                .and_then(Value::as_str)
                .and_then(|text| serde_json::from_str::<Value>(text).ok())?;
            // A kill between the cycle's resource patch and its status patch loses the
            // handler's returned data, as in kopf (which writes them in that order too):
            // the handling itself is judged by the diff-base and the handlers' calls.
            if handled["spec"] != item["spec"] {
                return None;
            }
            live += 1;
        }
        (live == objects - deleted.len()).then_some(live)
    })
    .await;
    let creates = calls("create");
    let reruns: usize = creates.values().map(|c| c.saturating_sub(1)).sum();
    eprintln!(
        "chaos: objects={objects} deleted={} kills={kills} create-runs={} re-runs={reruns} update-runs={} delete-runs={}",
        deleted.len(),
        creates.values().sum::<usize>(),
        calls("update").values().sum::<usize>(),
        calls("delete").values().sum::<usize>(),
    );
    if converged.is_none() {
        let (_, list) = ts.raw("GET", KEX, None, "").await;
        for item in list["items"].as_array().into_iter().flatten() {
            let meta = &item["metadata"];
            let handled =
                meta["annotations"]["kopf.zalando.org/last-handled-configuration"].clone();
            let created = item.pointer("/status/create_fn/created").cloned();
            let stuck = deleted.iter().any(|d| meta["name"] == d.as_str())
                || handled
                    .as_str()
                    .and_then(|t| serde_json::from_str::<Value>(t).ok())
                    .map(|h| h["spec"] != item["spec"])
                    .unwrap_or(true);
            if stuck {
                eprintln!(
                    "stuck: {} spec={} handled={handled} created={created:?} finalizers={} deleting={} annotations={}",
                    meta["name"],
                    item["spec"],
                    meta["finalizers"],
                    meta["deletionTimestamp"],
                    meta["annotations"]
                );
            }
        }
    }
    assert!(
        converged.is_some(),
        "every live object's final state is handled and every deleted one is gone"
    );
    assert_eq!(kills, 3);
    // Objects deleted early may be gone before the operator ever saw them.
    for object in (0..objects).map(name).filter(|n| !deleted.contains(n)) {
        assert!(
            creates.get(&object).copied().unwrap_or(0) >= 1,
            "{object} was created-handled"
        );
    }
    if let Some(running) = operator.take() {
        running.kill();
    }
}
