//! Sub-handlers run in-process by `kopf::Operator` against the embedded API server: one
//! per `spec.items` entry, registered by a creation handler; a failing one is retried
//! without re-running its succeeded siblings, and the parent finishes after all of them,
//! with kopf's progress records (the parent's `subrefs` included) and results on the way.

use kopf::serde_json::{Value, json};
use kopf_test_support::{config_for, create_crd, kex, poll_until};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::oneshot;

const DEADLINE: Duration = Duration::from_secs(30);

/// What the handlers did and saw, in order.
static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// kopf's records (timestamps masked) as the parent saw them, per invocation.
static RECORDS: Mutex<Vec<Value>> = Mutex::new(Vec::new());

fn seen() -> Vec<String> {
    SEEN.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

fn see(line: String) {
    SEEN.lock().unwrap_or_else(|p| p.into_inner()).push(line);
}

#[kopf::on::create("kopfexamples", labels = {"case": "items"})]
async fn create_fn(
    spec: kopf::Spec,
    body: kopf::Body,
    subhandlers: kopf::SubHandlers,
) -> kopf::Result<Value> {
    see("create_fn".into());
    RECORDS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(records(body.raw()));
    for item in spec["items"].as_array().into_iter().flatten() {
        let item = item.as_str().unwrap_or_default();
        subhandlers
            .subhandler(item)
            .param(item)
            .register(create_item_fn);
    }
    Ok(json!({"message": "all items"}))
}

async fn create_item_fn(item: kopf::Param<String>, retry: kopf::Retry) -> kopf::Result<Value> {
    see(format!("{} retry={}", *item, *retry));
    if *item == "item2" && *retry == 0 {
        return Err(kopf::TemporaryError::new("not yet").with_delay(1.0))?;
    }
    Ok(json!({"item": *item}))
}

/// The object's kopf records by key, their timestamps checked for kopf's format and
/// replaced by `T`; the JSON text keeps kopf's key order.
fn records(body: &Value) -> Value {
    let mut found = serde_json::Map::new();
    let annotations = body["metadata"]["annotations"].as_object();
    for (key, value) in annotations.into_iter().flatten() {
        let Some(short) = key.strip_prefix("kopf.zalando.org/create_fn") else {
            continue;
        };
        let mut record: Value = serde_json::from_str(value.as_str().unwrap_or("")).unwrap();
        for field in ["started", "stopped", "delayed"] {
            if let Some(time) = record.get_mut(field) {
                let text = time.as_str().unwrap_or_default();
                // `2026-11-25T05:38:23.996464+00:00` (Python's isoformat with microseconds).
                assert!(text.len() == 32 && text.ends_with("+00:00"), "{text}");
                *time = json!("T");
            }
        }
        found.insert(format!("create_fn{short}"), json!(record.to_string()));
    }
    Value::Object(found)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_handlers_are_retried_alone_and_finish_their_parent() {
    let ts = kopf_test_support::start().await;
    create_crd(&ts).await;
    let object = json!({
        "apiVersion": "kopf.dev/v1", "kind": "KopfExample",
        "metadata": {"name": "kex-sub", "labels": {"case": "items"}}, "spec": {"items": ["item1", "item2", "item3"]},
    });
    kex(&ts, object).await;

    let (stop, operator) = operator(&ts).await;

    let path = "/apis/kopf.dev/v1/namespaces/default/kopfexamples/kex-sub";
    let done = poll_until(DEADLINE, || async {
        let (_, object) = ts.raw("GET", path, None, "").await;
        let annotations = object["metadata"]["annotations"].as_object()?;
        let finished = annotations.contains_key("kopf.zalando.org/last-handled-configuration")
            && !annotations.keys().any(|k| k.contains("create_fn"));
        finished.then_some(object)
    })
    .await
    .unwrap_or_else(|| panic!("the creation was not processed; seen: {:?}", seen()));

    // asap: one sub-handler per invocation of the parent; item2 waits out its delay
    // while item3 runs; item1 and item3 never run again.
    assert_eq!(
        seen(),
        [
            "create_fn",
            "item1 retry=0",
            "create_fn",
            "item2 retry=0",
            "create_fn",
            "item3 retry=0",
            "create_fn",
            "item2 retry=1",
        ]
    );
    let subrefs = r#""subrefs":["create_fn/item1","create_fn/item2","create_fn/item3"]"#;
    let pending =
        r#"{"started":"T","purpose":"create","retries":0,"success":false,"failure":false}"#;
    let succeeded = r#"{"started":"T","stopped":"T","purpose":"create","retries":1,"success":true,"failure":false}"#;
    let parent = |retries: u32| {
        format!(
            r#"{{"started":"T","delayed":"T","purpose":"create","retries":{retries},"success":false,"failure":false,"message":"None",{subrefs}}}"#
        )
    };
    let records = RECORDS.lock().unwrap().clone();
    assert_eq!(records[0], json!({}));
    assert_eq!(
        records[1],
        json!({
            "create_fn": parent(1),
            "create_fn.item1": succeeded,
            "create_fn.item2": pending,
            "create_fn.item3": pending,
        })
    );
    let failed = r#"{"started":"T","delayed":"T","purpose":"create","retries":1,"success":false,"failure":false,"message":"not yet"}"#;
    assert_eq!(
        records[3],
        json!({
            "create_fn": parent(3),
            "create_fn.item1": succeeded,
            "create_fn.item2": failed,
            "create_fn.item3": succeeded,
        })
    );
    assert_eq!(
        done["status"],
        json!({
            "create_fn": {"message": "all items"},
            "create_fn/item1": {"item": "item1"},
            "create_fn/item2": {"item": "item2"},
            "create_fn/item3": {"item": "item3"},
        })
    );
    assert_eq!(
        done["metadata"]["annotations"]["kopf.zalando.org/last-handled-configuration"],
        json!(
            "{\"spec\":{\"items\":[\"item1\",\"item2\",\"item3\"]},\"metadata\":{\"labels\":{\"case\":\"items\"}}}\n"
        )
    );

    drop(stop);
    let ended = tokio::time::timeout(DEADLINE, operator).await;
    assert!(ended.expect("stops in time").expect("no panic").is_ok());
}

type Running = tokio::task::JoinHandle<Result<(), kopf::OperatorError>>;

/// The linked handlers run in-process against `ts`, until the sender is dropped.
async fn operator(ts: &kopf_test_support::TestServer) -> (oneshot::Sender<()>, Running) {
    let client = kube::Client::try_from(config_for(&ts.server.kubeconfig()).await).unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let operator = tokio::spawn(
        kopf::Operator::new(kopf::Registry::linked().unwrap())
            .client(client)
            .cluster_wide()
            .run(async move {
                let _ = stopped.await;
            }),
    );
    (stop, operator)
}

#[kopf::on::create("kopfexamples", labels = {"case": "flush"})]
async fn one_child_fn(subhandlers: kopf::SubHandlers) {
    subhandlers.register("only", || async {});
}

/// Slower than `--progress-flush-after` (0.5 s): the records before it are written first.
#[kopf::on::create("kopfexamples", labels = {"case": "flush"})]
async fn slow_fn() {
    tokio::time::sleep(Duration::from_millis(800)).await;
}

/// A sub-handler's record written early (before a slow handler) is purged at the end too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_written_before_a_slow_handler_are_purged_with_their_parent() {
    let ts = kopf_test_support::start().await;
    create_crd(&ts).await;
    let object = json!({
        "apiVersion": "kopf.dev/v1", "kind": "KopfExample",
        "metadata": {"name": "kex-flush", "labels": {"case": "flush"}}, "spec": {},
    });
    kex(&ts, object).await;
    let (stop, operator) = operator(&ts).await;

    let path = "/apis/kopf.dev/v1/namespaces/default/kopfexamples/kex-flush";
    // Written before slow_fn ran, by the flush: the server has it, the cycle's body not.
    let early = poll_until(DEADLINE, || async {
        let (_, object) = ts.raw("GET", path, None, "").await;
        let annotations = object["metadata"]["annotations"].as_object()?.clone();
        annotations
            .contains_key("kopf.zalando.org/one_child_fn.only")
            .then_some(())
    });
    assert!(
        early.await.is_some(),
        "the sub-handler's record was written early"
    );
    let annotations = poll_until(DEADLINE, || async {
        let (_, object) = ts.raw("GET", path, None, "").await;
        let annotations = object["metadata"]["annotations"].as_object()?.clone();
        annotations
            .contains_key("kopf.zalando.org/last-handled-configuration")
            .then_some(annotations)
    })
    .await
    .expect("the creation is processed");
    let keys: Vec<&String> = annotations.keys().collect();
    assert_eq!(keys, ["kopf.zalando.org/last-handled-configuration"]);

    drop(stop);
    let ended = tokio::time::timeout(DEADLINE, operator).await;
    assert!(ended.expect("stops in time").expect("no panic").is_ok());
}
