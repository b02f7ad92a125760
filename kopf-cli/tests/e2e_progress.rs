//! Progress is written at the end of a cycle, or earlier when a handler is slow: a
//! handler's success is never lost to a crash during a later, slow handler.

use crate::e2e_support;

use e2e_support::{BUILD_DEADLINE, Cluster, STEP_DEADLINE, kopf_cache_dir};
use kopf_test_support::{Process, wait_for_blocking, workspace_root};
use std::process::Command;

const QUICK_RECORD: &str = "/metadata/annotations/kopf.zalando.org~1quick_fn";
const SLOW_RECORD: &str = "/metadata/annotations/kopf.zalando.org~1slow_fn";

fn operator(cluster: &Cluster, slow_seconds: u64) -> Process {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/operators/progress.rs");
    Process::spawn(
        Command::new(env!("CARGO_BIN_EXE_kopf"))
            .arg("run")
            .arg(file)
            .args(["--verbose", "-A"])
            .env("SLOW_FN_SECONDS", slow_seconds.to_string())
            .env("KUBECONFIG", &cluster.kubeconfig)
            .env("KOPF_CACHE_DIR", kopf_cache_dir()),
    )
}

#[test]
fn a_slow_handler_does_not_hold_back_earlier_outcomes() {
    let cluster = Cluster::start("progress");
    let example = workspace_root().join("examples/ephemeral");
    cluster.kubectl_ok(&["apply", "-f", example.join("crd.yaml").to_str().unwrap()]);
    cluster.kubectl_ok(&["apply", "-f", example.join("obj.yaml").to_str().unwrap()]);

    // While slow_fn runs, quick_fn's success is already on the object.
    let mut first = operator(&cluster, 600);
    first.wait_for("Handler 'slow_fn' is invoked.", BUILD_DEADLINE);
    let written = wait_for_blocking("quick_fn's success on the object", STEP_DEADLINE, || {
        let object = cluster.get_json("evc", "my-claim")?;
        let record = object.pointer(QUICK_RECORD)?.as_str()?.to_string();
        record.contains(r#""success":true"#).then_some(object)
    });
    let slow: serde_json::Value = serde_json::from_str(
        written
            .pointer(SLOW_RECORD)
            .and_then(|r| r.as_str())
            .expect("slow_fn's record is written with quick_fn's"),
    )
    .expect("a JSON record");
    assert_eq!(slow["success"], false);
    assert_eq!(first.count("Creation is processed"), 0);
    first.interrupt();

    // After a restart, only slow_fn runs; then the records are purged as usual.
    let mut second = operator(&cluster, 0);
    second.wait_for(
        "Creation is processed: 2 succeeded; 0 failed.",
        BUILD_DEADLINE,
    );
    assert_eq!(
        second.count("Handler 'quick_fn' is invoked."),
        0,
        "quick_fn ran again after a restart"
    );
    assert_eq!(second.count("Handler 'slow_fn' is invoked."), 1);
    wait_for_blocking(
        "the records purged and the diff-base stored",
        STEP_DEADLINE,
        || {
            let object = cluster.get_json("evc", "my-claim")?;
            let done = object.pointer(QUICK_RECORD).is_none()
                && object.pointer(SLOW_RECORD).is_none()
                && object
                    .pointer("/metadata/annotations/kopf.zalando.org~1last-handled-configuration")
                    .is_some();
            done.then_some(())
        },
    );
    second.interrupt();
}
