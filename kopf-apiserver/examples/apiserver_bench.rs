//! Throughput of the embedded API server through a real client over loopback HTTPS.
//!
//! `cargo run --release -p kopf-apiserver --example apiserver_bench [-- --objects N]`
//! (`-- --costs [ROUNDS]`: only what managed fields and tables cost patches)
//!
//! Measures, in memory and durable: GET and merge-PATCH requests per second from 32
//! concurrent kube clients' tasks, and watch fan-out (one write seen by 100 watchers);
//! then the process RSS with N (default 100,000) stored objects. Loops are bounded and
//! everything stays on 127.0.0.1.

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kopf_apiserver::persistence::{Persistence, WriteBatch};
use kopf_apiserver::{RunningServer, ServerConfig};
use kube::api::{Api, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const CONCURRENCY: usize = 32;
const GETS: usize = 20_000;
const PATCHES: usize = 5_000;
const WATCHERS: usize = 100;
const FANOUT_WRITES: usize = 50;
/// The watch history of `--costs`' servers, in events.
const HISTORY: usize = 10_000;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn config_map(name: &str, value: &str) -> ConfigMap {
    ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        data: Some(BTreeMap::from([("value".to_string(), value.to_string())])),
        ..Default::default()
    }
}

/// A ConfigMap as operators' objects usually are: some data, labels, and the annotation
/// `kubectl apply` leaves (its last applied configuration).
fn typical_config_map(name: &str) -> ConfigMap {
    let data: BTreeMap<String, String> = (0..8)
        .map(|i| (format!("key-{i}"), format!("{i}").repeat(96)))
        .collect();
    let applied = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"}, "data": &data});
    ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some(name.into()),
            labels: Some(BTreeMap::from([
                ("app".to_string(), "bench".to_string()),
                ("tier".to_string(), "backend".to_string()),
            ])),
            annotations: Some(BTreeMap::from([(
                "kubectl.kubernetes.io/last-applied-configuration".to_string(),
                applied.to_string(),
            )])),
            ..Default::default()
        },
        data: Some(data),
        ..Default::default()
    }
}

async fn client_for(server: &RunningServer) -> Result<kube::Client, BoxError> {
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&server.kubeconfig())?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await?;
    Ok(kube::Client::try_from(config)?)
}

/// Runs `total` calls of `op` from `CONCURRENCY` tasks; returns calls per second.
async fn rate<F, Fut>(total: usize, op: F) -> Result<f64, BoxError>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), BoxError>> + Send,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let op = Arc::clone(&op);
        let next = Arc::clone(&next);
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= total {
                    return Ok::<(), BoxError>(());
                }
                op(i).await?;
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// Merge PATCHes of the `PREFIX-N` ConfigMaps, their responses read as text only.
async fn raw_patches(
    client: &kube::Client,
    prefix: &'static str,
    manager: Option<&str>,
) -> Result<f64, BoxError> {
    let client = client.clone();
    let manager = manager.map(str::to_string);
    rate(PATCHES, move |i| {
        let client = client.clone();
        let params = PatchParams {
            field_manager: manager.clone(),
            ..PatchParams::default()
        };
        async move {
            let body = serde_json::json!({"data": {"value": format!("r{i}")}});
            let request = kube::core::Request::new("/api/v1/namespaces/default/configmaps").patch(
                &format!("{prefix}-{}", i % CONCURRENCY),
                &params,
                &Patch::Merge(&body),
            )?;
            client.request_text(request).await?;
            Ok(())
        }
    })
    .await
}

struct Figures {
    get: f64,
    patch: f64,
    /// The same PATCH with a `fieldManager`: its `managedFields` entry is kept current.
    patch_managed: f64,
    /// Both again from a client that reads the responses as text without decoding them:
    /// the server's own cost, not the client's decoding of the bigger objects.
    patch_raw: f64,
    patch_managed_raw: f64,
    /// The text-client PATCHes of objects of a typical size (~1.5 KiB: data, labels and a
    /// last-applied annotation, as kubectl and kopf leave them).
    patch_typical: f64,
    patch_managed_typical: f64,
    fanout_mean: Duration,
    fanout_max: Duration,
    fanout_events: f64,
}

async fn measure(label: &str, config: ServerConfig) -> Result<Figures, BoxError> {
    eprintln!("[{label}] starting");
    let server = RunningServer::start(config).await?;
    let client = client_for(&server).await?;
    let api = Api::<ConfigMap>::namespaced(client.clone(), "default");
    api.create(&PostParams::default(), &config_map("bench", "0"))
        .await?;

    let get_api = api.clone();
    let get = rate(GETS, move |_| {
        let api = get_api.clone();
        async move {
            api.get("bench").await?;
            Ok(())
        }
    })
    .await?;
    eprintln!("[{label}] GET {get:.0}/s");

    for i in 0..CONCURRENCY {
        api.create(
            &PostParams::default(),
            &config_map(&format!("patch-{i}"), "0"),
        )
        .await?;
    }
    let patch_api = api.clone();
    let patch = rate(PATCHES, move |i| {
        let api = patch_api.clone();
        async move {
            let body = serde_json::json!({"data": {"value": i.to_string()}});
            api.patch(
                &format!("patch-{}", i % CONCURRENCY),
                &PatchParams::default(),
                &Patch::Merge(&body),
            )
            .await?;
            Ok(())
        }
    })
    .await?;
    eprintln!("[{label}] PATCH {patch:.0}/s");
    let managed_api = api.clone();
    let patch_managed = rate(PATCHES, move |i| {
        let api = managed_api.clone();
        async move {
            let body = serde_json::json!({"data": {"value": format!("m{i}")}});
            let params = PatchParams {
                field_manager: Some("bench".into()),
                ..PatchParams::default()
            };
            api.patch(
                &format!("patch-{}", i % CONCURRENCY),
                &params,
                &Patch::Merge(&body),
            )
            .await?;
            Ok(())
        }
    })
    .await?;
    eprintln!("[{label}] PATCH with a field manager {patch_managed:.0}/s");
    for i in 0..CONCURRENCY {
        api.create(
            &PostParams::default(),
            &config_map(&format!("raw-{i}"), "0"),
        )
        .await?;
    }
    let patch_raw = raw_patches(&client, "raw", None).await?;
    let patch_managed_raw = raw_patches(&client, "raw", Some("bench")).await?;
    for i in 0..CONCURRENCY {
        api.create(
            &PostParams::default(),
            &typical_config_map(&format!("typical-{i}")),
        )
        .await?;
    }
    let patch_typical = raw_patches(&client, "typical", None).await?;
    let patch_managed_typical = raw_patches(&client, "typical", Some("bench")).await?;
    eprintln!(
        "[{label}] typical objects: raw PATCH {patch_typical:.0}/s, with a field manager {patch_managed_typical:.0}/s"
    );
    eprintln!(
        "[{label}] raw PATCH {patch_raw:.0}/s, with a field manager {patch_managed_raw:.0}/s"
    );

    // Fan-out: 100 watchers on one object; each write must reach all of them.
    api.create(&PostParams::default(), &config_map("fanout", "0"))
        .await?;
    let rv = api
        .get("fanout")
        .await?
        .metadata
        .resource_version
        .unwrap_or_default();
    let seen = Arc::new(AtomicU64::new(0));
    let notify = Arc::new(tokio::sync::Notify::new());
    let mut watchers = Vec::new();
    for _ in 0..WATCHERS {
        let params = WatchParams::default()
            .fields("metadata.name=fanout")
            .timeout(290);
        let mut stream = api.watch(&params, &rv).await?.boxed();
        let seen = Arc::clone(&seen);
        let notify = Arc::clone(&notify);
        watchers.push(tokio::spawn(async move {
            while let Some(event) = stream.next().await {
                if let Ok(WatchEvent::Modified(_)) = event {
                    seen.fetch_add(1, Ordering::SeqCst);
                    notify.notify_waiters();
                }
            }
        }));
    }
    let mut latencies = Vec::new();
    let started = Instant::now();
    for i in 1..=FANOUT_WRITES {
        let target = (i * WATCHERS) as u64;
        let write_started = Instant::now();
        let body = serde_json::json!({"data": {"value": i.to_string()}});
        api.patch("fanout", &PatchParams::default(), &Patch::Merge(&body))
            .await?;
        let deadline = write_started + Duration::from_secs(30);
        while seen.load(Ordering::SeqCst) < target {
            let waiting = notify.notified();
            if seen.load(Ordering::SeqCst) >= target {
                break;
            }
            if tokio::time::timeout_at(deadline.into(), waiting)
                .await
                .is_err()
            {
                return Err(format!(
                    "fan-out stalled at {} of {target}",
                    seen.load(Ordering::SeqCst)
                )
                .into());
            }
        }
        latencies.push(write_started.elapsed());
    }
    let fanout_events = (FANOUT_WRITES * WATCHERS) as f64 / started.elapsed().as_secs_f64();
    for watcher in watchers {
        watcher.abort();
    }
    let fanout_mean = latencies.iter().sum::<Duration>() / latencies.len() as u32;
    let fanout_max = latencies.iter().max().copied().unwrap_or_default();
    eprintln!("[{label}] fan-out mean {fanout_mean:?} max {fanout_max:?}");
    server.shutdown().await;
    Ok(Figures {
        get,
        patch,
        patch_managed,
        patch_raw,
        patch_managed_raw,
        patch_typical,
        patch_managed_typical,
        fanout_mean,
        fanout_max,
        fanout_events,
    })
}

/// What a feature costs patches: `rounds` pairs of loops, without and with it, on one
/// server, alternating which goes first; the median of the pairs' ratios (the shared
/// machine's drift hits both loops of a pair alike).
struct Cost {
    without: Vec<f64>,
    with: Vec<f64>,
}

impl Cost {
    fn ratios(&self) -> Vec<f64> {
        let mut ratios: Vec<f64> = self
            .with
            .iter()
            .zip(&self.without)
            .map(|(w, o)| w / o)
            .collect();
        ratios.sort_by(f64::total_cmp);
        ratios
    }

    fn row(&self, what: &str) -> String {
        let median = |v: &[f64]| {
            let mut v = v.to_vec();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let ratios = self.ratios();
        let costs: Vec<String> = ratios
            .iter()
            .map(|r| format!("{:+.1}", (r - 1.0) * 100.0))
            .collect();
        format!(
            "| {what} | {:.0} | {:.0} | **{:+.1} %** | {} |",
            median(&self.without),
            median(&self.with),
            (median(&ratios) - 1.0) * 100.0,
            costs.join(", ")
        )
    }
}

async fn paired<A, B, FA, FB>(rounds: usize, without: A, with: B) -> Result<Cost, BoxError>
where
    A: Fn() -> FA,
    B: Fn() -> FB,
    FA: std::future::Future<Output = Result<f64, BoxError>>,
    FB: std::future::Future<Output = Result<f64, BoxError>>,
{
    let mut cost = Cost {
        without: Vec::new(),
        with: Vec::new(),
    };
    for round in 0..rounds {
        if round % 2 == 0 {
            cost.without.push(without().await?);
            cost.with.push(with().await?);
        } else {
            cost.with.push(with().await?);
            cost.without.push(without().await?);
        }
    }
    Ok(cost)
}

/// PATCHes of plain objects while one watcher of all ConfigMaps reads every event, as JSON
/// or, as `kubectl get -w` asks, as Table rows.
async fn patches_watched(client: &kube::Client, table: bool) -> Result<f64, BoxError> {
    use futures::AsyncBufReadExt;
    let params = WatchParams::default().timeout(290);
    let mut request =
        kube::core::Request::new("/api/v1/namespaces/default/configmaps").watch(&params, "0")?;
    if table {
        request.headers_mut().insert(
            http::header::ACCEPT,
            http::HeaderValue::from_static(
                "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
            ),
        );
    }
    let mut lines = client.request_stream(request).await?.lines();
    let reader = tokio::spawn(async move {
        let mut rows = 0u64;
        while let Some(Ok(_)) = lines.next().await {
            rows += 1;
        }
        rows
    });
    let rate = raw_patches(client, "watched", None).await;
    reader.abort();
    rate
}

/// `--costs [ROUNDS]`: managed fields' and tables' cost to patch throughput (the issue's
/// 10 % bound), in memory and durable, on tiny and typical objects.
async fn costs(rounds: usize) -> Result<(), BoxError> {
    println!(
        "{rounds} pairs of {PATCHES}-PATCH loops per row, {CONCURRENCY} concurrent, text client, a watch history of {HISTORY} events filled first; cost = median of the pairs' (with / without − 1).\n"
    );
    println!("| | without, req/s | with, req/s | cost | each pair |");
    println!("|---|---:|---:|---:|---|");
    let dir = std::env::temp_dir().join(format!("kopf-apiserver-costs-{}", std::process::id()));
    for (store, config) in [
        ("in memory", ServerConfig::in_memory()),
        ("durable", ServerConfig::durable(&dir)),
    ] {
        // A steady state: the watch history full (a smaller one than the default, so that
        // the warm-up below fills it), each write pushing the oldest event out.
        let config = ServerConfig {
            watch_history: HISTORY,
            ..config
        };
        let server = RunningServer::start(config).await?;
        let client = client_for(&server).await?;
        let api = Api::<ConfigMap>::namespaced(client.clone(), "default");
        for i in 0..CONCURRENCY {
            for prefix in ["tiny-plain", "tiny-managed", "watched"] {
                api.create(
                    &PostParams::default(),
                    &config_map(&format!("{prefix}-{i}"), "0"),
                )
                .await?;
            }
            for prefix in ["typical-plain", "typical-managed"] {
                api.create(
                    &PostParams::default(),
                    &typical_config_map(&format!("{prefix}-{i}")),
                )
                .await?;
            }
        }
        for _ in 0..(2 * HISTORY).div_ceil(PATCHES) {
            raw_patches(&client, "watched", None).await?;
        }
        for (size, plain, managed) in [
            ("tiny (~250 B)", "tiny-plain", "tiny-managed"),
            ("typical (~1.5 KiB)", "typical-plain", "typical-managed"),
        ] {
            let cost = paired(
                rounds,
                || raw_patches(&client, plain, None),
                || raw_patches(&client, managed, Some("bench")),
            )
            .await?;
            println!(
                "{}",
                cost.row(&format!("managed fields, {size} objects, {store}"))
            );
        }
        let cost = paired(
            rounds,
            || patches_watched(&client, false),
            || patches_watched(&client, true),
        )
        .await?;
        println!(
            "{}",
            cost.row(&format!(
                "a watcher reading Table rows instead of JSON, {store}"
            ))
        );
        server.shutdown().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// `(VmRSS, VmHWM)` of this process in MiB.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn measure_memory(objects: usize) -> Result<(f64, f64, f64, f64), BoxError> {
    let (rss_before, _) = memory();
    let server = RunningServer::start(ServerConfig::in_memory()).await?;
    let client = client_for(&server).await?;
    let api = Api::<ConfigMap>::namespaced(client, "default");
    let create_api = api.clone();
    let creates = rate(objects, move |i| {
        let api = create_api.clone();
        async move {
            api.create(
                &PostParams::default(),
                &config_map(&format!("object-{i:06}"), &format!("value-{i}")),
            )
            .await?;
            Ok(())
        }
    })
    .await?;
    let (rss, hwm) = memory();
    server.shutdown().await;
    Ok((creates, rss_before, rss, hwm))
}

/// Durable commits per second from `writers` concurrent tasks, `total` commits in all.
async fn durable_commits(writers: usize, total: u64) -> Result<f64, BoxError> {
    let dir = std::env::temp_dir().join(format!(
        "kopf-bench-persist-{}-{writers}",
        std::process::id()
    ));
    let store = Arc::new(Persistence::open(&dir)?);
    let next = Arc::new(AtomicU64::new(1));
    let value = bytes::Bytes::from(vec![b'x'; 1024]);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..writers {
        let (store, next, value) = (Arc::clone(&store), Arc::clone(&next), value.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let rv = next.fetch_add(1, Ordering::Relaxed);
                if rv > total {
                    return Ok::<(), BoxError>(());
                }
                let key = format!("key-{}", rv % 1000);
                store
                    .commit(WriteBatch {
                        resource_version: rv,
                        puts: vec![(key, value.clone())],
                        deletes: vec![],
                    })
                    .await?;
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(rate)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().collect();
    let objects = args
        .iter()
        .position(|a| a == "--objects")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000usize);

    if let Some(i) = args.iter().position(|a| a == "--costs") {
        let rounds = args.get(i + 1).and_then(|n| n.parse().ok()).unwrap_or(7);
        return costs(rounds).await;
    }
    // `--profile-patches [MANAGER]`: only the text-client PATCH loop, ten times over (to
    // profile the server's side of it, with or without a field manager).
    if let Some(i) = args.iter().position(|a| a == "--profile-patches") {
        let manager = args
            .get(i + 1)
            .map(String::as_str)
            .filter(|m| !m.starts_with("--"));
        let config = ServerConfig {
            watch_history: HISTORY,
            ..ServerConfig::in_memory()
        };
        let server = RunningServer::start(config).await?;
        let client = client_for(&server).await?;
        let api = Api::<ConfigMap>::namespaced(client.clone(), "default");
        let typical = args.iter().any(|a| a == "--typical");
        for i in 0..CONCURRENCY {
            let name = format!("raw-{i}");
            let object = if typical {
                typical_config_map(&name)
            } else {
                config_map(&name, "0")
            };
            api.create(&PostParams::default(), &object).await?;
        }
        for _ in 0..10 {
            println!("{:.0} PATCH/s", raw_patches(&client, "raw", manager).await?);
        }
        server.shutdown().await;
        return Ok(());
    }
    let memory_figures = measure_memory(objects).await?;
    let in_memory = measure("in memory", ServerConfig::in_memory()).await?;
    let dir = std::env::temp_dir().join(format!("kopf-apiserver-bench-{}", std::process::id()));
    let durable = measure("durable", ServerConfig::durable(&dir)).await;
    let _ = std::fs::remove_dir_all(&dir);
    let durable = durable?;

    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "Machine: {cores} cores; client and server in one process; HTTPS over loopback; {CONCURRENCY} concurrent requests.\n"
    );
    println!("| | in memory | durable (redb, fsync per group) |");
    println!("|---|---:|---:|");
    println!(
        "| GET one object, req/s | {:.0} | {:.0} |",
        in_memory.get, durable.get
    );
    println!(
        "| merge PATCH (changes data), req/s | {:.0} | {:.0} |",
        in_memory.patch, durable.patch
    );
    println!(
        "| merge PATCH with a fieldManager (managedFields tracked), req/s | {:.0} | {:.0} |",
        in_memory.patch_managed, durable.patch_managed
    );
    println!(
        "| the same two, responses read as text (the server's cost): without / with a fieldManager, req/s | {:.0} / {:.0} | {:.0} / {:.0} |",
        in_memory.patch_raw,
        in_memory.patch_managed_raw,
        durable.patch_raw,
        durable.patch_managed_raw
    );
    println!(
        "| the same, objects of a typical size (~1.5 KiB): without / with a fieldManager, req/s | {:.0} / {:.0} | {:.0} / {:.0} |",
        in_memory.patch_typical,
        in_memory.patch_managed_typical,
        durable.patch_typical,
        durable.patch_managed_typical
    );
    println!(
        "| one write seen by {WATCHERS} watchers: mean / max latency | {:.2?} / {:.2?} | {:.2?} / {:.2?} |",
        in_memory.fanout_mean, in_memory.fanout_max, durable.fanout_mean, durable.fanout_max
    );
    println!(
        "| watch events delivered/s during fan-out | {:.0} | {:.0} |",
        in_memory.fanout_events, durable.fanout_events
    );
    let (creates, rss_before, rss, hwm) = memory_figures;
    println!();
    println!("Memory with {objects} ConfigMaps stored (in memory; creates ran at {creates:.0}/s):");
    println!(
        "VmRSS before start {rss_before:.0} MiB, after {objects} objects {rss:.0} MiB; VmHWM {hwm:.0} MiB."
    );
    println!();
    println!("Durable store alone (group commit; each commit acknowledged after fsync):\n");
    println!("| concurrent writers | durable commits/s (1 KiB objects) |");
    println!("|---:|---:|");
    for (writers, total) in [(1, 300), (8, 3000), (64, 20_000), (512, 50_000)] {
        println!(
            "| {writers} | {:.0} |",
            durable_commits(writers, total).await?
        );
    }
    Ok(())
}
