//! The reactor in-process, against the embedded API server over real HTTP: injection per
//! family, the finalizer, patch order, per-object ordering, watch drops and relists,
//! progress records. No cargo-in-cargo builds: each test runs in a second or two.

use kopf_core::clients::client;
use kopf_core::errors::{Result, TemporaryError};
use kopf_core::intents::causes::Reason;
use kopf_core::intents::families::{Changing, HandlerKind, Spawning, SpawningOptions};
use kopf_core::intents::handlers::Handler;
use kopf_core::intents::registry::Registry;
use kopf_core::invocation::event_args::EventType;
use kopf_core::invocation::handler_fn::HandlerFn;
use kopf_core::invocation::kwargs::{Name, New, Old, OperatorMemo, Spec};
use kopf_core::reactor::Operator;
use kopf_core::structs::body::Body;
use kopf_core::structs::memo::Memo;
use kopf_test_support::{TestServer, config_for, create_crd, poll_until};
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

const DEADLINE: Duration = Duration::from_secs(20);
const FINALIZER: &str = "kopf.zalando.org/KopfFinalizerMarker";

/// Lines the handlers write, in the order they ran.
#[derive(Clone, Default)]
struct Journal(Arc<Mutex<Vec<String>>>);

impl Journal {
    fn push(&self, line: String) {
        self.0.lock().unwrap().push(line);
    }
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// A server with the test CRD, a kube client for the test's own requests, and a way to
/// run operators against it.
struct Cluster {
    ts: TestServer,
    api: Api<DynamicObject>,
}

impl Cluster {
    async fn start() -> Cluster {
        let ts = kopf_test_support::start().await;
        create_crd(&ts).await;
        let gvk = GroupVersionKind::gvk("kopf.dev", "v1", "KopfExample");
        let api = Api::namespaced_with(ts.client.clone(), "default", &ApiResource::from_gvk(&gvk));
        Cluster { ts, api }
    }

    /// Runs an operator with these handlers until the returned sender is dropped or fired.
    async fn operator(&self, registry: Registry) -> Running {
        self.operator_of(Operator::new(registry)).await
    }

    /// Runs a configured operator until the returned sender is dropped or fired.
    async fn operator_of(&self, operator: Operator) -> Running {
        // kopf's own HTTP/2 client, as an operator uses it.
        let config = config_for(&self.ts.server.kubeconfig()).await;
        let client = client::build(config).expect("a client");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(operator.client(client).cluster_wide().run(async move {
            let _ = stopped.await;
        }));
        Running {
            stop: Some(stop),
            task,
        }
    }

    async fn create(&self, name: &str, spec: Value) -> DynamicObject {
        let object: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "kopf.dev/v1", "kind": "KopfExample",
            "metadata": {"name": name}, "spec": spec,
        }))
        .unwrap();
        self.api
            .create(&PostParams::default(), &object)
            .await
            .unwrap()
    }

    async fn merge(&self, name: &str, patch: Value) {
        let params = PatchParams::default();
        self.api
            .patch(name, &params, &Patch::Merge(&patch))
            .await
            .unwrap();
    }

    async fn get(&self, name: &str) -> Option<Value> {
        let object = self.api.get_opt(name).await.unwrap()?;
        Some(serde_json::to_value(object).unwrap())
    }

    /// Polls the object until `check` holds; fails after the deadline with the last state.
    async fn wait_object(&self, name: &str, what: &str, check: impl Fn(Option<&Value>) -> bool) {
        let last = std::cell::RefCell::new(None);
        let waited = poll_until(DEADLINE, || async {
            let seen = self.get(name).await;
            let done = check(seen.as_ref());
            *last.borrow_mut() = seen;
            done.then_some(())
        })
        .await;
        assert!(
            waited.is_some(),
            "timed out waiting for {what}; last seen: {:?}",
            last.borrow()
        );
    }
}

struct Running {
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::result::Result<(), kopf_core::reactor::OperatorError>>,
}

impl Running {
    /// Stops the operator and checks it ended cleanly.
    async fn stop(mut self) {
        drop(self.stop.take());
        let ended = tokio::time::timeout(DEADLINE, &mut self.task).await;
        let result = ended
            .expect("the operator stops in time")
            .expect("no panic");
        assert!(result.is_ok(), "the operator failed: {result:?}");
    }
}

/// Waits until the journal satisfies `check`.
async fn wait_journal(journal: &Journal, what: &str, check: impl Fn(&[String]) -> bool) {
    let waited = poll_until(DEADLINE, || async { check(&journal.lines()).then_some(()) }).await;
    assert!(
        waited.is_some(),
        "timed out waiting for {what}; journal: {:?}",
        journal.lines()
    );
}

/// A changing handler of the test resource with an id of kopf's usual shape (closures
/// have no name of their own to default to).
fn changing<A>(kind: HandlerKind, id: &str, f: impl HandlerFn<Changing, A>) -> Handler<Changing> {
    Handler::<Changing>::new(kind, "kopfexamples", f).with_id(id)
}

fn annotation<'a>(object: Option<&'a Value>, key: &str) -> Option<&'a str> {
    object?.pointer("/metadata/annotations")?.get(key)?.as_str()
}

fn has_finalizer(object: Option<&Value>) -> bool {
    object
        .and_then(|o| o.pointer("/metadata/finalizers"))
        .and_then(Value::as_array)
        .is_some_and(|items| items.iter().any(|f| f == FINALIZER))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_handlers_get_their_arguments_and_the_finalizer_comes_and_goes() {
    let cluster = Cluster::start().await;
    let journal = Journal::default();
    let (j1, j2, j3) = (journal.clone(), journal.clone(), journal.clone());
    let registry = Registry::new()
        .on_create(
            "kopfexamples",
            move |name: Name, reason: Reason, spec: Spec| {
                let j = j1.clone();
                async move { j.push(format!("{reason} {} size={}", *name, spec["size"])) }
            },
        )
        .on_field(
            "kopfexamples",
            "spec.size",
            move |old: Old, new: New, reason: Reason| {
                let j = j2.clone();
                async move { j.push(format!("field {reason} {:?} -> {:?}", *old, *new)) }
            },
        )
        .on_delete("kopfexamples", move |name: Name, body: Body| {
            let j = j3.clone();
            let deleting = body.deletion_timestamp().is_some();
            async move { j.push(format!("delete {} deleting={deleting}", *name)) }
        });
    let operator = cluster.operator(registry).await;

    cluster.create("obj1", json!({"size": "1G"})).await;
    cluster
        .wait_object("obj1", "the finalizer and the diff-base", |o| {
            has_finalizer(o)
                && annotation(o, "kopf.zalando.org/last-handled-configuration").is_some()
        })
        .await;
    cluster.merge("obj1", json!({"spec": {"size": "2G"}})).await;
    wait_journal(&journal, "the field handler's update", |lines| {
        lines.iter().any(|l| l.starts_with("field update"))
    })
    .await;
    cluster
        .api
        .delete("obj1", &DeleteParams::default())
        .await
        .unwrap();
    cluster
        .wait_object("obj1", "the object to be gone", |o| o.is_none())
        .await;

    assert_eq!(
        journal.lines(),
        vec![
            "create obj1 size=\"1G\"".to_string(),
            "field create None -> Some(String(\"1G\"))".to_string(),
            "field update Some(String(\"1G\")) -> Some(String(\"2G\"))".to_string(),
            "delete obj1 deleting=true".to_string(),
        ]
    );
    operator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patches_go_in_kopfs_order_and_results_land_in_status() {
    let cluster = Cluster::start().await;
    let registry = Registry::new()
        .with(changing(HandlerKind::Create, "create_fn", || async {
            Result::<Value>::Ok(json!({"message": "created"}))
        }))
        .with(changing(HandlerKind::Delete, "delete_fn", || async {
            Result::<Value>::Ok(json!("deleted"))
        }));
    let operator = cluster.operator(registry).await;
    let control = cluster.ts.server.control();
    control.record_requests(true);

    cluster.create("obj2", json!({})).await;
    cluster
        .wait_object("obj2", "the create handler's result", |o| {
            o.and_then(|o| o.pointer("/status/create_fn/message")) == Some(&json!("created"))
        })
        .await;
    cluster
        .api
        .delete("obj2", &DeleteParams::default())
        .await
        .unwrap();
    cluster
        .wait_object("obj2", "the object to be gone", |o| o.is_none())
        .await;

    let patches: Vec<String> = control
        .recorded_requests()
        .into_iter()
        .filter(|r| r.method == "PATCH" && r.path.contains("/obj2"))
        .map(|r| {
            let part = if r.path.ends_with("/status") {
                "status"
            } else {
                "resource"
            };
            format!("{part} {}", r.content_type)
        })
        .collect();
    assert_eq!(
        patches,
        vec![
            // Adding the finalizer is a cycle of its own.
            "resource application/json-patch+json",
            // Creation: the diff-base on the resource, then the result in the status.
            "resource application/merge-patch+json",
            "status application/merge-patch+json",
            // Deletion: the result in the status, then the finalizer's release.
            "status application/merge-patch+json",
            "resource application/json-patch+json",
        ]
    );
    operator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_handlers_see_the_listing_and_every_event_in_order() {
    let cluster = Cluster::start().await;
    cluster.create("listed", json!({"n": 0})).await;
    let journal = Journal::default();
    let j = journal.clone();
    let registry = Registry::new().on_event(
        "kopfexamples",
        move |t: EventType, name: Name, spec: Spec| {
            let j = j.clone();
            async move { j.push(format!("{t} {} {}", *name, spec["n"])) }
        },
    );
    let operator = cluster.operator(registry).await;
    wait_journal(&journal, "the listed object", |lines| !lines.is_empty()).await;

    cluster.create("watched", json!({"n": 1})).await;
    for n in 2..=5 {
        cluster.merge("watched", json!({"spec": {"n": n}})).await;
    }
    cluster
        .api
        .delete("watched", &DeleteParams::default())
        .await
        .unwrap();
    wait_journal(&journal, "the deletion event", |lines| {
        lines.iter().any(|l| l.starts_with("DELETED"))
    })
    .await;

    let lines = journal.lines();
    assert_eq!(lines[0], "None listed 0");
    let watched: Vec<&str> = lines[1..].iter().map(String::as_str).collect();
    assert_eq!(
        watched,
        vec![
            "ADDED watched 1",
            "MODIFIED watched 2",
            "MODIFIED watched 3",
            "MODIFIED watched 4",
            "MODIFIED watched 5",
            "DELETED watched 5",
        ]
    );
    // Event handlers hold no state on the object: no finalizer, no annotations of kopf's.
    let listed = cluster.get("listed").await;
    assert!(!has_finalizer(listed.as_ref()));
    assert!(
        annotation(
            listed.as_ref(),
            "kopf.zalando.org/last-handled-configuration"
        )
        .is_none()
    );
    operator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_watches_and_forced_relists_lose_no_object() {
    let cluster = Cluster::start().await;
    let journal = Journal::default();
    let j = journal.clone();
    let registry = Registry::new().on_create("kopfexamples", move |name: Name| {
        let j = j.clone();
        async move { j.push(name.0) }
    });
    let operator = cluster.operator(registry).await;
    let control = cluster.ts.server.control();
    for index in 0..12 {
        cluster.create(&format!("obj-{index}"), json!({})).await;
        match index % 3 {
            0 => control.drop_watches(),
            1 => control.compact(),
            _ => {}
        }
    }
    wait_journal(&journal, "all 12 creations", |lines| lines.len() >= 12).await;
    let mut names = journal.lines();
    names.sort();
    let mut expected: Vec<String> = (0..12).map(|i| format!("obj-{i}")).collect();
    expected.sort();
    assert_eq!(
        names, expected,
        "each object is created once, none is lost or repeated"
    );
    operator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_handler_keeps_kopfs_progress_record_until_it_succeeds() {
    let cluster = Cluster::start().await;
    let allowed = Arc::new(AtomicBool::new(false));
    let gate = allowed.clone();
    let registry = Registry::new().with(changing(HandlerKind::Create, "create_fn", move || {
        let gate = gate.clone();
        async move {
            if gate.load(Ordering::SeqCst) {
                Ok(())
            } else {
                Err(TemporaryError::new("not yet").with_delay(0.2))
            }
        }
    }));
    let operator = cluster.operator(registry).await;
    cluster.create("obj3", json!({})).await;
    let key = "kopf.zalando.org/create_fn";
    cluster
        .wait_object("obj3", "a progress record with a retry", |o| {
            annotation(o, key).is_some_and(|text| {
                let record: Value = serde_json::from_str(text).unwrap_or_default();
                record["purpose"] == "create"
                    && record["retries"].as_u64() >= Some(1)
                    && record["success"] == false
                    && record["message"] == "not yet"
            })
        })
        .await;
    allowed.store(true, Ordering::SeqCst);
    cluster
        .wait_object("obj3", "the record purged and the diff-base stored", |o| {
            annotation(o, key).is_none()
                && annotation(o, "kopf.zalando.org/last-handled-configuration").is_some()
        })
        .await;
    operator.stop().await;
}

/// What the operator-wide memo holds in the memo test.
struct Greeting(&'static str);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_memo_per_object_is_shared_by_its_handlers_and_the_operator_memo_reaches_all() {
    let cluster = Cluster::start().await;
    let journal = Journal::default();
    let j = journal.clone();
    let timer = SpawningOptions::Timer {
        interval: Some(0.05),
        initial_delay: None,
        idle: None,
        sharp: false,
    };
    let registry = Registry::new()
        .with(changing(
            HandlerKind::Create,
            "create_fn",
            |memo: Memo, greeting: OperatorMemo<Greeting>| async move {
                memo.slot::<Vec<String>>()
                    .lock()
                    .unwrap()
                    .push(format!("{} from create", greeting.0.0));
                memo.set_as("created", &true);
            },
        ))
        .with(
            Handler::<Spawning>::new(HandlerKind::Timer, "kopfexamples", move |memo: Memo| {
                let j = j.clone();
                async move {
                    if memo.get_as::<bool>("created") == Some(true) {
                        let seen = memo.slot::<Vec<String>>().lock().unwrap().clone();
                        j.push(seen.join(","));
                    }
                }
            })
            .with_id("timer_fn")
            .with_options(timer),
        );
    let operator = cluster
        .operator_of(Operator::new(registry).memo(Greeting("hello")))
        .await;
    cluster.create("obj4", json!({})).await;
    wait_journal(
        &journal,
        "the timer seeing the create handler's memo",
        |lines| lines.iter().any(|l| l == "hello from create"),
    )
    .await;
    operator.stop().await;
}
