//! Parity with Python kopf 1.45.2 for timers: the same finalizer and timer results on an
//! object, and either operator takes the object over from the other and releases it.

use crate::e2e_support;

use e2e_support::{BUILD_DEADLINE, Cluster, STEP_DEADLINE, observable, operator_file, python_kopf};
use kopf_test_support::{Process, poll_until_blocking, wait_for_blocking, workspace_root};
use serde_json::{Value, json};

fn python_operator(cluster: &Cluster) -> Process {
    python_kopf(cluster, "timers.py")
}

fn rust_operator(cluster: &Cluster) -> Process {
    cluster.kopf_run(&operator_file("timers.rs"), &["--verbose", "-A"])
}

fn apply_example(cluster: &Cluster) {
    let examples = workspace_root().join("examples");
    for file in ["crd.yaml", "obj.yaml"] {
        cluster.kubectl_ok(&["apply", "-f", examples.join(file).to_str().unwrap()]);
    }
}

/// Waits until the operator serves and its timer has stored its result; returns the
/// object. A timeout shows the operator's output.
fn ticked(cluster: &Cluster, operator: &mut Process, started: &str) -> Value {
    operator.wait_for(started, BUILD_DEADLINE);
    let found = poll_until_blocking(STEP_DEADLINE, || {
        let object = cluster.get_json("kopfexample", "kopf-example-1")?;
        let done = object.pointer("/status/tick_fn/message") == Some(&json!("ticked"))
            && object.pointer("/metadata/finalizers").is_some();
        done.then_some(object)
    });
    found.unwrap_or_else(|| {
        panic!(
            "the timer's result did not come; the operator said:\n{}",
            operator.output()
        )
    })
}

/// The line both sides log once they watch the example resource.
const WATCHING: &str = "Starting the watch-stream for kopfexamples.v1.kopf.dev";

/// Deletes the example object and waits until the operator has let it go.
fn delete_and_wait(cluster: &Cluster) {
    cluster.kubectl_ok(&["delete", "kopfexample", "kopf-example-1", "--wait=false"]);
    wait_for_blocking("the object to be gone", STEP_DEADLINE, || {
        cluster
            .get_json("kopfexample", "kopf-example-1")
            .is_none()
            .then_some(())
    });
}

fn run_alone(start: fn(&Cluster) -> Process, name: &str) -> Value {
    let cluster = Cluster::start(name);
    apply_example(&cluster);
    let mut operator = start(&cluster);
    let state = observable(&ticked(&cluster, &mut operator, WATCHING));
    delete_and_wait(&cluster);
    let status = operator.interrupt();
    assert!(status.success(), "{}", operator.output());
    state
}

#[test]
fn python_kopf_and_kopf_rs_leave_the_same_timer_state() {
    let python = run_alone(python_operator, "timers-python");
    let ours = run_alone(rust_operator, "timers-rust");
    assert_eq!(ours, python, "ours (left) and Python kopf's (right) differ");
}

/// One starts the timer and stops; the other takes over and releases the object.
fn hand_over(first: fn(&Cluster) -> Process, second: fn(&Cluster) -> Process, name: &str) {
    let cluster = Cluster::start(name);
    apply_example(&cluster);
    let mut operator = first(&cluster);
    ticked(&cluster, &mut operator, WATCHING);
    assert!(operator.interrupt().success(), "{}", operator.output());

    // The finalizer stays while nobody runs; the next operator's timer takes over.
    cluster.kubectl_ok(&[
        "patch",
        "kopfexample",
        "kopf-example-1",
        "--type",
        "merge",
        "--subresource",
        "status",
        "-p",
        r#"{"status":{"tick_fn":{"message":"handed over"}}}"#,
    ]);
    let mut operator = second(&cluster);
    ticked(&cluster, &mut operator, WATCHING);
    delete_and_wait(&cluster);
    assert!(operator.interrupt().success(), "{}", operator.output());
}

#[test]
fn kopf_rs_takes_over_timers_from_python_kopf_and_back() {
    hand_over(python_operator, rust_operator, "timers-py-to-rs");
    hand_over(rust_operator, python_operator, "timers-rs-to-py");
}
