//! Sub-handlers handed over between Python kopf 1.45.2 and kopf-rs: one side leaves a
//! parent half-done (its first sub-handler succeeded, its second failed once), the other
//! continues it from the records on the object — the succeeded one is not run again, the
//! failed one is retried, the parent finishes — in both directions; and both sides leave
//! the same records (timestamps aside) halfway and the same object at the end.

use crate::e2e_support;

use e2e_support::{BUILD_DEADLINE, Cluster, STEP_DEADLINE, observable, operator_file, python_kopf};
use kopf_test_support::{Process, wait_for_blocking, workspace_root};
use serde_json::{Value, json};
use std::time::Duration;

const ITEM2_RECORD: &str = "/metadata/annotations/kopf.zalando.org~1create_fn.item2";

fn python_operator(cluster: &Cluster) -> Process {
    python_kopf(cluster, "subhandlers.py")
}

fn rust_operator(cluster: &Cluster) -> Process {
    cluster.kopf_run(&operator_file("subhandlers.rs"), &["--verbose", "-A"])
}

/// What the object says halfway and at the end.
struct Handover {
    halfway: Value,
    end: Value,
}

/// The observable state with the records' timestamps masked (their format is checked).
fn masked(object: &Value) -> Value {
    let mut state = observable(object);
    let annotations = state["annotations"].as_object_mut().expect("annotations");
    for (key, value) in annotations.iter_mut() {
        if !key.starts_with("kopf.zalando.org/create_fn") {
            continue;
        }
        let mut record: Value = serde_json::from_str(value.as_str().expect("text")).expect("JSON");
        for field in ["started", "stopped", "delayed"] {
            if let Some(time) = record.get_mut(field) {
                let text = time.as_str().unwrap_or_default();
                assert!(text.len() == 32 && text.ends_with("+00:00"), "{text}");
                *time = json!("T");
            }
        }
        *value = json!(record.to_string());
    }
    state
}

fn handover(
    name: &str,
    first: fn(&Cluster) -> Process,
    first_deadline: Duration,
    second: fn(&Cluster) -> Process,
    second_deadline: Duration,
) -> Handover {
    let cluster = Cluster::start(name);
    let examples = workspace_root().join("examples");
    cluster.kubectl_ok(&["apply", "-f", examples.join("crd.yaml").to_str().unwrap()]);
    cluster.kubectl_ok(&["apply", "-f", examples.join("obj.yaml").to_str().unwrap()]);

    let mut one = first(&cluster);
    one.wait_for(
        "Handler 'create_fn/item2' failed temporarily: not yet",
        first_deadline,
    );
    let halfway = wait_for_blocking("item2's failure on the object", STEP_DEADLINE, || {
        let object = cluster.get_json("kopfexample", "kopf-example-1")?;
        let record: Value = serde_json::from_str(object.pointer(ITEM2_RECORD)?.as_str()?).ok()?;
        (record["retries"] == json!(1)).then_some(object)
    });
    one.interrupt();
    let output = one.output();
    assert_eq!(one.count("=== item1 retry=0"), 1, "{output}");
    assert_eq!(one.count("=== item2 retry=0"), 1, "{output}");
    assert_eq!(one.count("Handler 'create_fn' succeeded."), 0, "{output}");

    let mut other = second(&cluster);
    other.wait_for(
        "Creation is processed: 1 succeeded; 0 failed.",
        second_deadline,
    );
    let end = wait_for_blocking("the records purged", STEP_DEADLINE, || {
        let object = cluster.get_json("kopfexample", "kopf-example-1")?;
        let annotations = object.pointer("/metadata/annotations")?.as_object()?;
        let done = annotations.contains_key("kopf.zalando.org/last-handled-configuration")
            && !annotations.keys().any(|k| k.contains("create_fn"));
        done.then_some(object)
    });
    other.interrupt();
    let output = other.output();
    assert_eq!(
        other.count("Handler 'create_fn/item1' is invoked."),
        0,
        "the succeeded sub-handler ran again:\n{output}"
    );
    assert_eq!(other.count("=== item2 retry=1"), 1, "{output}");
    assert_eq!(
        other.count("Handler 'create_fn/item2' succeeded."),
        1,
        "{output}"
    );
    assert_eq!(other.count("Handler 'create_fn' succeeded."), 1, "{output}");
    Handover {
        halfway: masked(&halfway),
        end: observable(&end),
    }
}

#[test]
fn a_half_done_parent_is_continued_by_the_other_side_in_both_directions() {
    let python_first = handover(
        "subhandlers-python-first",
        python_operator,
        STEP_DEADLINE * 2,
        rust_operator,
        BUILD_DEADLINE,
    );
    let rust_first = handover(
        "subhandlers-rust-first",
        rust_operator,
        BUILD_DEADLINE,
        python_operator,
        STEP_DEADLINE * 2,
    );
    assert_eq!(
        python_first.halfway, rust_first.halfway,
        "python kopf (left) and kopf-rs (right) leave different records halfway"
    );
    assert_eq!(python_first.end, rust_first.end);

    let halfway = &rust_first.halfway;
    let record = |id: &str| halfway["annotations"][format!("kopf.zalando.org/{id}")].clone();
    assert_eq!(
        record("create_fn"),
        json!(
            r#"{"started":"T","delayed":"T","purpose":"create","retries":2,"success":false,"failure":false,"message":"None","subrefs":["create_fn/item1","create_fn/item2"]}"#
        )
    );
    assert_eq!(
        record("create_fn.item1"),
        json!(
            r#"{"started":"T","stopped":"T","purpose":"create","retries":1,"success":true,"failure":false}"#
        )
    );
    assert_eq!(
        record("create_fn.item2"),
        json!(
            r#"{"started":"T","delayed":"T","purpose":"create","retries":1,"success":false,"failure":false,"message":"not yet"}"#
        )
    );
    assert_eq!(
        rust_first.end["status"],
        json!({
            "create_fn": {"message": "all items"},
            "create_fn/item1": {"item": "item1"},
            "create_fn/item2": {"item": "item2"},
        })
    );
}
