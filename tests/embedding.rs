//! Embedding: kopf's example 12-embedded (a cargo example that starts an operator from its
//! own `main`, with ready and stop signals and an operator-wide memo) run against the
//! embedded API server; and two operators with different handlers in one process.

use kopf_test_support::{Process, create_crd, kex, poll_until};
use serde_json::json;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::oneshot;

const DEADLINE: Duration = Duration::from_secs(60);

/// Cargo builds the examples of the package before its tests, next to `deps/`.
fn example(name: &str) -> PathBuf {
    let test = std::env::current_exe().expect("the test's path");
    let profile = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    profile.join("examples").join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_12_embedded_runs_an_operator_from_its_own_main_until_stopped() {
    let ts = kopf_test_support::start().await;
    create_crd(&ts).await;
    let binary = example("embedded");
    assert!(
        binary.exists(),
        "{} is built by cargo test",
        binary.display()
    );
    let kubeconfig = ts.kubeconfig.clone();
    let output = tokio::task::spawn_blocking(move || {
        let mut app = Process::spawn(Command::new(binary).env("KUBECONFIG", kubeconfig));
        let status = app.wait_exit(DEADLINE);
        (status, app.output(), app.lines())
    })
    .await
    .expect("the app ran");
    let (status, text, lines) = output;
    assert!(status.success(), "{status}:\n{text}");
    let printed: Vec<&str> = lines
        .iter()
        .map(String::as_str)
        .filter(|l| !l.starts_with('['))
        .collect();
    let expected = [
        "Starting the main app.",
        "Do the main app activity here. Step 1/3.",
        "Hello, kopf-example-0!",
        "Good bye, kopf-example-0!",
        "Do the main app activity here. Step 2/3.",
        "Hello, kopf-example-1!",
        "Good bye, kopf-example-1!",
        "Do the main app activity here. Step 3/3.",
        "Hello, kopf-example-2!",
        "Good bye, kopf-example-2!",
        "Exiting the main app.",
    ];
    assert_eq!(printed, expected, "{text}");
    assert!(
        text.contains("Signal") || text.contains("kopf.objects"),
        "the operator logged with kopf's format:\n{text}"
    );
}

static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn seen() -> Vec<String> {
    SEEN.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

async fn first_operator(name: kopf::Name) {
    SEEN.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(format!("first {}", *name));
}

async fn second_operator(name: kopf::Name) {
    SEEN.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(format!("second {}", *name));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_operators_with_different_handlers_run_in_one_process() {
    let ts = kopf_test_support::start().await;
    create_crd(&ts).await;
    let client = || async {
        let config = kopf_test_support::config_for(&ts.server.kubeconfig()).await;
        kube::Client::try_from(config).expect("a client")
    };
    let start = |registry: kopf::Registry, client: kube::Client| {
        let (stop, stopped) = oneshot::channel::<()>();
        let (ready, is_ready) = oneshot::channel::<()>();
        let task = tokio::spawn(
            kopf::Operator::new(registry)
                .client(client)
                .cluster_wide()
                .ready(ready)
                .run(async move {
                    let _ = stopped.await;
                }),
        );
        (stop, is_ready, task)
    };
    let first = start(
        kopf::Registry::new().on_event("kopfexamples", first_operator),
        client().await,
    );
    let second = start(
        kopf::Registry::new().on_event("kopfexamples", second_operator),
        client().await,
    );
    for ready in [first.1, second.1] {
        tokio::time::timeout(DEADLINE, ready)
            .await
            .expect("ready in time")
            .expect("ready");
    }
    kex(&ts, json!({"metadata": {"name": "kex-both"}, "spec": {}})).await;
    let both = poll_until(DEADLINE, || async {
        let seen = seen();
        (seen.contains(&"first kex-both".to_string())
            && seen.contains(&"second kex-both".to_string()))
        .then_some(())
    })
    .await;
    assert!(both.is_some(), "{:?}", seen());

    // The first one stops on its stop signal; the second one goes on alone.
    let _ = first.0.send(());
    let stopped = tokio::time::timeout(DEADLINE, first.2)
        .await
        .expect("stops in time")
        .expect("no panic");
    assert!(stopped.is_ok(), "{stopped:?}");
    kex(&ts, json!({"metadata": {"name": "kex-second"}, "spec": {}})).await;
    let alone = poll_until(DEADLINE, || async {
        seen()
            .contains(&"second kex-second".to_string())
            .then_some(())
    })
    .await;
    assert!(alone.is_some(), "{:?}", seen());
    assert!(!seen().contains(&"first kex-second".to_string()));
    let _ = second.0.send(());
    let stopped = tokio::time::timeout(DEADLINE, second.2)
        .await
        .expect("stops in time")
        .expect("no panic");
    assert!(stopped.is_ok(), "{stopped:?}");
}
