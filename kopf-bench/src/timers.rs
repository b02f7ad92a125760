//! The `timers` scenario: N objects, each with a 1 s timer and a sleeping async daemon, run
//! by each side in turn. Figures: how late timers fire (p99 of the runs in a measured
//! window), CPU per 1,000 timer runs in that window, and peak RSS.

use super::{Bench, BoxError, DEADLINE, Side, create_many, log, round};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long the steady state is measured.
const WINDOW: Duration = Duration::from_secs(30);
/// How long a side may take to run every timer twice before the window starts anyway.
const WARM_UP: Duration = Duration::from_secs(300);

/// One `bench-timers:` report of the operator.
struct Report {
    runs: u64,
    p99_ms: f64,
}

fn reports(log_file: &Path) -> Vec<Report> {
    let text = std::fs::read_to_string(log_file).unwrap_or_default();
    text.lines()
        .filter_map(|line| line.split_once("bench-timers: ").map(|(_, rest)| rest))
        .filter_map(|rest| {
            let field = |name: &str| {
                rest.split_whitespace()
                    .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                    .and_then(|v| v.parse::<f64>().ok())
            };
            Some(Report {
                runs: field("runs")? as u64,
                p99_ms: field("p99")?,
            })
        })
        .collect()
}

fn latest_runs(log_file: &Path) -> u64 {
    reports(log_file).last().map_or(0, |r| r.runs)
}

impl Bench<'_> {
    /// One side of the timers scenario.
    pub(crate) async fn timers_side(&self, side: Side) -> Result<Value, BoxError> {
        let n = self.args.objects;
        let namespace = format!("timers-{}", side.name());
        self.server
            .apply_manifests(&format!(
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n"
            ))
            .await?;
        create_many(&self.api(&namespace), "timed", n).await?;
        let log_file = self
            .dir
            .join(format!("timers_operator-{}.log", side.name()));
        let started = Instant::now();
        let mut op = self.operator_of(side, &namespace, "timers_operator")?;

        // Warm-up: every object's timer has run twice (or the warm-up bound has passed).
        let warm_deadline = Instant::now() + WARM_UP.min(DEADLINE);
        while latest_runs(&log_file) < 2 * n as u64 && Instant::now() < warm_deadline {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let warm = started.elapsed().as_secs_f64();
        let warm_rss = op.peak_rss_mib();
        log(format!(
            "{}: timers warm after {warm:.1} s, peak RSS so far {warm_rss:.1} MiB",
            side.name()
        ));

        let (runs_before, cpu_before) = (latest_runs(&log_file), op.cpu_seconds());
        let reports_before = reports(&log_file).len();
        tokio::time::sleep(WINDOW).await;
        let (runs_after, cpu_after) = (latest_runs(&log_file), op.cpu_seconds());
        let window: Vec<Report> = reports(&log_file)
            .into_iter()
            .skip(reports_before)
            .collect();
        let rss = op.peak_rss_mib();
        let steady = op.rss_mib();
        op.stop();

        let runs = runs_after.saturating_sub(runs_before);
        let p99 = window.iter().map(|r| r.p99_ms).fold(0.0, f64::max);
        let cpu_per_1000 = if runs > 0 {
            (cpu_after - cpu_before) / runs as f64 * 1000.0
        } else {
            f64::NAN
        };
        log(format!(
            "{}: {runs} timer runs in {} s, worst p99 lateness {p99:.1} ms, {cpu_per_1000:.3} CPU s per 1000 runs, peak RSS {rss:.1} MiB, RSS at the end {steady:.1} MiB",
            side.name(),
            WINDOW.as_secs()
        ));
        Ok(json!({
            "warm_up_s": round(warm),
            "timer_runs_per_s": round(runs as f64 / WINDOW.as_secs_f64()),
            "timer_late_p99_ms": round(p99),
            "cpu_s_per_1000_runs": round(cpu_per_1000),
            "peak_rss_mib": round(rss),
            "rss_at_end_mib": round(steady),
        }))
    }
}

/// The timers table: ours, kopf's, and whether each goal is met.
/// The chart's rows: the figure's pointer and whether higher is better.
pub(crate) const CHART_ROWS: [(&str, &str, bool); 4] = [
    ("timer runs per second", "/timer_runs_per_s", true),
    ("timer lateness p99", "/timer_late_p99_ms", false),
    ("CPU per 1000 timer runs", "/cpu_s_per_1000_runs", false),
    ("peak RSS", "/peak_rss_mib", false),
];

pub(crate) fn table(document: &Value) -> String {
    let (ours, kopf) = (&document["ours"], &document["kopf"]);
    let mut out = format!("timers scenario, objects: {}\n", document["objects"]);
    out.push_str(&format!("{:<32} {:>12} {:>12}  goal\n", "", "ours", "kopf"));
    let goals: [(&str, &str, String); 5] = [
        ("warm-up (s)", "warm_up_s", String::new()),
        ("timer runs per second", "timer_runs_per_s", String::new()),
        (
            "timer lateness p99 (ms)",
            "timer_late_p99_ms",
            goal_at_most(ours, "timer_late_p99_ms", 50.0),
        ),
        (
            "CPU s per 1000 timer runs",
            "cpu_s_per_1000_runs",
            goal_ratio(ours, kopf, "cpu_s_per_1000_runs"),
        ),
        ("peak RSS (MiB)", "peak_rss_mib", goal_rss(ours, kopf)),
    ];
    for (label, key, goal) in goals {
        let cell = |side: &Value| side[key].as_f64().map_or("-".into(), |v| format!("{v:.3}"));
        out.push_str(&format!(
            "{label:<32} {:>12} {:>12}  {goal}\n",
            cell(ours),
            cell(kopf)
        ));
    }
    out
}

fn goal_at_most(side: &Value, key: &str, limit: f64) -> String {
    match side[key].as_f64() {
        Some(v) if v <= limit => format!("met (≤ {limit})"),
        Some(v) => format!("missed: {v:.1} > {limit}"),
        None => String::new(),
    }
}

fn goal_ratio(ours: &Value, kopf: &Value, key: &str) -> String {
    match (ours[key].as_f64(), kopf[key].as_f64()) {
        (Some(o), Some(k)) if o * 10.0 <= k => format!("met ({:.1}× less)", k / o),
        (Some(o), Some(k)) => format!("missed: {:.1}× of 10×", k / o),
        _ => String::new(),
    }
}

fn goal_rss(ours: &Value, kopf: &Value) -> String {
    let ratio = goal_ratio(ours, kopf, "peak_rss_mib");
    match ours["peak_rss_mib"].as_f64() {
        Some(v) if v <= 64.0 => format!("≤ 64 MiB met; {ratio}"),
        Some(v) => format!("≤ 64 MiB missed ({v:.1}); {ratio}"),
        None => ratio,
    }
}
