//! The `timers` scenario's operator: a 1 s timer and a sleeping async daemon per object.
//! Each timer run measures how late it is against its interval; every 5 s the lateness
//! of the runs since the last report is printed on stderr for the harness.

use std::sync::Mutex;
use std::time::{Duration, Instant};

struct Stats {
    runs: u64,
    late_ms: Vec<f64>,
    reported: Option<Instant>,
}

static STATS: Mutex<Stats> = Mutex::new(Stats {
    runs: 0,
    late_ms: Vec::new(),
    reported: None,
});

#[kopf::timer("kopf.dev", "v1", "kopfexamples", interval = 1.0)]
fn tick(memo: kopf::Memo) {
    let now = Instant::now();
    let slot = memo.slot::<Option<Instant>>();
    let previous = slot.lock().unwrap_or_else(|p| p.into_inner()).replace(now);
    let mut stats = STATS.lock().unwrap_or_else(|p| p.into_inner());
    stats.runs += 1;
    if let Some(previous) = previous {
        let late = now.duration_since(previous).as_secs_f64() - 1.0;
        stats.late_ms.push(late.max(0.0) * 1000.0);
    }
    let reported = *stats.reported.get_or_insert(now);
    if now.duration_since(reported) >= Duration::from_secs(5) && !stats.late_ms.is_empty() {
        let mut late = std::mem::take(&mut stats.late_ms);
        late.sort_by(f64::total_cmp);
        let at = |q: f64| late[((late.len() - 1) as f64 * q).round() as usize];
        eprintln!(
            "bench-timers: runs={} p50={:.3} p99={:.3} max={:.3}",
            stats.runs,
            at(0.5),
            at(0.99),
            at(1.0)
        );
        stats.reported = Some(now);
    }
}

#[kopf::daemon("kopf.dev", "v1", "kopfexamples")]
async fn sleeper(stopped: kopf::Stopped) {
    stopped.wait().await;
}
