//! Parity with Python kopf 1.45.2 for `settings.persistence` set by a startup handler: a
//! custom finalizer, a non-kopf prefix, progress or the diff-base in the status. A half-done
//! object (one handler done, one failed temporarily) left by either operator looks the same
//! (timestamps aside), and the other one finishes it without repeating the finished handler,
//! leaving the same state; nothing is ever written under `kopf.zalando.org/`.

use crate::e2e_support;

use e2e_support::{
    BUILD_DEADLINE, Cluster, STEP_DEADLINE, observable, operator_file, python_kopf_with_env,
};
use kopf_test_support::{Process, poll_until_blocking, workspace_root};
use serde_json::{Value, json};

const PREFIX: &str = "my-op.example.com";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Side {
    Python,
    Rust,
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    /// Progress in `status.my-op.progress`, the diff-base in annotations under the prefix.
    Status,
    /// Progress in annotations under the prefix, the diff-base in `status.my-op.diffbase`.
    Smart,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Status => "status",
            Mode::Smart => "smart",
        }
    }

    /// A handler's stored record, wherever this mode keeps it.
    fn record(self, object: &Value, id: &str) -> Option<Value> {
        match self {
            Mode::Status => object
                .pointer(&format!("/status/my-op/progress/{id}"))
                .cloned(),
            Mode::Smart => {
                let text = object.pointer(&format!("/metadata/annotations/{PREFIX}~1{id}"))?;
                serde_json::from_str(text.as_str()?).ok()
            }
        }
    }

    fn diffbase(self, object: &Value) -> Option<&Value> {
        match self {
            Mode::Status => object.pointer(&format!(
                "/metadata/annotations/{PREFIX}~1last-handled-configuration"
            )),
            Mode::Smart => object.pointer("/status/my-op/diffbase"),
        }
    }
}

fn start(side: Side, cluster: &Cluster, mode: Mode, failing: bool) -> Process {
    let mut envs = vec![("PERSISTENCE_MODE", mode.name())];
    if failing {
        envs.push(("HANDOVER_FAIL", "1"));
    }
    match side {
        Side::Python => python_kopf_with_env(cluster, "persistence.py", &envs),
        Side::Rust => cluster.kopf_run_with_env(
            &operator_file("persistence.rs"),
            &["--verbose", "-A"],
            &envs,
        ),
    }
}

fn deadline(side: Side) -> std::time::Duration {
    match side {
        Side::Python => STEP_DEADLINE * 2,
        Side::Rust => BUILD_DEADLINE,
    }
}

/// Timestamps (also inside JSON-encoded annotations) replaced, so that runs compare; and
/// empty objects left by purged keys dropped: whether a touch-dummy was written (and then
/// purged, leaving `status.kopf: {}`) depends on how long the operators took to start.
fn masked(value: &Value) -> Value {
    match value {
        Value::String(text)
            if text.len() > 19 && text.as_bytes()[4] == b'-' && text.contains('T') =>
        {
            json!("<time>")
        }
        Value::String(text) if text.starts_with('{') => match serde_json::from_str::<Value>(text) {
            Ok(inner) => {
                let newline = if text.ends_with('\n') { "\n" } else { "" };
                json!(format!("{}{newline}", masked(&inner)))
            }
            Err(_) => value.clone(),
        },
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), masked(v)))
                .filter(|(_, v)| v.as_object().is_none_or(|o| !o.is_empty()))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(masked).collect()),
        other => other.clone(),
    }
}

fn assert_no_kopf_annotations(state: &Value) {
    let annotations = state["annotations"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert!(
        !annotations
            .keys()
            .any(|k| k.starts_with("kopf.zalando.org/")),
        "{state}"
    );
}

/// One handover: `first` leaves the object half-done, `second` finishes and deletes it.
/// Returns the observable states (masked): half-done, then handled.
fn handover(mode: Mode, first: Side, second: Side) -> (Value, Value) {
    let name = format!("persistence-{}-{first:?}-{second:?}", mode.name()).to_lowercase();
    let cluster = Cluster::start(&name);
    let example = workspace_root().join("examples/ephemeral");
    cluster.kubectl_ok(&["apply", "-f", example.join("crd.yaml").to_str().unwrap()]);
    cluster.kubectl_ok(&["apply", "-f", example.join("obj.yaml").to_str().unwrap()]);

    let mut failing = start(first, &cluster, mode, true);
    failing.wait_for(
        "Handler 'create_b' failed temporarily: not yet",
        deadline(first),
    );
    let half = poll_until_blocking(STEP_DEADLINE, || {
        let object = cluster.get_json("evc", "my-claim")?;
        let a = mode.record(&object, "create_a")?;
        let b = mode.record(&object, "create_b")?;
        (a["success"] == json!(true) && b["retries"] == json!(1)).then_some(object)
    })
    .unwrap_or_else(|| {
        panic!(
            "no half-done object; the operator said:\n{}",
            failing.output()
        )
    });
    failing.interrupt();

    let mut finishing = start(second, &cluster, mode, false);
    finishing.wait_for(
        "Creation is processed: 2 succeeded; 0 failed.",
        deadline(second),
    );
    let handled = poll_until_blocking(STEP_DEADLINE, || {
        let object = cluster.get_json("evc", "my-claim")?;
        let done = mode.diffbase(&object).is_some() && mode.record(&object, "create_b").is_none();
        done.then_some(object)
    })
    .unwrap_or_else(|| panic!("not handled; the operator said:\n{}", finishing.output()));
    assert_eq!(
        finishing.count("Handler 'create_a'"),
        0,
        "{second:?} repeated what {first:?} finished"
    );
    assert_eq!(finishing.count("Handler 'create_b' succeeded."), 1);

    cluster.kubectl_ok(&["delete", "evc", "my-claim"]);
    finishing.wait_for(
        "Deletion is processed: 1 succeeded; 0 failed.",
        STEP_DEADLINE,
    );
    let gone = poll_until_blocking(STEP_DEADLINE, || {
        cluster.get_json("evc", "my-claim").is_none().then_some(())
    });
    assert!(gone.is_some(), "the custom finalizer is released");
    finishing.interrupt();

    let (half, handled) = (masked(&observable(&half)), masked(&observable(&handled)));
    assert_no_kopf_annotations(&half);
    assert_no_kopf_annotations(&handled);
    (half, handled)
}

fn both_ways(mode: Mode) -> Value {
    let (python_half, rust_finished) = handover(mode, Side::Python, Side::Rust);
    let (rust_half, python_finished) = handover(mode, Side::Rust, Side::Python);
    assert_eq!(
        python_half, rust_half,
        "half-done by python kopf (left) and kopf-rs (right)"
    );
    assert_eq!(
        python_finished, rust_finished,
        "finished by python kopf (left) and kopf-rs (right)"
    );
    assert_eq!(
        rust_half["finalizers"],
        json!([format!("{PREFIX}/finalizer")])
    );
    assert_eq!(
        rust_finished["finalizers"],
        json!([format!("{PREFIX}/finalizer")])
    );
    assert_eq!(rust_finished["status"]["create_a"], json!({"a": 1}));
    assert_eq!(rust_finished["status"]["create_b"], json!({"b": 2}));
    assert_eq!(
        rust_finished["annotations"][format!("{PREFIX}/kopf-managed")],
        json!("yes"),
        "a non-kopf prefix is marked"
    );
    rust_finished
}

#[test]
fn status_progress_and_a_prefixed_diffbase_are_handed_over_both_ways() {
    let finished = both_ways(Mode::Status);
    assert_eq!(
        finished["annotations"][format!("{PREFIX}/last-handled-configuration")],
        json!("{\"spec\":{\"size\":\"1G\"}}\n")
    );
}

#[test]
fn prefixed_progress_and_a_status_diffbase_are_handed_over_both_ways() {
    let finished = both_ways(Mode::Smart);
    assert_eq!(
        finished["status"]["my-op"]["diffbase"],
        json!("{\"spec\":{\"size\":\"1G\"}}")
    );
}
