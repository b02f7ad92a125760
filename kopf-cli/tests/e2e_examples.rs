//! kopf's examples ported to Rust, each run as kopf's own e2e suite runs its examples
//! (`tests/e2e/test_examples.py`): `kopf run --all-namespaces --standalone --verbose`, the
//! example object applied then deleted, waiting for the example's stop-words; then a clean
//! exit, no panic, and every handler that succeeded did so the expected number of times.

use crate::e2e_support;

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
        Run::start_with(example, |_| {})
    }

    /// Starts the example with extra operator options.
    fn start_with_args(example: &str, args: &[&str]) -> Run {
        let cluster = Cluster::start(example);
        let crd = examples().join("crd.yaml");
        cluster.kubectl_ok(&["apply", "-f", crd.to_str().unwrap()]);
        let file = examples().join(example);
        let all: Vec<&str> = ["--all-namespaces", "--standalone", "--verbose"]
            .into_iter()
            .chain(args.iter().copied())
            .collect();
        let mut operator = cluster.kopf_run(&file, &all);
        operator.wait_for("Starting the watch-stream for kopfexamples", BUILD_DEADLINE);
        Run { cluster, operator }
    }

    /// Starts the example after `prepare` has set the cluster up (the CRD is applied).
    fn start_with(example: &str, prepare: impl FnOnce(&Cluster)) -> Run {
        let cluster = Cluster::start(example);
        let crd = examples().join("crd.yaml");
        cluster.kubectl_ok(&["apply", "-f", crd.to_str().unwrap()]);
        prepare(&cluster);
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

    /// Stops the operator and checks what kopf's e2e suite checks after every example:
    /// a clean exit, no panic, and the handlers' outcomes. `successes`, when given, are
    /// the exact success counts of the handlers named there (kopf's `E2E_SUCCESS_COUNTS`);
    /// otherwise every handler that succeeded did so once. `failures` likewise for the
    /// handlers that failed for good (kopf's `E2E_FAILURE_COUNTS`; none by default).
    fn finish(
        mut self,
        successes: Option<&[(&str, usize)]>,
        failures: &[(&str, usize)],
    ) -> Process {
        let status = self.operator.interrupt();
        let output = self.operator.output();
        assert!(
            status.success(),
            "the operator exited with {status}:\n{output}"
        );
        assert_eq!(self.operator.count("panicked"), 0, "{output}");
        let lines = self.operator.lines();
        let counted = |found: fn(&str) -> Option<String>, only: Option<&[(&str, usize)]>| {
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            for name in lines.iter().filter_map(|line| found(line)) {
                if only.is_none_or(|only| only.iter().any(|(n, _)| *n == name)) {
                    *counts.entry(name).or_default() += 1;
                }
            }
            counts
        };
        let expected = |pairs: &[(&str, usize)]| -> BTreeMap<String, usize> {
            pairs.iter().map(|(n, c)| (n.to_string(), *c)).collect()
        };
        match successes {
            Some(successes) => assert_eq!(
                counted(succeeded_handler, Some(successes)),
                expected(successes),
                "successes per handler:\n{output}"
            ),
            None => {
                let counts = counted(succeeded_handler, None);
                assert!(
                    counts.values().all(|c| *c == 1),
                    "every handler succeeded once: {counts:?}\n{output}"
                );
            }
        }
        assert_eq!(
            counted(failed_handler, Some(failures)),
            expected(failures),
            "handlers that failed for good:\n{output}"
        );
        if failures.is_empty() {
            assert!(
                counted(failed_handler, None).is_empty(),
                "no handler failed for good:\n{output}"
            );
        }
        self.operator
    }
}

/// kopf's generic assertions on an example's output, for the handlers it has.
fn assert_generic(operator: &Process, create: bool, mandatory_delete: bool, changing: bool) {
    let output = operator.output();
    let expect = |present: bool, words: &str| {
        if present {
            assert!(operator.count(words) > 0, "{words}:\n{output}");
        }
    };
    expect(
        mandatory_delete,
        "[default/kopf-example-1] Adding the finalizer",
    );
    expect(create, "[default/kopf-example-1] Creation is in progress:");
    expect(
        mandatory_delete,
        "[default/kopf-example-1] Deletion is in progress:",
    );
    expect(changing, "[default/kopf-example-1] Deleted, really deleted");
}

/// `… 'name' failed permanently` or `… failed with an exception and will stop` → `name`.
fn failed_handler(line: &str) -> Option<String> {
    let end = line
        .find("' failed permanently")
        .or_else(|| line.find("' failed with an exception and will stop"))?;
    let start = line[..end].rfind('\'')? + 1;
    // Not a quoted message inside a logged patch (`\'name\' failed …`).
    let name = &line[start..end];
    (!name.ends_with('\\')).then(|| name.to_string())
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
    let operator = run.finish(Some(&[("normal_event_fn", 2)]), &[]);
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
        "=> Ping from a sync daemon: field='value', retry=3",
        "=> Ping from an async daemon: field='value'",
    ]);
    run.delete(&[
        "Daemon 'background_async' is signalled to exit gracefully.",
        "Daemon 'background_async' is signalled to exit by force.",
        "Daemon 'background_async' is cancelled. Will escalate.",
        "Daemon 'background_sync' has exited on request and will not be retried or restarted.",
    ]);
    let operator = run.finish(Some(&[("background_sync", 1)]), &[]);
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
        "Ping from a sync timer: field='value'",
        "Ping from an async timer: field='value'",
    ]);
    run.delete(&[]);
    // Timers succeed at every run: no count per handler, as in kopf's own e2e.
    let operator = run.finish(Some(&[]), &[]);
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
    let port = free_port();
    let liveness = format!("http://127.0.0.1:{port}/healthz");
    let mut run = Run::start_with_args("16-indexing/indexing.rs", &["--liveness", &liveness]);
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
    // The probes read the index: one pod, by name (an earlier probe is cached 10 s).
    let expected = serde_json::json!({"pod_count": 1, "pod_names": ["pod-1"]});
    wait_for_blocking("the probes to see the pod", STEP_DEADLINE, || {
        (probe(port) == expected).then_some(())
    });
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
    let operator = run.finish(Some(&[]), &[]);
    assert!(
        operator.count("by_label: [[[\"app\",\"demo\"],[\"pod-1\"]]]") >= 1,
        "{}",
        operator.output()
    );
}

#[test]
fn example_01_minimal_stores_what_the_handler_returns() {
    let mut run = Run::start("01-minimal/minimal.rs");
    run.create(&["Handler 'create_fn' succeeded."]);
    let object = wait_for_blocking("the status of the handler", STEP_DEADLINE, || {
        let object = run.cluster.get_json("kopfexample", "kopf-example-1")?;
        object.pointer("/status/create_fn").cloned()
    });
    assert_eq!(object, serde_json::json!({"message": "hello world"}));
    run.delete(&[]);
    let operator = run.finish(None, &[]);
    assert_generic(&operator, true, false, true);
    assert_eq!(operator.count("And here we are! Creating: {"), 1);
    // Without login handlers, the log of Python kopf's fallback one (a kubeconfig here).
    let lines = operator.lines();
    let at = |words: &str| lines.iter().position(|l| l.contains(words));
    let initiated = at("Initial authentication has been initiated.");
    let login = at("Activity 'login_with_kubeconfig' succeeded.");
    let finished = at("Initial authentication has finished.");
    assert!(
        initiated.is_some() && initiated < login && login < finished,
        "{}",
        operator.output()
    );
}

#[test]
fn example_03_exceptions_retry_as_their_kinds_say() {
    let mut run = Run::start("03-exceptions/exceptions.rs");
    run.create(&[
        "Handler 'eventual_success_with_a_few_messages' succeeded.",
        "Creation is processed: 1 succeeded; 3 failed.",
        "Something has changed,",
    ]);
    run.delete(&[]);
    let operator = run.finish(
        Some(&[("eventual_success_with_a_few_messages", 1)]),
        &[
            ("eventual_failure_with_tracebacks", 1),
            ("instant_failure_with_traceback", 1),
            ("instant_failure_with_only_a_message", 1),
        ],
    );
    assert_generic(&operator, true, false, true);
    let output = operator.output();
    assert_eq!(
        operator.count(
            "Handler 'eventual_success_with_a_few_messages' failed temporarily: Expected recoverable error."
        ),
        3,
        "{output}"
    );
    assert_eq!(
        operator.count(
            "Handler 'eventual_failure_with_tracebacks' failed with an exception and will try again in 1 seconds"
        ),
        2,
        "{output}"
    );
}

#[test]
fn example_05_handlers_run_in_their_order_per_cause() {
    let mut run = Run::start("05-handlers/handlers.rs");
    run.create(&[
        "Handler 'create_fn_2' succeeded.",
        "Handler 'field_fn/spec.field' succeeded.",
    ]);
    run.cluster.kubectl_ok(&[
        "patch",
        "kopfexample",
        "kopf-example-1",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"field":"changed"}}"#,
    ]);
    run.operator
        .wait_for("Handler 'update_fn' succeeded.", STEP_DEADLINE);
    run.operator
        .wait_for("FIELD CHANGED: value -> changed", STEP_DEADLINE);
    run.delete(&["Handler 'delete_fn_2' succeeded."]);
    let operator = run.finish(
        Some(&[
            ("create_fn_1", 1),
            ("create_fn_2", 1),
            ("update_fn", 1),
            ("delete_fn_1", 1),
            ("delete_fn_2", 1),
            ("field_fn/spec.field", 2),
        ]),
        &[],
    );
    assert_generic(&operator, true, true, true);
    let printed: Vec<String> = operator
        .lines()
        .into_iter()
        .filter(|l| l.starts_with("CREATED") || l.starts_with("DELETED"))
        .collect();
    assert_eq!(
        printed,
        ["CREATED 1st", "CREATED 2nd", "DELETED 1st", "DELETED 2nd"]
    );
}

#[test]
fn example_13_hooks_run_activities_probes_and_background_tasks() {
    let pod = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"pod-1","namespace":"default"},
        "spec":{"containers":[{"name":"main","image":"busybox"}]}}"#;
    let port = free_port();
    let cluster = Cluster::start("13-hooks/hooks.rs");
    let crd = examples().join("crd.yaml");
    cluster.kubectl_ok(&["apply", "-f", crd.to_str().unwrap()]);
    let file = cluster.write_file("pod.json", pod);
    cluster.kubectl_ok(&["apply", "-f", file.to_str().unwrap()]);
    let liveness = format!("http://127.0.0.1:{port}/healthz");
    let mut operator = cluster.kopf_run(
        &examples().join("13-hooks/hooks.rs"),
        &[
            "--all-namespaces",
            "--standalone",
            "--verbose",
            "--liveness",
            &liveness,
        ],
    );
    operator.wait_for("Starting the watch-stream for pods", BUILD_DEADLINE);
    // kopf's startup stop-word for this example.
    operator.wait_for("Served by the background task.", STEP_DEADLINE);
    let probed = probe(port);
    assert_eq!(
        probed,
        serde_json::json!({"monitored_objects": {"default": ["pod-1"]}, "tasks_count": 1})
    );
    let mut run = Run { cluster, operator };
    run.create(&[]);
    run.delete(&[]);
    let operator = run.finish(
        Some(&[
            ("startup_fn_simple", 1),
            ("startup_fn_retried", 1),
            ("cleanup_fn", 1),
        ]),
        &[],
    );
    let output = operator.output();
    assert_eq!(
        operator.count("Activity 'startup_fn_retried' failed temporarily: Going to succeed in"),
        3,
        "{output}"
    );
    let order = |words: &str| {
        operator
            .lines()
            .iter()
            .position(|l| l.contains(words))
            .unwrap_or_else(|| panic!("{words}:\n{output}"))
    };
    assert!(
        order("Activity 'startup_fn_retried' succeeded.")
            < order("Initial authentication has finished.")
    );
    assert!(order("Logging in in 2s...") < order("Starting the watch-stream for pods"));
    assert!(
        order("All pod-tasks are requested to stop...") > order("Served by the background task.")
    );
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address").port()
}

/// The liveness endpoint's JSON, once it answers 200.
fn probe(port: u16) -> serde_json::Value {
    use std::io::{Read, Write};
    wait_for_blocking("the liveness endpoint", STEP_DEADLINE, || {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        let request = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        stream.write_all(request.as_bytes()).ok()?;
        let mut text = String::new();
        stream.read_to_string(&mut text).ok()?;
        if !text.starts_with("HTTP/1.1 200") {
            return None;
        }
        serde_json::from_str(text.split("\r\n\r\n").nth(1)?).ok()
    })
}

#[test]
fn example_02_children_adopts_a_pod_that_goes_with_its_owner() {
    let mut run = Run::start("02-children/children.rs");
    run.create(&["Handler 'create_fn' succeeded."]);
    let (object, pods) = wait_for_blocking("the child in the status", STEP_DEADLINE, || {
        let object = run.cluster.get_json("kopfexample", "kopf-example-1")?;
        object.pointer("/status/create_fn/children/0")?;
        let pods = list_json(&run.cluster, "pods")?;
        Some((object, pods))
    });
    let pod = &pods["items"][0];
    assert_eq!(
        object["status"]["create_fn"]["children"][0],
        pod["metadata"]["uid"]
    );
    let owner = &pod["metadata"]["ownerReferences"][0];
    assert_eq!(owner["uid"], object["metadata"]["uid"]);
    assert_eq!(
        (&owner["kind"], &owner["controller"]),
        (&serde_json::json!("KopfExample"), &serde_json::json!(true))
    );
    assert!(
        pod["metadata"]["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("kopf-example-1-")),
        "{pod}"
    );
    assert_eq!(pod["metadata"]["labels"]["somelabel"], "somevalue");
    run.delete(&[]);
    wait_for_blocking("the child to be collected", STEP_DEADLINE, || {
        let pods = list_json(&run.cluster, "pods")?;
        pods["items"].as_array()?.is_empty().then_some(())
    });
    let operator = run.finish(None, &[]);
    assert_generic(&operator, true, false, true);
}

#[test]
fn example_04_events_posts_kopfs_events_about_the_object() {
    let mut run = Run::start("04-events/events.rs");
    run.create(&["Handler 'create_fn' succeeded."]);
    let events = wait_for_blocking("four events", STEP_DEADLINE, || {
        let events = list_json(&run.cluster, "events")?;
        let items = events["items"].as_array()?.clone();
        (items.len() == 4).then_some(items)
    });
    let seen: Vec<(String, String, String)> = events
        .iter()
        .map(|e| {
            let text = |key: &str| e[key].as_str().unwrap_or_default().to_string();
            (text("type"), text("reason"), text("message"))
        })
        .collect();
    let expected = [
        ("SomeType", "Some message"),
        ("Normal", "Some message"),
        ("Warning", "Some message"),
        ("Error", "Some exception: Exception text."),
    ];
    for (kind, message) in expected {
        let wanted = (
            kind.to_string(),
            "SomeReason".to_string(),
            message.to_string(),
        );
        assert!(seen.contains(&wanted), "{wanted:?} in {seen:?}");
    }
    for event in &events {
        assert_eq!(event["involvedObject"]["name"], "kopf-example-1");
        assert_eq!(event["involvedObject"]["kind"], "KopfExample");
        assert_eq!(event["source"]["component"], "kopf");
        assert_eq!(event["reportingComponent"], "kopf");
        assert!(
            event["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("kopf-event-")),
            "{event}"
        );
    }
    run.delete(&[]);
    let operator = run.finish(None, &[]);
    assert_generic(&operator, true, false, true);
}

/// `kubectl get KIND -o json` in the default namespace, or `None` when kubectl fails.
fn list_json(cluster: &Cluster, kind: &str) -> Option<serde_json::Value> {
    let output = cluster.kubectl(&["get", kind, "-o", "json"]);
    if !output.status.success() {
        return None;
    }
    serde_json::from_slice(&output.stdout).ok()
}

#[test]
fn example_11_filtering_runs_only_the_handlers_whose_filters_match() {
    let mut run = Run::start("11-filtering-handlers/filtering.rs");
    run.create(&[
        "Handler 'create_with_combined_filters_satisfied' succeeded.",
        "Field daemon is satisfied.",
    ]);
    run.cluster.kubectl_ok(&[
        "patch",
        "kopfexample",
        "kopf-example-1",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"field":"changed"}}"#,
    ]);
    run.operator
        .wait_for("Field change is satisfied.", STEP_DEADLINE);
    run.delete(&[]);
    let operator = run.finish(Some(&[]), &[]);
    let output = operator.output();
    // What kopf's own test of this example asserts, line by line.
    let present = [
        "Label is matching.",
        "Label is present.",
        "Label is absent.",
        "Label callback matching.",
        "Annotation is matching.",
        "Annotation is present.",
        "Annotation is absent.",
        "Filter satisfied.",
        "Field value is satisfied.",
        "Field presence is satisfied.",
        "Field change is satisfied.",
        "Field daemon is satisfied.",
        "Combined filters are satisfied.",
        "Change callback is satisfied.",
    ];
    let absent = [
        "Annotation callback mismatch.",
        "Filter not satisfied.",
        "Field value is not satisfied.",
        "Field presence is not satisfied.",
        "Combined filters are not satisfied.",
    ];
    for words in present {
        let line = format!("[default/kopf-example-1] {words}");
        assert!(operator.count(&line) > 0, "{line}:\n{output}");
    }
    for words in absent {
        let line = format!("[default/kopf-example-1] {words}");
        assert_eq!(operator.count(&line), 0, "{line}:\n{output}");
    }
}

#[test]
fn example_10_builtins_cancel_a_pods_killer_when_the_pod_goes_first() {
    let cluster = Cluster::start("10-builtins/builtins.rs");
    let mut operator = cluster.kopf_run(
        &examples().join("10-builtins/builtins.rs"),
        &["--all-namespaces", "--standalone", "--verbose"],
    );
    operator.wait_for("Starting the watch-stream for pods", BUILD_DEADLINE);
    let pod = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"kopf-pod-1","namespace":"default"},
        "spec":{"containers":[{"name":"the-only-one","image":"busybox","command":["sh","-x","-c","sleep 1"]}]}}"#;
    let file = cluster.write_file("pod.json", pod);
    cluster.kubectl_ok(&["apply", "-f", file.to_str().unwrap()]);
    // What kopf's own test of this example asserts.
    operator.wait_for(
        "[default/kopf-pod-1] === Pod killing happens in 30s.",
        STEP_DEADLINE,
    );
    cluster.kubectl_ok(&["delete", "pod", "kopf-pod-1", "--wait=false"]);
    operator.wait_for(
        "[default/kopf-pod-1] Deletion is in progress:",
        STEP_DEADLINE,
    );
    operator.wait_for(
        "[default/kopf-pod-1] === Pod killing is cancelled!",
        STEP_DEADLINE,
    );
    wait_for_blocking("the pod to be gone", STEP_DEADLINE, || {
        cluster
            .get_json("pod", "kopf-pod-1")
            .is_none()
            .then_some(())
    });
    let run = Run { cluster, operator };
    let operator = run.finish(Some(&[("pod_in_sight", 1), ("pod_deleted", 1)]), &[]);
    assert_eq!(operator.count("=== Pod killing happens NOW!"), 0);
    assert!(operator.count("[default/kopf-pod-1] Creation is in progress:") > 0);
}

#[test]
fn example_99_all_at_once_runs_kopfs_whole_story() {
    let mut run = Run::start("99-all-at-once/all_at_once.rs");
    run.create(&["Creation is processed:"]);
    run.operator
        .wait_for("This pod is special for us.", STEP_DEADLINE);
    run.delete(&["Deleted, really deleted"]);
    let operator = run.finish(
        Some(&[
            ("create_1", 1),
            ("create_2", 1),
            ("create_pod", 1),
            ("delete", 1),
            ("startup_fn_simple", 1),
            ("startup_fn_retried", 1),
            ("cleanup_fn", 1),
        ]),
        &[],
    );
    assert_generic(&operator, true, true, true);
    let output = operator.output();
    assert_eq!(
        operator.count("Handler 'create_2' failed with an exception and will try again in"),
        1,
        "{output}"
    );
    assert!(operator.count("Cleaning up in 3s...") == 1, "{output}");
}

#[test]
fn example_07_subhandlers_run_one_per_item_within_their_parent() {
    let mut run = Run::start("07-subhandlers/subhandlers.rs");
    run.create(&[
        "Handler 'create_fn' succeeded.",
        "Creation is processed: 1 succeeded; 0 failed.",
    ]);
    run.delete(&[]);
    let operator = run.finish(None, &[]);
    assert_generic(&operator, true, false, true);
    // kopf's order: one sub-handler per invocation of the parent, which is retried soon
    // while any is unfinished; each sub-handler runs once. (What the sub-handlers print
    // goes to stdout, so it is checked apart from the log lines.)
    let in_order = |wanted: &[&str]| {
        let relevant: Vec<String> = operator
            .lines()
            .iter()
            .filter_map(|line| wanted.iter().find(|w| line.ends_with(*w)))
            .map(|w| w.to_string())
            .collect();
        assert_eq!(relevant, wanted, "{}", operator.output());
    };
    in_order(&[
        "Handler 'create_fn' is invoked.",
        "Handler 'create_fn/item1' is invoked.",
        "Handler 'create_fn/item1' succeeded.",
        "Handler 'create_fn' has unfinished sub-handlers. Will retry soon.",
        "Handler 'create_fn' is invoked.",
        "Handler 'create_fn/item2' is invoked.",
        "Handler 'create_fn/item2' succeeded.",
        "Handler 'create_fn' succeeded.",
        "Creation is processed: 1 succeeded; 0 failed.",
    ]);
    in_order(&[
        "=== Handling creation for item1. ===",
        "=== Handling creation for item2. ===",
    ]);
}
