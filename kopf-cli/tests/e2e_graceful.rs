//! SIGTERM stops an operator gracefully and within a bound: a handler that finishes within
//! the exit timeout (2 s) finishes and its outcome is stored; one that would run longer is
//! cancelled (its object is handled again by the next operator); the process exits 0.

use crate::e2e_support;

use e2e_support::{BUILD_DEADLINE, Cluster, STEP_DEADLINE, operator_file};
use kopf_test_support::workspace_root;
use std::time::{Duration, Instant};

#[test]
fn sigterm_lets_running_handlers_finish_within_the_bound_and_stores_their_outcome() {
    let cluster = Cluster::start("graceful");
    let crd = workspace_root().join("examples/crd.yaml");
    cluster.kubectl_ok(&["apply", "-f", crd.to_str().unwrap()]);
    let mut operator = cluster.kopf_run(&operator_file("graceful.rs"), &["-A", "--verbose"]);
    operator.wait_for(
        "Starting the watch-stream for kopfexamples.v1.kopf.dev",
        BUILD_DEADLINE,
    );
    let objects = cluster.write_file(
        "objects.yaml",
        "apiVersion: kopf.dev/v1\nkind: KopfExample\nmetadata: {name: short, namespace: default}\nspec: {sleep: 1.0}\n---\n\
         apiVersion: kopf.dev/v1\nkind: KopfExample\nmetadata: {name: long, namespace: default}\nspec: {sleep: 600}\n",
    );
    cluster.kubectl_ok(&["apply", "-f", objects.to_str().unwrap()]);
    operator.wait_for_count("Handler 'create_fn' is invoked.", 2, STEP_DEADLINE);

    let signalled = Instant::now();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &operator.pid().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let status = operator.wait_exit(Duration::from_secs(30));
    let took = signalled.elapsed();
    assert!(status.success(), "{status:?}\n{}", operator.output());
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let output = operator.output();
    assert!(
        output.contains("Signal SIGTERM is received. Operator is stopping."),
        "{output}"
    );

    // The short handler finished and its outcome is on the object; the long one is not.
    let short = cluster
        .get_json("kopfexample", "short")
        .expect("short exists");
    let slept = short
        .pointer("/status/create_fn/slept")
        .and_then(|v| v.as_f64());
    assert_eq!(slept, Some(1.0), "{short}");
    let long = cluster
        .get_json("kopfexample", "long")
        .expect("long exists");
    assert!(long.pointer("/status/create_fn").is_none(), "{long}");
    println!("stopped {took:?} after SIGTERM");
}
