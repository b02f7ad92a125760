//! Operator options: the command line of an operator binary (as `kopf run` passes it on)
//! and the settings the reactor reads.

use clap::{Args, ValueEnum};
use std::time::Duration;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Plain,
    #[default]
    Full,
    Json,
}

/// Which handlers of a cause run in one handling cycle (kopf's lifecycles).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Lifecycle {
    /// One handler at a time, the one with the fewest retries first (kopf's default); each
    /// sees the earlier ones' effects. Outcomes are written when the cycle ends, or before a
    /// handler that runs longer than `--progress-flush-after`.
    #[default]
    Asap,
    /// Every runnable handler in one cycle, each on the body the cycle started with.
    AllAtOnce,
}

/// The options of `kopf run` that reach the operator itself (kopf's names and env variables).
#[derive(Clone, Debug, Args)]
pub struct RunOptions {
    /// Show debug logs (kopf's --verbose).
    #[arg(short = 'v', long, env = "KOPF_RUN_VERBOSE")]
    pub verbose: bool,
    /// Show debug logs including the framework's internals.
    #[arg(short = 'd', long, env = "KOPF_RUN_DEBUG")]
    pub debug: bool,
    /// Show only warnings and errors.
    #[arg(short = 'q', long, env = "KOPF_RUN_QUIET")]
    pub quiet: bool,
    /// The log line format.
    #[arg(long, value_enum, default_value_t = LogFormat::Full, env = "KOPF_RUN_LOG_FORMAT")]
    pub log_format: LogFormat,
    /// Prefix per-object log lines with `[namespace/name]`.
    #[arg(long = "no-log-prefix", action = clap::ArgAction::SetFalse, default_value_t = true)]
    pub log_prefix: bool,
    /// Serve only these namespaces (repeatable; globs; `!` negates).
    #[arg(
        short = 'n',
        long = "namespace",
        env = "KOPF_RUN_NAMESPACE",
        value_delimiter = ','
    )]
    pub namespaces: Vec<String>,
    /// Serve all namespaces (cluster-wide).
    #[arg(short = 'A', long = "all-namespaces", env = "KOPF_RUN_ALL_NAMESPACES")]
    pub all_namespaces: bool,
    /// Run without peering.
    #[arg(long, env = "KOPF_RUN_STANDALONE")]
    pub standalone: bool,
    /// Peering object name.
    #[arg(short = 'P', long = "peering", env = "KOPF_RUN_PEERING")]
    pub peering: Option<String>,
    /// Priority in peering.
    #[arg(short = 'p', long, default_value_t = 0, env = "KOPF_RUN_PRIORITY")]
    pub priority: i64,
    /// Development mode (priority 666).
    #[arg(long)]
    pub dev: bool,
    /// Which handlers of a cause run per cycle: `asap` (kopf's default) or `all-at-once`.
    #[arg(long, value_enum, default_value_t = Lifecycle::Asap, env = "KOPF_RUN_LIFECYCLE")]
    pub lifecycle: Lifecycle,
    /// Write the outcomes of earlier handlers once the next one has run this many seconds;
    /// 0 writes after every handler, as Python kopf does (one PATCH per handler).
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_PROGRESS_FLUSH_AFTER, value_parser = non_negative_seconds, env = "KOPF_RUN_PROGRESS_FLUSH_AFTER")]
    pub progress_flush_after: f64,
    /// How many objects are processed at once; a handler running longer than
    /// --progress-flush-after stops counting (kopf's worker limit, bounded by default).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_WORKER_LIMIT, value_parser = clap::value_parser!(u32).range(1..), env = "KOPF_RUN_WORKER_LIMIT")]
    pub worker_limit: u32,
    /// Liveness endpoint, e.g. http://0.0.0.0:8080/healthz.
    #[arg(short = 'L', long, env = "KOPF_RUN_LIVENESS")]
    pub liveness: Option<String>,
}

/// Seconds a handler runs before earlier outcomes of its cycle are written.
pub const DEFAULT_PROGRESS_FLUSH_AFTER: f64 = 0.5;
/// Cycles running at once: enough to keep a server busy, few enough to bound memory.
pub const DEFAULT_WORKER_LIMIT: u32 = 64;

impl Default for RunOptions {
    /// The options of a bare `kopf run` (clap's defaults, without the environment).
    fn default() -> Self {
        RunOptions {
            verbose: false,
            debug: false,
            quiet: false,
            log_format: LogFormat::Full,
            log_prefix: true,
            namespaces: Vec::new(),
            all_namespaces: false,
            standalone: false,
            peering: None,
            priority: 0,
            dev: false,
            lifecycle: Lifecycle::Asap,
            progress_flush_after: DEFAULT_PROGRESS_FLUSH_AFTER,
            worker_limit: DEFAULT_WORKER_LIMIT,
            liveness: None,
        }
    }
}

fn non_negative_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => Ok(seconds),
        _ => Err(format!(
            "expected a number of seconds (0 or more), got {text:?}"
        )),
    }
}

/// Settings the reactor reads (kopf's `OperatorSettings`, the parts implemented).
#[derive(Clone, Debug)]
pub struct Settings {
    pub finalizer: String,
    /// Wait at most this long for our own patch's resourceVersion to arrive.
    pub consistency_timeout: Duration,
    /// Backoff for handlers failing with arbitrary errors, in seconds.
    pub default_backoff: f64,
    /// Re-watch a silent stream after this long.
    pub inactivity_timeout: Duration,
    /// Per-object workers exit after this long idle.
    pub idle_timeout: Duration,
    /// On shutdown, workers get this long to finish.
    pub exit_timeout: Duration,
    /// The watch's `timeoutSeconds`, if any.
    pub server_timeout: Option<u64>,
    pub lifecycle: Lifecycle,
    /// Outcomes not yet written are written once a later handler has run this long.
    pub progress_flush_after: Duration,
    /// How many handling cycles run at once (slow handlers stop counting).
    pub worker_limit: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            finalizer: "kopf.zalando.org/KopfFinalizerMarker".to_string(),
            consistency_timeout: Duration::from_secs(5),
            default_backoff: 60.0,
            inactivity_timeout: Duration::from_secs(70),
            idle_timeout: Duration::from_secs(5),
            exit_timeout: Duration::from_secs(2),
            server_timeout: None,
            lifecycle: Lifecycle::Asap,
            progress_flush_after: Duration::from_secs_f64(DEFAULT_PROGRESS_FLUSH_AFTER),
            worker_limit: DEFAULT_WORKER_LIMIT as usize,
        }
    }
}
