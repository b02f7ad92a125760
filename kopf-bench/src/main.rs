//! `kopf-bench`: kopf for Rust against Python kopf 1.45.2, side by side, on one embedded
//! API server (in memory), with equivalent operators.
//!
//! Scenarios per side: catch-up (N objects exist before start), burst (N created while
//! running), latency (200 objects one at a time), API cost (server counters by verb),
//! peak memory and CPU of the operator process, and `kopf run` start-up (ours).

mod timers;

use clap::Parser;
use futures::StreamExt;
use kopf_apiserver::{RunningServer, ServerConfig};
use kube::api::{Api, DynamicObject, PostParams, WatchEvent, WatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const LAST_HANDLED: &str = "kopf.zalando.org/last-handled-configuration";
const DEADLINE: Duration = Duration::from_secs(900);

#[derive(Parser)]
#[command(about = "Benchmarks kopf for Rust against Python kopf 1.45.2 on the embedded API server")]
struct Args {
    /// `throughput` (catch-up, burst, latency, cost; the default) or `timers` (a 1 s timer
    /// and a sleeping daemon per object).
    #[arg(long, default_value = "throughput")]
    scenario: String,
    /// Objects per scenario.
    #[arg(long, default_value_t = 1000)]
    objects: usize,
    /// Objects for the latency scenario (created one at a time).
    #[arg(long, default_value_t = 200)]
    latency_objects: usize,
    /// Skip Python kopf.
    #[arg(long)]
    ours_only: bool,
    /// `table` (default) or `json` (one JSON document on stdout).
    #[arg(long, default_value = "table")]
    format: String,
    /// Where each run's figures and chart go.
    #[arg(long, default_value = "results")]
    results: PathBuf,
    /// A virtual environment with kopf 1.45.2 (made when missing).
    #[arg(long, env = "KOPF_BENCH_VENV")]
    venv: Option<PathBuf>,
    /// Our operator's lifecycle: `asap` (kopf's default, as kopf runs here) or `all-at-once`.
    #[arg(long, default_value = "asap")]
    lifecycle: String,
    /// Build our operator without optimizations (quick smoke runs).
    #[arg(long)]
    debug_build: bool,
    /// Only draw `chart.svg` next to this earlier `results.json` (no run).
    #[arg(long)]
    replot: Option<PathBuf>,
    /// The `kopf` binary (default: next to this one).
    #[arg(long, env = "KOPF_BIN")]
    kopf_bin: Option<PathBuf>,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn log(message: impl AsRef<str>) {
    eprintln!("kopf-bench: {}", message.as_ref());
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    if let Some(results) = &args.replot {
        return match replot(results) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("kopf-bench: {err}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("kopf-bench: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn run(args: Args) -> Result<(), BoxError> {
    let server = RunningServer::start(ServerConfig::in_memory()).await?;
    let dir = std::env::temp_dir().join(format!("kopf-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let kubeconfig = dir.join("kubeconfig");
    server.write_kubeconfig(&kubeconfig)?;
    server
        .apply_manifests(include_str!("../operators/crd.yaml"))
        .await?;
    let config = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::from_yaml(&server.kubeconfig())?,
        &Default::default(),
    )
    .await?;
    let client = kube::Client::try_from(config)?;
    let bench = Bench {
        args: &args,
        server: &server,
        client,
        kubeconfig,
        dir: dir.clone(),
    };

    let timers = args.scenario == "timers";
    let ours = bench.scenario_side(Side::Ours).await?;
    let kopf = if args.ours_only {
        None
    } else {
        Some(bench.scenario_side(Side::Kopf).await?)
    };
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);

    let document =
        json!({"scenario": args.scenario, "objects": args.objects, "ours": ours, "kopf": kopf});
    let stamp = jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string();
    let results = args.results.join(stamp);
    std::fs::create_dir_all(&results)?;
    std::fs::write(
        results.join("results.json"),
        serde_json::to_string_pretty(&document)?,
    )?;
    std::fs::write(results.join("chart.svg"), chart_of(&document))?;
    log(format!(
        "figures and chart written to {}",
        results.display()
    ));
    if args.format == "json" {
        println!("{}", serde_json::to_string(&document)?);
    } else if timers {
        print!("{}", timers::table(&document));
    } else {
        print!("{}", table(&document));
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Ours,
    Kopf,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Ours => "ours",
            Side::Kopf => "kopf",
        }
    }
}

struct Bench<'a> {
    args: &'a Args,
    server: &'a RunningServer,
    client: kube::Client,
    kubeconfig: PathBuf,
    dir: PathBuf,
}

impl Bench<'_> {
    /// One side of the scenario chosen on the command line.
    async fn scenario_side(&self, side: Side) -> Result<Value, BoxError> {
        if self.args.scenario == "timers" {
            self.timers_side(side).await
        } else {
            self.side(side).await
        }
    }

    fn api(&self, namespace: &str) -> Api<DynamicObject> {
        let gvk = GroupVersionKind::gvk("kopf.dev", "v1", "KopfExample");
        let resource = ApiResource::from_gvk_with_plural(&gvk, "kopfexamples");
        Api::namespaced_with(self.client.clone(), namespace, &resource)
    }

    fn operator(&self, side: Side, namespace: &str) -> Result<Operator, BoxError> {
        self.operator_of(side, namespace, "bench_operator")
    }

    /// Starts one side's operator of `operators/<stem>.{rs,py}`, logging into the run's dir.
    fn operator_of(&self, side: Side, namespace: &str, stem: &str) -> Result<Operator, BoxError> {
        let operators = workspace_root().join("kopf-bench/operators");
        let mut command = match side {
            Side::Ours => {
                let kopf = self.args.kopf_bin.clone().unwrap_or_else(|| {
                    std::env::current_exe()
                        .ok()
                        .and_then(|e| e.parent().map(|p| p.join("kopf")))
                        .unwrap_or_default()
                });
                let mut command = Command::new(kopf);
                command.arg("run").arg(operators.join(format!("{stem}.rs")));
                if !self.args.debug_build {
                    command.arg("--release");
                }
                command.args([
                    "--standalone",
                    "--lifecycle",
                    &self.args.lifecycle,
                    "-n",
                    namespace,
                ]);
                command
            }
            Side::Kopf => {
                let mut command = Command::new(python(self.args.venv.as_deref())?);
                command
                    .args(["-m", "kopf", "run", "--standalone", "-n", namespace])
                    .arg(operators.join(format!("{stem}.py")));
                command
            }
        };
        command.env("KUBECONFIG", &self.kubeconfig);
        let log = self.dir.join(format!("{stem}-{}.log", side.name()));
        Operator::spawn(&mut command, &log)
    }

    async fn side(&self, side: Side) -> Result<Value, BoxError> {
        let n = self.args.objects;
        let namespace = format!("bench-{}", side.name());
        self.server
            .apply_manifests(&format!(
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n"
            ))
            .await?;
        let api = self.api(&namespace);
        let mut figures = serde_json::Map::new();

        let handled = Handled::watch(api.clone());

        // Start-up to the first handled object: the first start may build (ours), the second is warm.
        if side == Side::Ours {
            let mut startup = Vec::new();
            for (index, label) in ["first", "warm"].into_iter().enumerate() {
                let name = format!("startup-{index}");
                api.create(&PostParams::default(), &object(&name)).await?;
                let started = Instant::now();
                let mut op = self.operator(side, &namespace)?;
                op.while_alive(handled.wait_name(&name, DEADLINE)).await?;
                startup.push((label, started.elapsed().as_secs_f64()));
                op.stop();
            }
            log(format!(
                "{}: kopf run start-up to the first handled object: {startup:?}",
                side.name()
            ));
            figures.insert(
                "startup_s".into(),
                json!({"first": round(startup[0].1), "warm": round(startup[1].1)}),
            );
        }
        let base = handled.count();

        // Catch-up: N objects exist before the operator starts.
        create_many(&api, "catchup", n).await?;
        self.server.control().reset_request_counts();
        let started = Instant::now();
        let mut op = self.operator(side, &namespace)?;
        op.while_alive(handled.wait_count(base + n, DEADLINE))
            .await?;
        let catchup = n as f64 / started.elapsed().as_secs_f64();
        log(format!("{}: catch-up {catchup:.1} objects/s", side.name()));

        // Burst: N objects created while the operator runs.
        let started = Instant::now();
        create_many(&api, "burst", n).await?;
        handled.wait_count(base + 2 * n, DEADLINE).await?;
        let burst = n as f64 / started.elapsed().as_secs_f64();
        log(format!("{}: burst {burst:.1} objects/s", side.name()));
        // The operator's requests only: the harness's own burst creates are not its cost.
        // An object counts as handled at its resource patch; its status patch may follow.
        let mut counts = self.settled_request_counts().await;
        if let Some(creates) = counts.get_mut("create") {
            *creates = creates.saturating_sub(n as u64);
        }
        let cpu = op.cpu_seconds();

        // Latency: objects created one at a time.
        let mut latencies = Vec::new();
        for index in 0..self.args.latency_objects {
            let name = format!("latency-{index}");
            let created = Instant::now();
            api.create(&PostParams::default(), &object(&name)).await?;
            handled.wait_name(&name, Duration::from_secs(120)).await?;
            latencies.push(created.elapsed().as_secs_f64() * 1000.0);
        }
        latencies.sort_by(f64::total_cmp);
        let rss = op.peak_rss_mib();
        op.stop();

        let total = (2 * n) as f64;
        let mut per_verb: BTreeMap<String, Value> = counts
            .iter()
            .filter(|(_, count)| **count > 0)
            .map(|(verb, count)| (verb.clone(), json!(round(*count as f64 / total))))
            .collect();
        per_verb.insert(
            "total".into(),
            json!(round(counts.values().sum::<u64>() as f64 / total)),
        );
        figures.insert("catchup_objects_per_s".into(), json!(round(catchup)));
        figures.insert("burst_objects_per_s".into(), json!(round(burst)));
        figures.insert(
            "latency_ms".into(),
            json!({"p50": round(percentile(&latencies, 0.50)), "p90": round(percentile(&latencies, 0.90)), "p99": round(percentile(&latencies, 0.99))}),
        );
        figures.insert("requests_per_object".into(), json!(per_verb));
        figures.insert("peak_rss_mib".into(), json!(round(rss)));
        figures.insert("cpu_s_per_1000".into(), json!(round(cpu / total * 1000.0)));
        Ok(Value::Object(figures))
    }

    /// The server's request counters once they stop moving (at most a few seconds).
    async fn settled_request_counts(&self) -> BTreeMap<String, u64> {
        let control = self.server.control();
        let mut counts = control.request_counts();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let now = control.request_counts();
            if now == counts {
                break;
            }
            counts = now;
        }
        counts
    }
}

fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn object(name: &str) -> DynamicObject {
    let value = json!({
        "apiVersion": "kopf.dev/v1", "kind": "KopfExample",
        "metadata": {"name": name}, "spec": {"field": "value", "items": ["a", "b"]},
    });
    serde_json::from_value(value).expect("a valid object")
}

/// Creates `count` objects, 16 requests in flight.
async fn create_many(api: &Api<DynamicObject>, prefix: &str, count: usize) -> Result<(), BoxError> {
    let results: Vec<Result<DynamicObject, kube::Error>> = futures::stream::iter(0..count)
        .map(|index| {
            let api = api.clone();
            let name = format!("{prefix}-{index}");
            async move { api.create(&PostParams::default(), &object(&name)).await }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    for result in results {
        result?;
    }
    Ok(())
}

/// Names of objects that carry the last-handled configuration, from a watch.
#[derive(Clone)]
struct Handled {
    names: Arc<Mutex<HashSet<String>>>,
    changed: Arc<tokio::sync::Notify>,
}

impl Handled {
    fn watch(api: Api<DynamicObject>) -> Handled {
        let handled = Handled {
            names: Arc::default(),
            changed: Arc::default(),
        };
        let sink = handled.clone();
        tokio::spawn(async move {
            let mut version = "0".to_string();
            loop {
                let Ok(stream) = api.watch(&WatchParams::default(), &version).await else {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                };
                let mut stream = std::pin::pin!(stream);
                while let Some(Ok(event)) = stream.next().await {
                    let object = match event {
                        WatchEvent::Added(o) | WatchEvent::Modified(o) => o,
                        WatchEvent::Bookmark(b) => {
                            version = b.metadata.resource_version;
                            continue;
                        }
                        WatchEvent::Deleted(_) => continue,
                        WatchEvent::Error(_) => {
                            version = "0".into();
                            break;
                        }
                    };
                    if let Some(rv) = &object.metadata.resource_version {
                        version = rv.clone();
                    }
                    let done = object
                        .metadata
                        .annotations
                        .as_ref()
                        .is_some_and(|a| a.contains_key(LAST_HANDLED));
                    if let (true, Some(name)) = (done, object.metadata.name) {
                        sink.names
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(name);
                        sink.changed.notify_waiters();
                    }
                }
            }
        });
        handled
    }

    fn count(&self) -> usize {
        self.names.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    async fn wait_count(&self, count: usize, deadline: Duration) -> Result<(), BoxError> {
        let until = Instant::now() + deadline;
        while self.count() < count {
            if Instant::now() > until {
                return Err(format!(
                    "only {} of {count} objects were handled in {deadline:?}",
                    self.count()
                )
                .into());
            }
            let _ = tokio::time::timeout(Duration::from_millis(50), self.changed.notified()).await;
        }
        Ok(())
    }

    async fn wait_name(&self, name: &str, deadline: Duration) -> Result<(), BoxError> {
        let until = Instant::now() + deadline;
        loop {
            let notified = self.changed.notified();
            if self
                .names
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains(name)
            {
                return Ok(());
            }
            if Instant::now() > until {
                return Err(format!("{name} was not handled in {deadline:?}").into());
            }
            let _ = tokio::time::timeout(Duration::from_millis(20), notified).await;
        }
    }
}

/// Python with kopf 1.45.2; the venv is made when missing.
fn python(venv: Option<&Path>) -> Result<PathBuf, BoxError> {
    if let Some(python) = std::env::var_os("KOPF_PYTHON") {
        return Ok(PathBuf::from(python));
    }
    let venv = venv
        .map(Path::to_path_buf)
        .unwrap_or_else(|| workspace_root().join(".venv"));
    let python = venv.join("bin/python");
    let has_kopf = Command::new(&python)
        .args(["-c", "import kopf"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_kopf {
        log(format!("installing kopf 1.45.2 into {}", venv.display()));
        let made = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status()?;
        let installed = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "kopf==1.45.2"])
            .status()?;
        if !made.success() || !installed.success() {
            return Err("cannot install kopf 1.45.2 from PyPI into the venv".into());
        }
    }
    Ok(python)
}

/// An operator process (for ours, `kopf run` and its child); its log goes to a file.
struct Operator {
    child: Child,
}

impl Operator {
    fn spawn(command: &mut Command, log: &Path) -> Result<Operator, BoxError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)?;
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()?;
        Ok(Operator { child })
    }

    /// Awaits `work` unless the operator exits first (a build that failed, a crash): then
    /// fails at once instead of waiting out the deadline.
    async fn while_alive<T>(
        &mut self,
        work: impl std::future::Future<Output = Result<T, BoxError>>,
    ) -> Result<T, BoxError> {
        let mut work = std::pin::pin!(work);
        loop {
            tokio::select! {
                result = &mut work => return result,
                _ = tokio::time::sleep(Duration::from_millis(250)) => {
                    if let Ok(Some(status)) = self.child.try_wait() {
                        return Err(format!("the operator exited ({status}); see its log").into());
                    }
                }
            }
        }
    }

    /// The processes that do the work: the operator itself (our `kopf run`'s child).
    fn pids(&self) -> Vec<u32> {
        let mut pids = vec![self.child.id()];
        pids.extend(children(self.child.id()));
        pids
    }

    fn cpu_seconds(&self) -> f64 {
        self.pids().iter().map(|pid| cpu_of(*pid)).sum()
    }

    fn peak_rss_mib(&self) -> f64 {
        // The worker process: the largest peak among the process and its children.
        self.pids()
            .iter()
            .map(|pid| peak_rss_of(*pid))
            .fold(0.0, f64::max)
    }

    /// The worker process's resident memory now (the largest among it and its children).
    fn rss_mib(&self) -> f64 {
        self.pids()
            .iter()
            .map(|pid| status_kib(*pid, "VmRSS:") / 1024.0)
            .fold(0.0, f64::max)
    }

    fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-INT")
            .arg(self.child.id().to_string())
            .status();
        let until = Instant::now() + Duration::from_secs(30);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

fn children(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return found;
    };
    for task in tasks.flatten() {
        let text = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        for child in text
            .split_whitespace()
            .filter_map(|c| c.parse::<u32>().ok())
        {
            found.push(child);
            found.extend(children(child));
        }
    }
    found
}

/// utime + stime of a process, in seconds (clock ticks of 1/100 s on Linux).
fn cpu_of(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    let Some(after) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
        return 0.0;
    };
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn peak_rss_of(pid: u32) -> f64 {
    status_kib(pid, "VmHWM:") / 1024.0
}

/// A `kB` field of `/proc/PID/status` (0 when unreadable).
fn status_kib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// The goals: how many times better ours must be; `None` where there is no goal.
/// Requests must merely be fewer (better by more than 1×).
const ROWS: [(&str, &str, bool, Option<f64>); 8] = [
    (
        "catch-up (objects/s)",
        "/catchup_objects_per_s",
        true,
        Some(10.0),
    ),
    (
        "burst (objects/s)",
        "/burst_objects_per_s",
        true,
        Some(10.0),
    ),
    ("latency p50 (ms)", "/latency_ms/p50", false, None),
    ("latency p90 (ms)", "/latency_ms/p90", false, None),
    ("latency p99 (ms)", "/latency_ms/p99", false, Some(10.0)),
    (
        "requests per object",
        "/requests_per_object/total",
        false,
        Some(1.0),
    ),
    ("peak RSS (MiB)", "/peak_rss_mib", false, Some(10.0)),
    (
        "CPU s per 1000 objects",
        "/cpu_s_per_1000",
        false,
        Some(10.0),
    ),
];

/// ours, kopf, how many times better ours is, and whether the goal is met.
fn table(document: &Value) -> String {
    let mut out = format!(
        "objects: {}\n{:<26} {:>12} {:>12} {:>10}  goal\n",
        document["objects"], "", "ours", "kopf", "better by"
    );
    for (label, pointer, higher_is_better, goal) in ROWS {
        let ours = document["ours"].pointer(pointer).and_then(Value::as_f64);
        let kopf = document["kopf"].pointer(pointer).and_then(Value::as_f64);
        let ratio = better_by(ours, kopf, higher_is_better);
        let verdict = match (ratio, goal) {
            (Some(r), Some(g)) if g <= 1.0 => {
                if r > g {
                    "met (fewer)".to_string()
                } else {
                    "missed: not fewer".to_string()
                }
            }
            (Some(r), Some(g)) if r >= g => format!("met (≥ {g}×)"),
            (Some(r), Some(g)) => format!("missed: {r:.1}× of {g}×"),
            _ => String::new(),
        };
        let ratio = ratio.map_or("-".to_string(), |r| format!("{r:.1}×"));
        let cell = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
        let line = format!(
            "{label:<26} {:>12} {:>12} {:>10}  {verdict}",
            cell(ours),
            cell(kopf),
            ratio
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let mut verbs: Vec<String> = document["ours"]["requests_per_object"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    verbs.retain(|v| v != "total");
    for verb in verbs {
        let pointer = format!("/requests_per_object/{verb}");
        let cell = |side: &str| {
            document[side]
                .pointer(&pointer)
                .and_then(Value::as_f64)
                .map_or("-".into(), |v| format!("{v:.3}"))
        };
        out.push_str(&format!(
            "{:<26} {:>12} {:>12}\n",
            format!("  {verb} per object"),
            cell("ours"),
            cell("kopf")
        ));
    }
    if let Some(startup) = document["ours"].get("startup_s") {
        out.push_str(&format!(
            "kopf run start-up (s): first {} (includes any build), warm {}\n",
            startup["first"], startup["warm"]
        ));
    }
    out
}

/// How many times better ours is than kopf's, where both figures exist.
fn better_by(ours: Option<f64>, kopf: Option<f64>, higher_is_better: bool) -> Option<f64> {
    match (ours, kopf) {
        (Some(o), Some(k)) if o > 0.0 && k > 0.0 => {
            Some(if higher_is_better { o / k } else { k / o })
        }
        _ => None,
    }
}

/// Draws `chart.svg` next to an earlier `results.json`.
fn replot(results: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let document: Value = serde_json::from_str(&std::fs::read_to_string(results)?)?;
    let chart_file = results.with_file_name("chart.svg");
    std::fs::write(&chart_file, chart_of(&document))?;
    log(format!("chart written to {}", chart_file.display()));
    Ok(())
}

/// The chart of a results document of either scenario.
fn chart_of(document: &Value) -> String {
    if document["scenario"] == "timers" {
        chart(document, &timers::CHART_ROWS)
    } else {
        let rows: Vec<(&str, &str, bool)> = ROWS.iter().map(|(l, p, h, _)| (*l, *p, *h)).collect();
        chart(document, &rows)
    }
}

/// A bar chart of the ratios (ours vs kopf), as plain SVG: per row its label, the JSON
/// pointer of the figure, and whether higher is better.
fn chart(document: &Value, rows: &[(&str, &str, bool)]) -> String {
    let mut bars = String::new();
    let mut y = 40;
    for &(label, pointer, higher_is_better) in rows {
        let ratio = better_by(
            document["ours"].pointer(pointer).and_then(Value::as_f64),
            document["kopf"].pointer(pointer).and_then(Value::as_f64),
            higher_is_better,
        );
        let width = ratio.map_or(0.0, |r| (r.log10().max(0.0) * 150.0).min(450.0));
        let text = ratio.map_or("n/a".to_string(), |r| format!("{r:.1}×"));
        bars.push_str(&format!(
            "<text x=\"10\" y=\"{}\" font-size=\"13\">{label}</text><rect x=\"200\" y=\"{}\" width=\"{width:.0}\" height=\"16\" fill=\"#4a7\"/><text x=\"{:.0}\" y=\"{}\" font-size=\"13\">{text}</text>\n",
            y + 12,
            y,
            205.0 + width,
            y + 12
        ));
        y += 26;
    }
    let ten_x = 200.0 + 150.0;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"{}\" font-family=\"sans-serif\">\n\
         <text x=\"10\" y=\"20\" font-size=\"15\">kopf-rs vs Python kopf ({} objects): how many times better (log scale; line = 10×)</text>\n\
         <line x1=\"{ten_x}\" y1=\"30\" x2=\"{ten_x}\" y2=\"{}\" stroke=\"#c33\" stroke-dasharray=\"4\"/>\n{bars}</svg>\n",
        y + 10,
        document["objects"],
        y
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_says_which_goals_are_missed_and_by_how_much() {
        let side = |rate: f64, rss: f64, requests: f64| {
            json!({
                "catchup_objects_per_s": rate,
                "burst_objects_per_s": rate,
                "latency_ms": {"p50": 1.0, "p90": 1.0, "p99": 1.0},
                "requests_per_object": {"patch": requests, "total": requests},
                "peak_rss_mib": rss,
                "cpu_s_per_1000": 1.0,
            })
        };
        let document = json!({
            "objects": 10,
            "ours": side(1000.0, 63.0, 3.0),
            "kopf": side(80.0, 170.0, 4.0),
        });
        let text = table(&document);
        let row = |label: &str| {
            text.lines()
                .find(|l| l.starts_with(label))
                .unwrap_or_default()
                .to_string()
        };
        assert!(row("catch-up").ends_with("met (≥ 10×)"), "{text}");
        assert!(row("peak RSS").ends_with("missed: 2.7× of 10×"), "{text}");
        assert!(
            row("requests per object").ends_with("met (fewer)"),
            "{text}"
        );
        assert!(row("latency p50").ends_with("1.0×"), "{text}");
    }
}
