//! `kopf cluster --data-dir` killed with SIGKILL in the middle of a write load, then
//! restarted on the same directory: no acknowledged write is lost, no event a watcher saw
//! is lost, and resourceVersions keep growing.
//!
//! 8 writers create and then merge-PATCH their own ConfigMaps through the kube client (each
//! value written to an object is larger than the one before), recording every acknowledged
//! write; a watcher records every event. The figures printed at the end go into
//! RELIABILITY.md.

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kopf_test_support::{Process, client_without_retries, scratch_dir, wait_for};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WRITERS: usize = 8;
const OBJECTS_PER_WRITER: u64 = 4;
/// The kill comes once this many writes are acknowledged (the load goes on until then).
const ACKS_BEFORE_KILL: usize = 3000;
const DEADLINE: Duration = Duration::from_secs(30);

/// What the clients saw before the kill: object name → (value, resourceVersion).
#[derive(Default)]
struct Seen {
    acked: Mutex<HashMap<String, (u64, u64)>>,
    acks: AtomicUsize,
    /// Every event the watcher got: (name, value, resourceVersion).
    events: Mutex<Vec<(String, u64, u64)>>,
}

fn value_and_rv(object: &ConfigMap) -> (u64, u64) {
    let value = object
        .data
        .as_ref()
        .and_then(|d| d.get("v"))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let rv = object
        .metadata
        .resource_version
        .as_deref()
        .and_then(|rv| rv.parse().ok())
        .unwrap_or(0);
    (value, rv)
}

fn spawn_cluster(data: &Path, home: &Path) -> Process {
    Process::spawn(
        Command::new(env!("CARGO_BIN_EXE_kopf"))
            .args(["cluster", "--port", "0", "--data-dir"])
            .arg(data)
            .env("HOME", home)
            .env_remove("XDG_DATA_HOME"),
    )
}

async fn connect(cluster: &mut Process) -> Api<ConfigMap> {
    let line = cluster.wait_for_line_starting("export KUBECONFIG=", DEADLINE);
    let path = line.trim_start_matches("export KUBECONFIG=");
    let yaml = std::fs::read_to_string(path).expect("the announced kubeconfig exists");
    Api::namespaced(client_without_retries(&yaml).await, "default")
}

/// Creates, then updates, its own objects with ever larger values until a write fails
/// (the server is gone).
async fn writer(api: Api<ConfigMap>, id: usize, seen: Arc<Seen>) {
    for n in 1u64.. {
        let name = format!("w{id}-{}", n % OBJECTS_PER_WRITER);
        let result = if n <= OBJECTS_PER_WRITER {
            let body: ConfigMap = serde_json::from_value(
                json!({"metadata": {"name": name}, "data": {"v": n.to_string()}}),
            )
            .expect("a ConfigMap");
            api.create(&PostParams::default(), &body).await
        } else {
            let patch = json!({"data": {"v": n.to_string()}});
            api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
        };
        let Ok(object) = result else { return };
        let (value, rv) = value_and_rv(&object);
        seen.acked.lock().unwrap().insert(name, (value, rv));
        seen.acks.fetch_add(1, Ordering::SeqCst);
    }
}

async fn watcher(api: Api<ConfigMap>, from: String, seen: Arc<Seen>) {
    let Ok(stream) = api.watch(&WatchParams::default().timeout(120), &from).await else {
        return;
    };
    let mut stream = stream.boxed();
    while let Some(Ok(event)) = stream.next().await {
        if let WatchEvent::Added(object) | WatchEvent::Modified(object) = event {
            let (value, rv) = value_and_rv(&object);
            let name = object.metadata.name.unwrap_or_default();
            seen.events.lock().unwrap().push((name, value, rv));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_killed_under_load_keeps_acknowledged_writes_and_watched_events() {
    let started = Instant::now();
    let home = scratch_dir("cluster-kill");
    let data = home.join("data");
    let mut cluster = spawn_cluster(&data, &home);
    let api = connect(&mut cluster).await;
    let seen = Arc::new(Seen::default());

    let list = api.list(&ListParams::default()).await.expect("a list");
    let from = list.metadata.resource_version.unwrap_or_default();
    let watch = tokio::spawn(watcher(api.clone(), from, seen.clone()));
    let writers: Vec<_> = (0..WRITERS)
        .map(|id| tokio::spawn(writer(api.clone(), id, seen.clone())))
        .collect();
    wait_for("enough acknowledged writes", DEADLINE, || {
        let acks = seen.acks.load(Ordering::SeqCst);
        async move { (acks >= ACKS_BEFORE_KILL).then_some(()) }
    })
    .await;
    // SIGKILL while the writers are still writing: no shutdown, no flush.
    cluster.kill();
    let killed_at = started.elapsed();
    for writer in writers {
        tokio::time::timeout(DEADLINE, writer)
            .await
            .expect("the writers stop once the server is gone")
            .expect("a writer does not panic");
    }
    tokio::time::timeout(DEADLINE, watch)
        .await
        .expect("the watch ends with the server")
        .expect("the watcher does not panic");
    let acked = seen.acked.lock().unwrap().clone();
    let events = seen.events.lock().unwrap().clone();
    let acks = seen.acks.load(Ordering::SeqCst);
    let highest_seen = acked
        .values()
        .map(|(_, rv)| *rv)
        .chain(events.iter().map(|(_, _, rv)| *rv))
        .max()
        .unwrap_or(0);

    let restarting = Instant::now();
    let mut cluster = spawn_cluster(&data, &home);
    let api = connect(&mut cluster).await;
    let restarted_in = restarting.elapsed();
    let present: HashMap<String, (u64, u64)> = api
        .list(&ListParams::default())
        .await
        .expect("a list after the restart")
        .items
        .iter()
        .map(|o| (o.metadata.name.clone().unwrap_or_default(), value_and_rv(o)))
        .collect();

    let lost_writes: Vec<_> = acked
        .iter()
        .filter(|(name, (value, rv))| {
            !present
                .get(*name)
                .is_some_and(|(v, r)| v >= value && r >= rv)
        })
        .collect();
    assert!(
        lost_writes.is_empty(),
        "acknowledged writes lost by the kill (name, (value, rv)): {lost_writes:?}"
    );
    let lost_events: Vec<_> = events
        .iter()
        .filter(|(name, value, rv)| {
            !present
                .get(name)
                .is_some_and(|(v, r)| v >= value && r >= rv)
        })
        .collect();
    assert!(
        lost_events.is_empty(),
        "events a watcher saw but lost by the kill (name, value, rv): {lost_events:?}"
    );
    let body: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "after-restart"}}))
        .expect("a ConfigMap");
    let created = api
        .create(&PostParams::default(), &body)
        .await
        .expect("a write after the restart");
    let (_, new_rv) = value_and_rv(&created);
    assert!(
        new_rv > highest_seen,
        "the first version after the restart ({new_rv}) is above every one seen before ({highest_seen})"
    );
    let unacknowledged_events = events
        .iter()
        .filter(|(name, value, _)| acked.get(name).is_none_or(|(v, _)| value > v))
        .count();
    println!(
        "figures: {WRITERS} writers; killed after {:.1} s with {acks} writes acknowledged; \
         the watcher had {} events ({unacknowledged_events} of writes not yet acknowledged); \
         restarted in {:.2} s; lost writes 0, lost events 0; highest version before {highest_seen}, \
         first after {new_rv}; whole test {:.1} s",
        killed_at.as_secs_f64(),
        events.len(),
        restarted_in.as_secs_f64(),
        started.elapsed().as_secs_f64(),
    );
    assert!(cluster.interrupt().success());
}
