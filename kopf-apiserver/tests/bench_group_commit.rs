//! The group commit's throughput through the API: 64 concurrent writers merge-PATCHing
//! ConfigMaps of a durable server (each write answered only once it is on disk), with one
//! watcher following every change. Ignored by default (it measures, it does not check);
//! run it in release mode and read the printed figures:
//!
//! `cargo test --release -p kopf-apiserver --test apiserver -- --ignored --nocapture bench_group_commit::`
//!
//! `KOPF_BENCH_SECONDS` sets the measured time (default 5 s). The figures go into
//! `kopf-apiserver/BENCHMARKS.md`.

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kopf_apiserver::{RunningServer, ServerConfig};
use kopf_test_support::{client_for, scratch_dir};
use kube::api::{Api, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const WRITERS: usize = 64;

async fn measure(label: &str, config: ServerConfig) {
    let seconds: u64 = std::env::var("KOPF_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let server = RunningServer::start(config).await.unwrap();
    let client = client_for(&server.kubeconfig()).await;
    let api = Api::<ConfigMap>::namespaced(client.clone(), "default");
    for i in 0..WRITERS {
        let body: ConfigMap = serde_json::from_value(
            json!({"metadata": {"name": format!("bench-{i}")}, "data": {"n": "0"}}),
        )
        .unwrap();
        api.create(&PostParams::default(), &body).await.unwrap();
    }

    let seen = Arc::new(AtomicU64::new(0));
    let watcher = {
        let api = api.clone();
        let seen = Arc::clone(&seen);
        let list = api.list(&Default::default()).await.unwrap();
        let from = list.metadata.resource_version.unwrap_or_default();
        tokio::spawn(async move {
            let mut stream = api
                .watch(&WatchParams::default().timeout(290), &from)
                .await
                .unwrap()
                .boxed();
            while let Some(Ok(event)) = stream.next().await {
                if matches!(event, WatchEvent::Modified(_)) {
                    seen.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };

    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let writers: Vec<_> = (0..WRITERS)
        .map(|i| {
            let api = api.clone();
            let stop = Arc::clone(&stop);
            let written = Arc::clone(&written);
            tokio::spawn(async move {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let patch = json!({"data": {"n": n.to_string()}});
                    api.patch(
                        &format!("bench-{i}"),
                        &PatchParams::default(),
                        &Patch::Merge(&patch),
                    )
                    .await
                    .unwrap();
                    written.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total = written.load(Ordering::Relaxed);
    // Every acknowledged write reaches the watcher; wait (bounded) for the last ones.
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.load(Ordering::Relaxed) < total && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!(
        "{label}: {WRITERS} writers, {total} acknowledged merge-PATCHes in {elapsed:.1} s = {:.0} writes/s; the watcher saw {} of them",
        total as f64 / elapsed,
        seen.load(Ordering::Relaxed)
    );
    watcher.abort();
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run by hand in release mode"]
async fn group_commit_throughput_with_64_writers() {
    let dir = scratch_dir("bench-group-commit");
    measure("durable", ServerConfig::durable(dir.join("data"))).await;
    measure("in memory", ServerConfig::in_memory()).await;
    let _ = std::fs::remove_dir_all(&dir);
}
