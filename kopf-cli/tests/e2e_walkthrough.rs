//! kopf's walkthrough, "Starting the operator", end to end: `kopf run` against the
//! embedded API server, driven with kubectl, asserting kopf's log lines and what the
//! operator stored on the objects.

use crate::e2e_support;

use e2e_support::{BUILD_DEADLINE, Cluster, STEP_DEADLINE};
use kopf_test_support::{wait_for_blocking, workspace_root};
use serde_json::Value;

const LAST_HANDLED: &str = "kopf.zalando.org/last-handled-configuration";
const FINALIZER: &str = "kopf.zalando.org/KopfFinalizerMarker";

fn annotations(object: &Value) -> serde_json::Map<String, Value> {
    object
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn finalizers(object: &Value) -> Vec<String> {
    object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The walkthrough's own operator: the log tells its story; no finalizer for a create-only
/// operator; the last-handled configuration is stored, and no progress record is left.
#[test]
fn walkthrough_operator_tells_the_story_in_its_log() {
    let cluster = Cluster::start("walkthrough");
    let example = workspace_root().join("examples/ephemeral");
    cluster.kubectl_ok(&["apply", "-f", example.join("crd.yaml").to_str().unwrap()]);
    cluster.kubectl_ok(&["apply", "-f", example.join("obj.yaml").to_str().unwrap()]);

    let mut operator = cluster.kopf_run(&example.join("ephemeral.rs"), &["--verbose"]);
    operator.wait_for(
        "Handling cycle is finished, waiting for new changes.",
        BUILD_DEADLINE,
    );

    let story = [
        "Starting the watch-stream for ephemeralvolumeclaims.v1.kopf.dev cluster-wide.",
        "[default/my-claim] First appearance: {'apiVersion': 'kopf.dev/v1'",
        "[default/my-claim] Creation is in progress: {",
        "[default/my-claim] Handler 'create_fn' is invoked.",
        "[default/my-claim] Handler 'create_fn' succeeded.",
        "[default/my-claim] Creation is processed: 1 succeeded; 0 failed.",
        "[default/my-claim] Merge-patching the resource with: {'metadata': {'annotations': {'kopf.zalando.org/last-handled-configuration': '{\"spec\":{\"size\":\"1G\"}}\\n'}}}",
        "[default/my-claim] Something has changed, but we are not interested (the essence is the same).",
        "[default/my-claim] Handling cycle is finished, waiting for new changes.",
    ];
    let lines = operator.lines();
    let mut position = 0;
    for step in story {
        let found = lines[position..].iter().position(|l| l.contains(step));
        let Some(offset) = found else {
            panic!(
                "the log lacks {step:?} after line {position}:\n{}",
                lines.join("\n")
            );
        };
        position += offset + 1;
    }
    // Printed by the handler on stdout (a separate pipe: not ordered with the log, so it
    // may arrive after the log's last line).
    operator.wait_for(
        "A handler is called with body: {\"apiVersion\":\"kopf.dev/v1\"",
        STEP_DEADLINE,
    );
    assert_eq!(
        operator.count("A handler is called with body: {\"apiVersion\":\"kopf.dev/v1\""),
        1
    );
    // kopf's full format: `[date time,ms] logger-name-padded [LEVEL   ] [ns/name] message`.
    let invoked = lines
        .iter()
        .find(|l| l.contains("Handler 'create_fn' is invoked."))
        .unwrap();
    assert!(
        invoked.contains(" kopf.objects         [DEBUG   ] [default/my-claim] "),
        "{invoked}"
    );
    assert_eq!(
        operator.count("Adding the finalizer"),
        0,
        "a create-only operator needs no finalizer"
    );

    let object = cluster
        .get_json("ephemeralvolumeclaims", "my-claim")
        .expect("the object exists");
    let annotations = annotations(&object);
    assert_eq!(
        annotations.get(LAST_HANDLED),
        Some(&Value::String("{\"spec\":{\"size\":\"1G\"}}\n".into()))
    );
    assert!(
        !annotations.contains_key("kopf.zalando.org/create_fn"),
        "no progress record is left behind"
    );
    assert!(finalizers(&object).is_empty());
    assert!(operator.interrupt().success());
}

/// The whole story with a delete handler: created before the operator starts, handled
/// once; a restart handles nothing; delete + apply handles again; a spec patch reaches
/// the update handler with its diff; the delete handler holds the finalizer until it succeeds.
#[test]
fn lifecycle_is_handled_once_across_restarts_updates_and_deletion() {
    let cluster = Cluster::start("lifecycle");
    let example = workspace_root().join("examples/ephemeral");
    let obj = example.join("obj.yaml");
    let obj = obj.to_str().unwrap();
    cluster.kubectl_ok(&["apply", "-f", example.join("crd.yaml").to_str().unwrap()]);
    cluster.kubectl_ok(&["apply", "-f", obj]);
    let file =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/operators/lifecycle.rs");

    // Created before the operator starts: handled once, body printed, diff-base stored.
    let mut operator = cluster.kopf_run(&file, &["--verbose", "-A"]);
    operator.wait_for(
        "Creation is processed: 1 succeeded; 0 failed.",
        BUILD_DEADLINE,
    );
    operator.wait_for(
        "Handling cycle is finished, waiting for new changes.",
        STEP_DEADLINE,
    );
    // Printed by the handler on stdout (a separate pipe: it may come after the log's lines).
    operator.wait_for("A handler is called with body: {", STEP_DEADLINE);
    assert_eq!(operator.count("A handler is called with body: {"), 1);
    assert_eq!(
        operator.count("Adding the finalizer, thus preventing the actual deletion."),
        1
    );
    let object = cluster
        .get_json("evc", "my-claim")
        .expect("the object exists");
    assert!(annotations(&object).contains_key(LAST_HANDLED));
    assert!(!annotations(&object).contains_key("kopf.zalando.org/create_fn"));
    assert_eq!(finalizers(&object), vec![FINALIZER.to_string()]);
    assert!(operator.interrupt().success());

    // Restarted: the object is resumed, nothing is handled, nothing is patched.
    let version = object.pointer("/metadata/resourceVersion").cloned();
    let mut operator = cluster.kopf_run(&file, &["--verbose", "-A"]);
    operator.wait_for("Resuming is in progress: {", STEP_DEADLINE);
    operator.wait_for(
        "Handling cycle is finished, waiting for new changes.",
        STEP_DEADLINE,
    );
    assert_eq!(operator.count("is invoked."), 0);
    assert_eq!(
        operator.count("patching the"),
        0,
        "a restart writes nothing"
    );
    let object = cluster
        .get_json("evc", "my-claim")
        .expect("the object exists");
    assert_eq!(
        object.pointer("/metadata/resourceVersion").cloned(),
        version
    );

    // A spec patch: the update handler gets the diff.
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
        "update_fn got the diff: (('change', ('spec', 'size'), '1G', '2G'),)",
        STEP_DEADLINE,
    );
    operator.wait_for(
        "Updating is processed: 1 succeeded; 0 failed.",
        STEP_DEADLINE,
    );

    // Deleted: the delete handler fails once and holds the finalizer; then it succeeds.
    cluster.kubectl_ok(&["delete", "evc", "my-claim", "--wait=false"]);
    operator.wait_for(
        "Handler 'delete_fn' failed temporarily: not yet, the volume is still in use",
        STEP_DEADLINE,
    );
    let held = cluster
        .get_json("evc", "my-claim")
        .expect("the finalizer holds the object");
    assert!(held.pointer("/metadata/deletionTimestamp").is_some());
    assert_eq!(finalizers(&held), vec![FINALIZER.to_string()]);
    operator.wait_for(
        "Deletion is processed: 1 succeeded; 0 failed.",
        STEP_DEADLINE,
    );
    operator.wait_for(
        "Deleted, really deleted, and we are notified.",
        STEP_DEADLINE,
    );
    wait_for_blocking("the object to be gone", STEP_DEADLINE, || {
        cluster.get_json("evc", "my-claim").is_none().then_some(())
    });

    // Re-created: handled again.
    cluster.kubectl_ok(&["apply", "-f", obj]);
    operator.wait_for_count(
        "Creation is processed: 1 succeeded; 0 failed.",
        1,
        STEP_DEADLINE,
    );
    operator.wait_for_count("A handler is called with body: {", 1, STEP_DEADLINE);
    assert!(operator.interrupt().success());
}

/// A CRD created after the operator started is picked up; `-n` limits the namespaces.
#[test]
fn crds_created_later_are_served_and_namespaces_are_limited() {
    let cluster = Cluster::start("late-crd");
    let example = workspace_root().join("examples/ephemeral");
    let mut operator = cluster.kopf_run(
        &example.join("ephemeral.rs"),
        &["--verbose", "-n", "default"],
    );
    operator.wait_for(
        "Unresolved resources cannot be served (try creating their CRDs): ephemeralvolumeclaims",
        BUILD_DEADLINE,
    );

    cluster.kubectl_ok(&["apply", "-f", example.join("crd.yaml").to_str().unwrap()]);
    cluster.kubectl_ok(&["create", "namespace", "elsewhere"]);
    cluster.kubectl_ok(&[
        "apply",
        "-n",
        "elsewhere",
        "-f",
        example.join("obj.yaml").to_str().unwrap(),
    ]);
    cluster.kubectl_ok(&["apply", "-f", example.join("obj.yaml").to_str().unwrap()]);
    operator.wait_for(
        "[default/my-claim] Creation is processed: 1 succeeded; 0 failed.",
        STEP_DEADLINE,
    );
    operator.wait_for(
        "[default/my-claim] Handling cycle is finished, waiting for new changes.",
        STEP_DEADLINE,
    );
    assert_eq!(
        operator.count("[elsewhere/my-claim]"),
        0,
        "another namespace is not served"
    );
    let other = cluster.kubectl_ok(&["get", "evc", "my-claim", "-n", "elsewhere", "-o", "json"]);
    assert!(!other.contains(LAST_HANDLED));
    assert!(operator.interrupt().success());
}
