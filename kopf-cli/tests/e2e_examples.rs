//! kopf's examples ported to Rust, each run as kopf's own e2e suite runs its examples
//! (`tests/e2e/test_examples.py`): `kopf run --all-namespaces --standalone --verbose`, the
//! example object applied then deleted, waiting for the example's stop-words; then a clean
//! exit, no panic, and every handler that succeeded did so the expected number of times.

mod e2e_support;

use e2e_support::{BUILD_DEADLINE, Cluster, STEP_DEADLINE};
use kopf_test_support::{Process, wait_for_blocking, workspace_root};
use std::collections::BTreeMap;
use std::path::PathBuf;

const FINALIZER: &str = "kopf.zalando.org/KopfFinalizerMarker";

fn examples() -> PathBuf {
    workspace_root().join("examples")
}

/// Runs one example through creation and deletion; returns the operator after its exit.
struct Run {
    cluster: Cluster,
    operator: Process,
}

impl Run {
    fn start(example: &str) -> Run {
        let cluster = Cluster::start(example);
        let crd = examples().join("crd.yaml");
        cluster.kubectl_ok(&["apply", "-f", crd.to_str().unwrap()]);
        let file = examples().join(example);
        let mut operator =
            cluster.kopf_run(&file, &["--all-namespaces", "--standalone", "--verbose"]);
        operator.wait_for("Starting the watch-stream for kopfexamples", BUILD_DEADLINE);
        Run { cluster, operator }
    }

    fn create(&mut self, stop_words: &[&str]) {
        let obj = examples().join("obj.yaml");
        self.cluster
            .kubectl_ok(&["apply", "-f", obj.to_str().unwrap()]);
        for word in stop_words {
            self.operator.wait_for(word, STEP_DEADLINE);
        }
    }

    fn delete(&mut self, stop_words: &[&str]) {
        self.cluster
            .kubectl_ok(&["delete", "kopfexample", "kopf-example-1", "--wait=false"]);
        for word in stop_words {
            self.operator.wait_for(word, STEP_DEADLINE);
        }
        wait_for_blocking("the example object to be gone", STEP_DEADLINE, || {
            self.cluster
                .get_json("kopfexample", "kopf-example-1")
                .is_none()
                .then_some(())
        });
    }

    /// Stops the operator and checks what kopf's e2e suite checks after every example;
    /// `successes`, when given, are the exact success counts per handler.
    fn finish(mut self, successes: Option<&[(&str, usize)]>) -> Process {
        let status = self.operator.interrupt();
        let output = self.operator.output();
        assert!(
            status.success(),
            "the operator exited with {status}:\n{output}"
        );
        assert_eq!(self.operator.count("panicked"), 0, "{output}");
        let stopped_for_good = ["failed permanently", "with an exception and will stop now"];
        for words in stopped_for_good {
            assert_eq!(self.operator.count(words), 0, "{output}");
        }
        let Some(successes) = successes else {
            return self.operator;
        };
        let mut counted: BTreeMap<String, usize> = BTreeMap::new();
        for line in self.operator.lines() {
            if let Some(name) = succeeded_handler(&line) {
                *counted.entry(name).or_default() += 1;
            }
        }
        let expected: BTreeMap<String, usize> =
            successes.iter().map(|(n, c)| (n.to_string(), *c)).collect();
        assert_eq!(counted, expected, "successes per handler:\n{output}");
        self.operator
    }
}

/// `… 'name' succeeded.` → `name`.
fn succeeded_handler(line: &str) -> Option<String> {
    let end = line.find("' succeeded.")?;
    let start = line[..end].rfind('\'')? + 1;
    Some(line[start..end].to_string())
}

#[test]
fn example_08_events_sees_every_event_and_ignores_a_failing_handler() {
    let mut run = Run::start("08-events/events.rs");
    run.create(&["Handler 'normal_event_fn' succeeded."]);
    run.delete(&["Event received: {\"type\":\"DELETED\""]);
    let operator = run.finish(Some(&[("normal_event_fn", 2)]));
    assert_eq!(
        operator.count(
            "Handler 'event_fn_with_error' failed with an exception and will ignore it: Oops!"
        ),
        2,
        "{}",
        operator.output()
    );
    assert_eq!(operator.count("Event received: {\"type\":\"ADDED\""), 1);
    // No state on the object: no finalizer was ever added.
    assert_eq!(operator.count("Adding the finalizer"), 0);
}

#[test]
fn example_14_daemons_ping_and_stop_with_their_object() {
    let mut run = Run::start("14-daemons/daemons.rs");
    run.create(&[
        "[default/kopf-example-1] Adding the finalizer",
        "=> Ping from a sync daemon: field=\"value\", retry=3",
        "=> Ping from an async daemon: field=\"value\"",
    ]);
    run.delete(&[
        "Daemon 'background_async' is signalled to exit gracefully.",
        "Daemon 'background_async' is signalled to exit by force.",
        "Daemon 'background_async' is cancelled. Will escalate.",
        "Daemon 'background_sync' has exited on request and will not be retried or restarted.",
    ]);
    let operator = run.finish(Some(&[("background_sync", 1)]));
    assert_eq!(
        operator.count("Daemon 'background_sync' failed temporarily: Simulated failure."),
        3
    );
}

#[test]
fn example_15_timers_ping_once_the_object_is_idle() {
    let mut run = Run::start("15-timers/timers.rs");
    run.create(&[
        "[default/kopf-example-1] Adding the finalizer",
        "Ping from a sync timer: field=\"value\"",
        "Ping from an async timer: field=\"value\"",
    ]);
    run.delete(&[]);
    // Timers succeed at every run: no count per handler, as in kopf's own e2e.
    let operator = run.finish(None);
    // The sync timer (interval 2 s) ran at least once more before the async one (idle 10 s).
    let output = operator.output();
    assert!(
        operator.count("Timer 'every_few_seconds_sync' succeeded.") >= 2,
        "{output}"
    );
    assert!(
        operator.count("Timer 'every_few_seconds_async' succeeded.") >= 1,
        "{output}"
    );
}

#[test]
fn example_16_indexing_reads_running_pods_from_an_index() {
    let mut run = Run::start("16-indexing/indexing.rs");
    let pod = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"pod-1","labels":{"app":"demo"}},
        "spec":{"containers":[{"name":"main","image":"busybox"}]}}"#;
    let file = run.cluster.write_file("pod.json", pod);
    run.cluster
        .kubectl_ok(&["apply", "-f", file.to_str().unwrap()]);
    run.cluster.kubectl_ok(&[
        "patch",
        "pod",
        "pod-1",
        "--subresource",
        "status",
        "--type",
        "merge",
        "-p",
        r#"{"status":{"phase":"Running"}}"#,
    ]);
    run.create(&["Timer 'intervalled' succeeded."]);
    let object = wait_for_blocking("the running pods in the status", STEP_DEADLINE, || {
        let object = run.cluster.get_json("kopfexample", "kopf-example-1")?;
        let pods = object.pointer("/status/running-pods")?.clone();
        // The timer's first patch may race the finalizer's; the finalizer is retried.
        object.pointer("/metadata/finalizers")?;
        (pods == serde_json::json!(["default::pod-1"])).then_some(object)
    });
    assert_eq!(
        object["metadata"]["finalizers"],
        serde_json::json!([FINALIZER])
    );
    run.delete(&[]);
    // Counts are not checked, as in kopf's e2e for this example: pods change often.
    let operator = run.finish(None);
    assert!(
        operator.count("by_label: [[[\"app\",\"demo\"],[\"pod-1\"]]]") >= 1,
        "{}",
        operator.output()
    );
}
