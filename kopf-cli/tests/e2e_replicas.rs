//! More than one replica, as separate processes against the embedded cluster: kopf's
//! peering with Python kopf 1.45.2 (and `kopf freeze`/`resume`), leader election on a
//! Lease, and sharding. The replicas print when each handler starts and ends (see
//! `operators/replicas.rs`), so the tests see who handled what, and when.

use crate::e2e_support;

use e2e_support::{
    BUILD_DEADLINE, Cluster, STEP_DEADLINE, kopf_command, operator_file, python_kopf_with,
};
use kopf_test_support::{Process, wait_for_blocking, workspace_root};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
}

fn apply_example_crd(cluster: &Cluster) {
    let crd = workspace_root().join("examples/crd.yaml");
    cluster.kubectl_ok(&["apply", "-f", crd.to_str().unwrap()]);
}

/// kopf's peering CRDs and the cluster-wide peering object `default`.
fn apply_peering(cluster: &Cluster) {
    let crds = workspace_root().join("examples/peering.yaml");
    cluster.kubectl_ok(&["apply", "-f", crds.to_str().unwrap()]);
    let object = cluster.write_file(
        "peering-object.yaml",
        "apiVersion: kopf.dev/v1\nkind: ClusterKopfPeering\nmetadata:\n  name: default\n",
    );
    cluster.kubectl_ok(&["apply", "-f", object.to_str().unwrap()]);
}

/// Creates `kopfexample` objects `{prefix}-{i}` for i in `range`, in one kubectl call.
fn create_objects(cluster: &Cluster, prefix: &str, range: std::ops::Range<usize>) {
    let mut yaml = String::new();
    for i in range {
        yaml.push_str(&format!(
            "---\napiVersion: kopf.dev/v1\nkind: KopfExample\nmetadata:\n  name: {prefix}-{i}\n  namespace: default\nspec:\n  field: {i}\n"
        ));
    }
    let file = cluster.write_file(&format!("{prefix}.yaml"), &yaml);
    cluster.kubectl_ok(&["create", "-f", file.to_str().unwrap()]);
}

/// The objects whose create handler's result is stored, by the replica that stored it.
fn stored(cluster: &Cluster) -> BTreeMap<String, String> {
    let text = cluster.kubectl_ok(&["get", "kopfexamples", "-A", "-o", "json"]);
    let list: Value = serde_json::from_str(&text).expect("a JSON list");
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| {
            let by = item.pointer("/status/create_fn/by")?.as_str()?;
            let name = item.pointer("/metadata/name")?.as_str()?;
            Some((name.to_string(), by.to_string()))
        })
        .collect()
}

fn wait_stored(cluster: &Cluster, count: usize, deadline: Duration) -> BTreeMap<String, String> {
    wait_for_blocking(&format!("{count} objects handled"), deadline, || {
        let stored = stored(cluster);
        (stored.len() >= count).then_some(stored)
    })
}

/// One handler start or end, as printed by the test operators.
#[derive(Debug)]
struct Handled {
    name: String,
    by: String,
    start: bool,
    at: u128,
}

fn handled(process: &Process) -> Vec<Handled> {
    process
        .lines()
        .iter()
        .filter_map(|line| {
            let rest = &line[line.find("HANDLED ")? + "HANDLED ".len()..];
            let parts: Vec<&str> = rest.split_whitespace().collect();
            match parts.as_slice() {
                [name, "BY", by, phase, at] => Some(Handled {
                    name: name.to_string(),
                    by: by.to_string(),
                    start: *phase == "START",
                    at: at.parse().ok()?,
                }),
                _ => None,
            }
        })
        .collect()
}

/// The objects whose handler ended in any of these processes.
fn completed(processes: &[Process]) -> std::collections::BTreeSet<String> {
    processes
        .iter()
        .flat_map(handled)
        .filter(|h| !h.start)
        .map(|h| h.name)
        .collect()
}

/// Sets the embedded server's injected failures.
fn set_faults(cluster: &Cluster, faults: kopf_apiserver::FaultConfig) {
    cluster.server.control().faults().set(faults);
}

fn starts(process: &Process) -> Vec<Handled> {
    handled(process).into_iter().filter(|h| h.start).collect()
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address").port()
}

/// A plain HTTP/1.0 GET; the body, if the server answered.
fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response.split_once("\r\n\r\n")?.1.to_string())
}

fn replica(cluster: &Cluster, pod: &str, args: &[&str]) -> Process {
    cluster.kopf_run_with_env(&operator_file("replicas.rs"), args, &[("POD_ID", pod)])
}

#[test]
fn python_kopf_and_ours_pause_for_each_other_and_for_kopf_freeze() {
    let cluster = Cluster::start("replicas-peering");
    apply_example_crd(&cluster);
    apply_peering(&cluster);
    let python_args = [
        "--peering",
        "default",
        "--priority",
        "10",
        "-A",
        "--verbose",
    ];
    let mut python = python_kopf_with(
        &cluster,
        "replicas.py",
        &python_args,
        &[("POD_ID", "python")],
    );
    python.wait_for("Starting the watch-stream for kopfexamples", STEP_DEADLINE);

    // Ours (priority 0) sees Python kopf (10) and pauses in its favour.
    let mut ours = replica(
        &cluster,
        "rust",
        &["--peering", "default", "-A", "--verbose"],
    );
    ours.wait_for(
        "Pausing operations in favour of [<Peer python: priority=10",
        BUILD_DEADLINE,
    );
    create_objects(&cluster, "kex-a", 0..1);
    python.wait_for("HANDLED kex-a-0 BY python END", STEP_DEADLINE);
    assert_eq!(wait_stored(&cluster, 1, STEP_DEADLINE)["kex-a-0"], "python");

    // Python kopf exits and removes its keep-alive: ours resumes at once and handles.
    assert!(python.interrupt().success(), "{}", python.output());
    ours.wait_for("Resuming operations after the pause.", STEP_DEADLINE);
    create_objects(&cluster, "kex-b", 0..1);
    ours.wait_for("HANDLED kex-b-0 BY rust END", STEP_DEADLINE);

    // kopf freeze (priority 100) pauses ours, and Python kopf started again.
    let frozen = kopf_command(
        &cluster,
        &[
            "freeze", "-P", "default", "-A", "-t", "600", "-i", "freezer",
        ],
    );
    assert!(
        frozen.status.success(),
        "{}",
        String::from_utf8_lossy(&frozen.stderr)
    );
    ours.wait_for(
        "Pausing operations in favour of [<Peer freezer: priority=100",
        STEP_DEADLINE,
    );
    // Python kopf with mandatory peering starts paused (and logs the pause of its stream).
    let mut python = python_kopf_with(
        &cluster,
        "replicas.py",
        &python_args,
        &[("POD_ID", "python")],
    );
    python.wait_for("Pausing the watch-stream for kopfexamples", STEP_DEADLINE);
    python.wait_for("Keep-alive in 'default' cluster-wide: ok.", STEP_DEADLINE);
    create_objects(&cluster, "kex-c", 0..1);

    // kopf resume: Python kopf (the higher priority) goes on and handles the new object.
    let resumed = kopf_command(
        &cluster,
        &["resume", "-P", "default", "-A", "-i", "freezer"],
    );
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    python.wait_for("Resuming operations after the pause.", STEP_DEADLINE);
    python.wait_for("HANDLED kex-c-0 BY python END", STEP_DEADLINE);
    let stored = wait_stored(&cluster, 3, STEP_DEADLINE);
    assert_eq!(stored["kex-c-0"], "python");
    assert_eq!(stored["kex-b-0"], "rust");

    // Each object was handled by one operator, once: the paused one never handled.
    let ours_handled: Vec<String> = starts(&ours).into_iter().map(|h| h.name).collect();
    assert_eq!(ours_handled, ["kex-b-0"], "{}", ours.output());
    let python_handled: Vec<String> = starts(&python).into_iter().map(|h| h.name).collect();
    assert_eq!(python_handled, ["kex-c-0"], "{}", python.output());
    assert!(python.interrupt().success());
    assert!(ours.interrupt().success(), "{}", ours.output());
}

/// Starts replicas one after another (the first builds the operator into the shared cache)
/// and waits until each is up.
fn start_replicas(cluster: &Cluster, pods: &[&str], args: &[&str], up: &str) -> Vec<Process> {
    pods.iter()
        .map(|pod| {
            let mut process = replica(cluster, pod, args);
            process.wait_for(up, BUILD_DEADLINE);
            process
        })
        .collect()
}

const LEADS: &str = "Leader election: this operator leads now";

#[test]
fn only_the_leader_handles_and_a_killed_leader_is_replaced_in_a_lease_duration() {
    let cluster = Cluster::start("replicas-leader");
    apply_example_crd(&cluster);
    let ports = [free_port(), free_port(), free_port()];
    let mut replicas: Vec<Process> = ["r1", "r2", "r3"]
        .iter()
        .zip(ports)
        .map(|(pod, port)| {
            let liveness = format!("--liveness=http://127.0.0.1:{port}/healthz");
            let args = ["--leader-election", "-A", "--standalone", liveness.as_str()];
            let mut process = replica(&cluster, pod, &args);
            process.wait_for("Leader election: contending", BUILD_DEADLINE);
            process
        })
        .collect();
    let leader = wait_for_blocking("a leader", STEP_DEADLINE, || {
        replicas.iter().position(|r| r.count(LEADS) > 0)
    });
    // The liveness endpoints say who leads, and what pauses the others.
    for (i, port) in ports.iter().enumerate() {
        let role = wait_for_blocking("the liveness endpoint", STEP_DEADLINE, || {
            let body: Value = serde_json::from_str(&http_get(*port, "/healthz")?).ok()?;
            let role = body.get("kopf.replica")?.clone();
            (role["leader"] == Value::Bool(i == leader)).then_some(role)
        });
        if i != leader {
            assert_eq!(
                role["paused_by"],
                serde_json::json!(["leader election: not the leader"])
            );
        }
    }
    create_objects(&cluster, "lead-a", 0..150);
    wait_stored(&cluster, 150, STEP_DEADLINE);

    // SIGKILL: no release; another replica leads once the lease has expired.
    let killed_at = now_ms();
    replicas[leader].kill();
    create_objects(&cluster, "lead-b", 0..150);
    let next = wait_for_blocking("the next leader", STEP_DEADLINE, || {
        (0..3).find(|&i| i != leader && replicas[i].count(LEADS) > 0)
    });
    wait_stored(&cluster, 300, STEP_DEADLINE);
    let first = starts(&replicas[next])
        .iter()
        .map(|h| h.at)
        .min()
        .expect("the next leader handled");
    let takeover = first.saturating_sub(killed_at);
    println!("takeover after a SIGKILL: {takeover} ms");
    assert!(
        first >= killed_at,
        "the next leader handled while the old one lived"
    );
    assert!(
        takeover <= 25_000,
        "took {takeover} ms (lease duration 15 s)"
    );

    // SIGINT: the leader releases the lease; the last replica leads at once.
    let last = (0..3)
        .find(|&i| i != leader && i != next)
        .expect("a third replica");
    let stopped_at = now_ms();
    assert!(
        replicas[next].interrupt().success(),
        "{}",
        replicas[next].output()
    );
    replicas[last].wait_for(LEADS, STEP_DEADLINE);
    create_objects(&cluster, "lead-c", 0..50);
    wait_stored(&cluster, 350, STEP_DEADLINE);
    let first = starts(&replicas[last])
        .iter()
        .map(|h| h.at)
        .min()
        .expect("the last leader handled");
    println!(
        "takeover after a release: {} ms",
        first.saturating_sub(stopped_at)
    );
    assert!(
        first.saturating_sub(stopped_at) <= 8_000,
        "a released lease is taken at once"
    );

    // Every object handled exactly once, and no two replicas ever handled at once.
    let mut all: Vec<Handled> = replicas.iter().flat_map(starts).collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for h in &all {
        *counts.entry(h.name.as_str()).or_default() += 1;
    }
    assert_eq!(counts.len(), 350);
    assert!(
        counts.values().all(|&c| c == 1),
        "handled more than once: {counts:?}"
    );
    all.sort_by_key(|h| h.at);
    let order: Vec<&str> = all.iter().map(|h| h.by.as_str()).collect();
    let mut runs = order.clone();
    runs.dedup();
    assert_eq!(
        runs.len(),
        3,
        "the replicas handled in turns, one at a time: {runs:?}"
    );
}

#[test]
fn shard_holders_split_the_objects_and_take_over_a_killed_ones_shards() {
    let cluster = Cluster::start("replicas-shards");
    apply_example_crd(&cluster);
    let args = ["--shards", "6", "-A", "--standalone"];
    let mut replicas = start_replicas(
        &cluster,
        &["s1", "s2", "s3"],
        &args,
        "Sharding: this replica handles shards",
    );
    for replica in replicas.iter_mut() {
        replica.wait_for("of 6 (3 replicas)", STEP_DEADLINE);
    }
    wait_for_blocking("two shards each", STEP_DEADLINE, || {
        replicas
            .iter()
            .all(|r| {
                let lines = r.lines();
                let last = lines
                    .iter()
                    .rev()
                    .find(|l| l.contains("Sharding: this replica handles shards"));
                last.is_some_and(|l| l.matches(", ").count() == 1 && l.contains("(3 replicas)"))
            })
            .then_some(())
    });
    create_objects(&cluster, "shard-a", 0..600);
    let stored_a = wait_stored(&cluster, 600, STEP_DEADLINE);
    let mut shares: BTreeMap<&str, usize> = BTreeMap::new();
    for by in stored_a.values() {
        *shares.entry(by.as_str()).or_default() += 1;
    }
    println!("shares of 600: {shares:?}");
    assert_eq!(shares.len(), 3, "{shares:?}");
    assert!(
        shares.values().all(|&n| n >= 120),
        "about a third each: {shares:?}"
    );

    // s3 is SIGKILLed: its shards move to the others once its leases expire.
    let killed_at = now_ms();
    replicas[2].kill();
    create_objects(&cluster, "shard-b", 0..300);
    let stored_all = wait_stored(&cluster, 900, Duration::from_secs(90));
    let by_dead = stored_all
        .iter()
        .filter(|(name, by)| name.starts_with("shard-b") && *by == "s3");
    assert_eq!(
        by_dead.count(),
        0,
        "a killed replica stored nothing after its death"
    );
    let late: Vec<u128> = replicas[..2]
        .iter()
        .flat_map(starts)
        .filter(|h| h.name.starts_with("shard-b"))
        .map(|h| h.at)
        .collect();
    let last = late.iter().max().copied().unwrap_or(killed_at);
    println!(
        "the killed replica's share handled {} ms after the kill",
        last.saturating_sub(killed_at)
    );
    assert!(last.saturating_sub(killed_at) <= 40_000);

    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for h in replicas.iter().flat_map(starts) {
        *counts.entry(h.name).or_default() += 1;
    }
    assert_eq!(counts.len(), 900);
    assert!(counts.values().all(|&c| c == 1), "handled more than once");
    for replica in replicas[..2].iter_mut() {
        assert!(replica.interrupt().success(), "{}", replica.output());
    }
}

/// Creates the object with the kube client, again and again through the injected failures.
fn create_until_accepted(cluster: &Cluster, name: &str) {
    let api: kube::Api<kube::core::DynamicObject> = kube::Api::namespaced_with(
        cluster.client.clone(),
        "default",
        &kube::core::ApiResource {
            group: "kopf.dev".into(),
            version: "v1".into(),
            api_version: "kopf.dev/v1".into(),
            kind: "KopfExample".into(),
            plural: "kopfexamples".into(),
        },
    );
    let object: kube::core::DynamicObject = serde_json::from_value(serde_json::json!({
        "apiVersion": "kopf.dev/v1", "kind": "KopfExample",
        "metadata": {"name": name, "namespace": "default"}, "spec": {"field": 1},
    }))
    .expect("an object");
    wait_for_blocking(
        "a create through the faults",
        STEP_DEADLINE,
        || match cluster.block_on(api.create(&Default::default(), &object)) {
            Ok(_) => Some(()),
            Err(kube::Error::Api(status)) if status.code == 409 => Some(()),
            Err(_) => None,
        },
    );
}

#[test]
fn leader_election_under_injected_faults_never_handles_twice_at_once() {
    use kopf_apiserver::FaultConfig;
    let cluster = Cluster::start("replicas-faults");
    apply_example_crd(&cluster);
    let args = ["--leader-election", "-A", "--standalone"];
    let replicas = start_replicas(
        &cluster,
        &["f1", "f2", "f3"],
        &args,
        "Leader election: contending",
    );
    wait_for_blocking("a leader", STEP_DEADLINE, || {
        replicas.iter().any(|r| r.count(LEADS) > 0).then_some(())
    });

    // Half the requests fail for a while: renewals are lost, leaders step down.
    set_faults(
        &cluster,
        FaultConfig {
            error_500_ratio: 0.5,
            watch_drop_ratio: 0.05,
            ..FaultConfig::default()
        },
    );
    for batch in 0..4 {
        for i in 0..25 {
            create_until_accepted(&cluster, &format!("fault-{batch}-{i}"));
        }
        std::thread::sleep(Duration::from_secs(3)); // Let renewals fail in between.
    }
    // Every request fails: the leader cannot renew and must stop before its lease expires.
    set_faults(
        &cluster,
        FaultConfig {
            error_500_ratio: 1.0,
            ..FaultConfig::default()
        },
    );
    wait_for_blocking("a leader stepping down", STEP_DEADLINE, || {
        replicas
            .iter()
            .any(|r| r.count("handling has stopped; following") > 0)
            .then_some(())
    });
    set_faults(&cluster, FaultConfig::default());
    // Every object handled: a result whose status patch failed 9 times under 100 % of
    // failures is lost (as in kopf), so completion is counted from the handlers' own lines.
    let done = || completed(&replicas).len();
    let all_done = kopf_test_support::poll_until_blocking(Duration::from_secs(120), || {
        (done() >= 100).then_some(())
    });
    if all_done.is_none() {
        let outputs: Vec<String> = replicas
            .iter()
            .map(|r| {
                r.lines()
                    .iter()
                    .rev()
                    .take(40)
                    .rev()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .collect();
        panic!(
            "only {} of 100 handled; the replicas said:\n{}",
            done(),
            outputs.join("\n-----\n")
        );
    }

    // Never two replicas inside a handler at the same moment.
    let mut events: Vec<Handled> = replicas.iter().flat_map(handled).collect();
    events.sort_by_key(|h| (h.at, h.start));
    let mut inside: BTreeMap<String, String> = BTreeMap::new();
    for event in &events {
        if event.start {
            let others: Vec<&String> = inside.values().filter(|by| **by != event.by).collect();
            assert!(
                others.is_empty(),
                "{} started {} while {others:?} handled",
                event.by,
                event.name
            );
            inside.insert(event.name.clone(), event.by.clone());
        } else {
            inside.remove(&event.name);
        }
    }
    let terms: usize = replicas.iter().map(|r| r.count(LEADS)).sum();
    let stepped_down: usize = replicas.iter().map(|r| r.count("stopping handling")).sum();
    println!("leadership terms: {terms}, step-downs: {stepped_down}");
}

/// Catch-up time: N objects exist, then the operator starts; until all are handled.
/// One replica vs three sharded ones. By hand (numbers in BENCHMARKS.md):
/// `cargo test -p kopf-cli --test cli -- --ignored --nocapture e2e_replicas::catch_up`
#[test]
#[ignore = "a benchmark: run by hand, figures in BENCHMARKS.md"]
fn catch_up_of_three_sharded_replicas_vs_one() {
    let objects: usize = std::env::var("KOPF_CATCH_UP_OBJECTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    for (pods, args) in [
        (&["c1"][..], &["-A", "--standalone"][..]),
        (
            &["c1", "c2", "c3"][..],
            &["--shards", "6", "-A", "--standalone"][..],
        ),
    ] {
        let cluster = Cluster::start("replicas-catch-up");
        apply_example_crd(&cluster);
        for chunk in 0..objects.div_ceil(500) {
            let range = chunk * 500..((chunk + 1) * 500).min(objects);
            create_objects(&cluster, &format!("catch-{chunk}"), range);
        }
        let started = std::time::Instant::now();
        let sleep = std::env::var("KOPF_CATCH_UP_SLEEP_MS").unwrap_or_else(|_| "20".into());
        let replicas: Vec<Process> = pods
            .iter()
            .map(|pod| {
                let envs = [("POD_ID", *pod), ("HANDLER_SLEEP_MS", sleep.as_str())];
                cluster.kopf_run_with_env(&operator_file("replicas.rs"), args, &envs)
            })
            .collect();
        wait_stored(&cluster, objects, Duration::from_secs(600));
        let elapsed = started.elapsed();
        let shares: Vec<usize> = replicas.iter().map(|r| starts(r).len()).collect();
        println!(
            "{} replica(s), {objects} objects, handlers of {sleep} ms: all handled in {elapsed:.1?}; shares {shares:?}",
            pods.len()
        );
    }
}

#[test]
fn sharding_under_injected_faults_never_handles_an_object_twice_at_once() {
    use kopf_apiserver::FaultConfig;
    let cluster = Cluster::start("replicas-shard-faults");
    apply_example_crd(&cluster);
    let args = ["--shards", "6", "-A", "--standalone"];
    let replicas = start_replicas(
        &cluster,
        &["g1", "g2", "g3"],
        &args,
        "Sharding: this replica handles shards",
    );
    // Failures and dropped watches while objects come and shards are renewed (and lost).
    set_faults(
        &cluster,
        FaultConfig {
            error_500_ratio: 0.3,
            watch_drop_ratio: 0.05,
            ..FaultConfig::default()
        },
    );
    for i in 0..60 {
        create_until_accepted(&cluster, &format!("sharded-{i}"));
    }
    set_faults(
        &cluster,
        FaultConfig {
            error_500_ratio: 1.0,
            ..FaultConfig::default()
        },
    );
    // Nobody can renew: every replica gives its shards up within the renew deadline.
    wait_for_blocking("the shards given up", STEP_DEADLINE, || {
        replicas
            .iter()
            .all(|r| {
                r.lines()
                    .iter()
                    .any(|l| l.contains("handles shards [] of 6"))
            })
            .then_some(())
    });
    set_faults(&cluster, FaultConfig::default());
    let done = || completed(&replicas).len();
    wait_for_blocking("every object handled", Duration::from_secs(120), || {
        (done() >= 60).then_some(())
    });

    // Per object: the handlings of different replicas never overlap in time.
    let mut by_object: BTreeMap<String, Vec<(u128, bool, String)>> = BTreeMap::new();
    for h in replicas.iter().flat_map(handled) {
        by_object
            .entry(h.name)
            .or_default()
            .push((h.at, h.start, h.by));
    }
    for (name, mut events) in by_object {
        events.sort();
        let mut inside: Option<String> = None;
        for (_, start, by) in events {
            if start {
                assert!(
                    inside.as_ref().is_none_or(|o| *o == by),
                    "{name}: {by} started while {inside:?} handled it"
                );
                inside = Some(by);
            } else {
                inside = None;
            }
        }
    }
}

#[test]
fn peering_under_injected_faults_keeps_the_lower_priority_paused() {
    use kopf_apiserver::FaultConfig;
    let cluster = Cluster::start("replicas-peering-faults");
    apply_example_crd(&cluster);
    apply_peering(&cluster);
    let mut high = replica(
        &cluster,
        "high",
        &[
            "--peering",
            "default",
            "--priority",
            "10",
            "-A",
            "--verbose",
        ],
    );
    high.wait_for("Keep-alive in 'default' cluster-wide: ok.", BUILD_DEADLINE);
    let mut low = replica(
        &cluster,
        "low",
        &["--peering", "default", "-A", "--verbose"],
    );
    low.wait_for(
        "Pausing operations in favour of [<Peer high: priority=10",
        STEP_DEADLINE,
    );
    set_faults(
        &cluster,
        FaultConfig {
            error_500_ratio: 0.3,
            watch_drop_ratio: 0.1,
            ..FaultConfig::default()
        },
    );
    for i in 0..30 {
        create_until_accepted(&cluster, &format!("peer-{i}"));
    }
    set_faults(&cluster, FaultConfig::default());
    wait_for_blocking(
        "every object handled by the higher priority",
        STEP_DEADLINE,
        || (completed(std::slice::from_ref(&high)).len() >= 30).then_some(()),
    );
    // Through failed keep-alives and dropped peering streams, the lower one never handled.
    assert!(starts(&low).is_empty(), "{}", low.output());
    assert_eq!(
        low.count("Resuming operations after the pause."),
        0,
        "{}",
        low.output()
    );
    assert!(high.interrupt().success());
    low.wait_for("Resuming operations after the pause.", STEP_DEADLINE);
    assert!(low.interrupt().success());
}

#[test]
fn namespaced_peering_with_python_kopf_in_one_namespace() {
    let cluster = Cluster::start("replicas-peering-namespaced");
    apply_example_crd(&cluster);
    apply_peering(&cluster);
    let object = cluster.write_file(
        "namespaced-peering.yaml",
        "apiVersion: kopf.dev/v1\nkind: KopfPeering\nmetadata:\n  name: default\n  namespace: default\n",
    );
    cluster.kubectl_ok(&["apply", "-f", object.to_str().unwrap()]);
    let python_args = [
        "--peering",
        "default",
        "--priority",
        "10",
        "-n",
        "default",
        "--verbose",
    ];
    let mut python = python_kopf_with(
        &cluster,
        "replicas.py",
        &python_args,
        &[("POD_ID", "python")],
    );
    python.wait_for("Keep-alive in 'default' in 'default': ok.", STEP_DEADLINE);
    let mut ours = replica(
        &cluster,
        "rust",
        &["--peering", "default", "-n", "default", "--verbose"],
    );
    ours.wait_for(
        "Pausing operations in favour of [<Peer python: priority=10",
        BUILD_DEADLINE,
    );
    // The keep-alives went into the namespace's KopfPeering, not the cluster-wide one.
    let peering = cluster.kubectl_ok(&[
        "get",
        "kopfpeering",
        "default",
        "-n",
        "default",
        "-o",
        "json",
    ]);
    let peering: Value = serde_json::from_str(&peering).expect("JSON");
    assert!(
        peering.pointer("/status/python/priority").is_some(),
        "{peering}"
    );
    assert!(
        peering.pointer("/status/rust/lastseen").is_some(),
        "{peering}"
    );
    create_objects(&cluster, "ns-a", 0..1);
    python.wait_for("HANDLED ns-a-0 BY python END", STEP_DEADLINE);
    assert!(python.interrupt().success(), "{}", python.output());
    ours.wait_for("Resuming operations after the pause.", STEP_DEADLINE);
    create_objects(&cluster, "ns-b", 0..1);
    ours.wait_for("HANDLED ns-b-0 BY rust END", STEP_DEADLINE);
    let handled_by_ours: Vec<String> = starts(&ours).into_iter().map(|h| h.name).collect();
    assert_eq!(handled_by_ours, ["ns-b-0"]);
    assert!(ours.interrupt().success(), "{}", ours.output());
}
