//! Parity with Python kopf 1.45.2: the same operator, the same scenario, the same
//! finalizers, annotations (timestamps aside) and status on the objects; and an object
//! handled by one is not handled again by the other.

use crate::e2e_support;

use e2e_support::{BUILD_DEADLINE, Cluster, STEP_DEADLINE, observable, operator_file, python_kopf};
use kopf_test_support::{Process, wait_for_blocking, workspace_root};
use serde_json::{Value, json};

fn python_operator(cluster: &Cluster) -> Process {
    python_kopf(cluster, "parity.py")
}

fn rust_operator(cluster: &Cluster) -> Process {
    cluster.kopf_run(&operator_file("parity.rs"), &["--verbose", "-A"])
}

fn rust_operator_eager(cluster: &Cluster) -> Process {
    cluster.kopf_run(
        &operator_file("parity.rs"),
        &["--verbose", "-A", "--progress-flush-after", "0"],
    )
}

fn rust_operator_all_at_once(cluster: &Cluster) -> Process {
    cluster.kopf_run(
        &operator_file("parity.rs"),
        &["--verbose", "-A", "--lifecycle", "all-at-once"],
    )
}

/// The object's observable states after each step, and how many patches the operator sent.
struct Run {
    states: Vec<Value>,
    patches: usize,
}

/// Runs the scenario with one operator: created before start, patched, then returns the
/// object's observable state after each step; finally deletes it.
fn scenario(
    start: fn(&Cluster) -> Process,
    name: &str,
    deadline_first: std::time::Duration,
) -> Run {
    let cluster = Cluster::start(name);
    let example = workspace_root().join("examples/ephemeral");
    cluster.kubectl_ok(&["apply", "-f", example.join("crd.yaml").to_str().unwrap()]);
    cluster.kubectl_ok(&["apply", "-f", example.join("obj.yaml").to_str().unwrap()]);
    let mut operator = start(&cluster);
    let mut states = Vec::new();

    operator.wait_for(
        "Creation is processed: 2 succeeded; 0 failed.",
        deadline_first,
    );
    let created = wait_for_blocking("the diff-base after creation", STEP_DEADLINE, || {
        let object = cluster.get_json("evc", "my-claim")?;
        let annotations = object.pointer("/metadata/annotations")?.as_object()?;
        let done = annotations.contains_key("kopf.zalando.org/last-handled-configuration")
            && !annotations
                .keys()
                .any(|k| k.starts_with("kopf.zalando.org/") && k.ends_with("_fn"));
        done.then_some(object)
    });
    states.push(observable(&created));

    cluster.kubectl_ok(&[
        "patch",
        "evc",
        "my-claim",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"size":"2G"}}"#,
    ]);
    operator.wait_for(
        "Updating is processed: 2 succeeded; 0 failed.",
        STEP_DEADLINE,
    );
    let updated = wait_for_blocking("the diff-base after the update", STEP_DEADLINE, || {
        let object = cluster.get_json("evc", "my-claim")?;
        let base =
            object.pointer("/metadata/annotations/kopf.zalando.org~1last-handled-configuration")?;
        let clean = !object
            .pointer("/metadata/annotations")?
            .as_object()?
            .keys()
            .any(|k| k.starts_with("kopf.zalando.org/") && k.ends_with("_fn"));
        (base.as_str()?.contains("2G") && clean).then_some(object)
    });
    states.push(observable(&updated));

    cluster.kubectl_ok(&["delete", "evc", "my-claim"]);
    operator.wait_for(
        "Deletion is processed: 1 succeeded; 0 failed.",
        STEP_DEADLINE,
    );
    wait_for_blocking("the object to be gone", STEP_DEADLINE, || {
        cluster.get_json("evc", "my-claim").is_none().then_some(())
    });
    let patches = operator.count("patching the");
    operator.interrupt();
    Run { states, patches }
}

#[test]
fn python_kopf_and_kopf_rs_leave_the_same_state_on_objects() {
    let python = scenario(python_operator, "parity-python", STEP_DEADLINE * 2).states;
    let ours = scenario(rust_operator, "parity-rust", BUILD_DEADLINE).states;
    assert_eq!(
        python, ours,
        "python kopf (left) and kopf-rs (right) disagree"
    );
    // The states are what kopf writes: a finalizer, the diff-base, the handlers' results.
    assert_eq!(
        ours[0]["finalizers"],
        json!(["kopf.zalando.org/KopfFinalizerMarker"])
    );
    assert_eq!(
        ours[0]["status"]["create_fn"],
        json!({"message": "created", "size": "1G"})
    );
    assert_eq!(
        ours[1]["annotations"]["kopf.zalando.org/last-handled-configuration"],
        json!("{\"spec\":{\"size\":\"2G\"}}\n")
    );
}

/// An object handled by Python kopf is resumed, not re-created, by kopf-rs; and back.
#[test]
fn objects_handled_by_one_are_not_handled_again_by_the_other() {
    let cluster = Cluster::start("handover");
    let example = workspace_root().join("examples/ephemeral");
    cluster.kubectl_ok(&["apply", "-f", example.join("crd.yaml").to_str().unwrap()]);
    cluster.kubectl_ok(&["apply", "-f", example.join("obj.yaml").to_str().unwrap()]);

    let mut python = python_operator(&cluster);
    python.wait_for(
        "Creation is processed: 2 succeeded; 0 failed.",
        STEP_DEADLINE * 2,
    );
    python.wait_for(
        "Handling cycle is finished, waiting for new changes.",
        STEP_DEADLINE,
    );
    python.interrupt();

    let mut ours = rust_operator(&cluster);
    ours.wait_for("Resuming is in progress: {", BUILD_DEADLINE);
    ours.wait_for(
        "Handling cycle is finished, waiting for new changes.",
        STEP_DEADLINE,
    );
    assert_eq!(
        ours.count("Handler '"),
        0,
        "kopf-rs re-handled what Python kopf handled"
    );
    cluster.kubectl_ok(&[
        "patch",
        "evc",
        "my-claim",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"size":"3G"}}"#,
    ]);
    ours.wait_for(
        "Updating is processed: 2 succeeded; 0 failed.",
        STEP_DEADLINE,
    );
    ours.wait_for_count(
        "Handling cycle is finished, waiting for new changes.",
        2,
        STEP_DEADLINE,
    );
    ours.interrupt();

    let mut python = python_operator(&cluster);
    python.wait_for("Resuming is in progress: {", STEP_DEADLINE * 2);
    python.wait_for(
        "Handling cycle is finished, waiting for new changes.",
        STEP_DEADLINE,
    );
    assert_eq!(
        python.count("Handler '"),
        0,
        "Python kopf re-handled what kopf-rs handled"
    );
    python.interrupt();
}

/// Every lifecycle leaves Python kopf's state on the objects. Writing progress only at the
/// end of a cycle (the default) costs fewer patches than writing it after every handler,
/// which `--progress-flush-after 0` does as Python kopf does.
#[test]
fn lifecycles_leave_the_same_state_and_batch_their_patches() {
    let python = scenario(python_operator, "lifecycle-python", STEP_DEADLINE * 2);
    let batched = scenario(rust_operator, "lifecycle-batched", BUILD_DEADLINE);
    let eager = scenario(rust_operator_eager, "lifecycle-eager", BUILD_DEADLINE);
    let all_at_once = scenario(
        rust_operator_all_at_once,
        "lifecycle-all-at-once",
        BUILD_DEADLINE,
    );
    for (name, run) in [
        ("default", &batched),
        ("--progress-flush-after 0", &eager),
        ("--lifecycle all-at-once", &all_at_once),
    ] {
        assert_eq!(
            python.states, run.states,
            "python kopf (left) and kopf-rs {name} (right) disagree"
        );
    }
    assert!(
        batched.patches < eager.patches,
        "{} patches (default) vs {} (written after every handler)",
        batched.patches,
        eager.patches
    );
    assert!(
        all_at_once.patches < eager.patches,
        "{} patches (all at once) vs {} (written after every handler)",
        all_at_once.patches,
        eager.patches
    );
}
