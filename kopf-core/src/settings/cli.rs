//! The operator's command line, kopf's `kopf run` flags and environment variables: parsed
//! into [`Settings`], a namespace scope and log options, and written back as arguments
//! for the operator process that `kopf run` starts. One definition serves both.

use super::{DEFAULT_PROGRESS_FLUSH_AFTER, DEFAULT_WORKER_LIMIT, Lifecycle, LogFormat, Settings};
use clap::Args;
use std::time::Duration;

/// The options of `kopf run` that reach the operator itself (kopf's names and env variables).
#[derive(Clone, Debug, PartialEq, Args)]
pub struct OperatorArgs {
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
    /// Whether per-object log lines start with `[namespace/name]` (`--no-log-prefix`: not).
    #[arg(
        long = "no-log-prefix",
        help = "Do not prefix per-object log lines with [namespace/name]",
        action = clap::ArgAction::SetFalse,
        default_value_t = true
    )]
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
    /// Run without peering, even if the peering resource exists.
    #[arg(long, env = "KOPF_RUN_STANDALONE")]
    pub standalone: bool,
    /// The peering object's name; peering is then mandatory (paused until it exists).
    #[arg(short = 'P', long = "peering", env = "KOPF_RUN_PEERING")]
    pub peering: Option<String>,
    /// Priority in peering: operators of lower priority pause (default 0).
    #[arg(short = 'p', long, env = "KOPF_RUN_PRIORITY")]
    pub priority: Option<i64>,
    /// Development mode: priority 666 in peering, so that deployed operators pause.
    #[arg(long, env = "KOPF_RUN_DEV")]
    pub dev: bool,
    /// Handle only while holding this Lease (client-go's leader election); the name
    /// defaults to `kopf-leader`, the namespace to POD_NAMESPACE or the credentials'.
    #[arg(long, value_name = "NAME", num_args = 0..=1, default_missing_value = crate::settings::DEFAULT_LEASE_NAME, require_equals = true, env = "KOPF_RUN_LEADER_ELECTION")]
    pub leader_election: Option<String>,
    /// Split the objects into N shards by uid; each replica handles the shards it holds
    /// (Leases `{lease name}-shards-shard-{i}`), a fair share of the live replicas'.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), env = "KOPF_RUN_SHARDS")]
    pub shards: Option<u32>,
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
    /// Seconds before retrying a handler that failed with an arbitrary error and sets no
    /// `backoff` (kopf's `settings.execution.default_backoff`, 60 by default).
    #[arg(long, value_name = "SECONDS", value_parser = non_negative_seconds, env = "KOPF_RUN_DEFAULT_BACKOFF")]
    pub default_backoff: Option<f64>,
    /// Liveness endpoint, e.g. http://0.0.0.0:8080/healthz: the probe handlers' results as
    /// JSON, and 500 while a watch-stream is blind.
    #[arg(short = 'L', long, env = "KOPF_RUN_LIVENESS")]
    pub liveness: Option<String>,
}

impl Default for OperatorArgs {
    /// The options of a bare `kopf run` (clap's defaults, without the environment).
    fn default() -> Self {
        OperatorArgs {
            verbose: false,
            debug: false,
            quiet: false,
            log_format: LogFormat::Full,
            log_prefix: true,
            namespaces: Vec::new(),
            all_namespaces: false,
            standalone: false,
            peering: None,
            priority: None,
            dev: false,
            leader_election: None,
            shards: None,
            lifecycle: Lifecycle::Asap,
            progress_flush_after: DEFAULT_PROGRESS_FLUSH_AFTER,
            worker_limit: DEFAULT_WORKER_LIMIT,
            default_backoff: None,
            liveness: None,
        }
    }
}

impl OperatorArgs {
    /// The settings these options set; everything else keeps kopf's defaults.
    pub fn settings(&self) -> Settings {
        let mut settings = Settings::default();
        settings.execution.lifecycle = self.lifecycle;
        settings.execution.progress_flush_after =
            Duration::from_secs_f64(self.progress_flush_after);
        settings.queueing.worker_limit = self.worker_limit as usize;
        if let Some(backoff) = self.default_backoff {
            settings.execution.default_backoff = backoff;
        }
        if let Some(name) = &self.peering {
            settings.peering.name = name.clone();
            settings.peering.mandatory = true;
        }
        settings.peering.standalone = self.standalone;
        if let Some(priority) = self.priority {
            settings.peering.priority = priority;
        }
        if self.dev {
            settings.peering.priority = crate::settings::DEV_PRIORITY;
        }
        settings.replicas.leader_election = self
            .leader_election
            .as_ref()
            .map(crate::settings::LeaderElectionSettings::named);
        settings.replicas.shards = self.shards;
        settings
    }

    /// The log level: `--quiet` wins, then `--debug`, then `--verbose`.
    pub fn log_level(&self) -> tracing::Level {
        if self.quiet {
            tracing::Level::WARN
        } else if self.debug {
            tracing::Level::TRACE
        } else if self.verbose {
            tracing::Level::DEBUG
        } else {
            tracing::Level::INFO
        }
    }

    /// These options as a command line that parses back into them.
    pub fn to_command_line(&self) -> Vec<String> {
        let mut args = Vec::new();
        let mut flag = |on: bool, name: &str| {
            if on {
                args.push(name.to_string());
            }
        };
        flag(self.verbose, "--verbose");
        flag(self.debug, "--debug");
        flag(self.quiet, "--quiet");
        flag(!self.log_prefix, "--no-log-prefix");
        flag(self.all_namespaces, "--all-namespaces");
        flag(self.standalone, "--standalone");
        flag(self.dev, "--dev");
        let mut pair = |name: &str, value: String| args.extend([name.to_string(), value]);
        pair("--log-format", value_name(self.log_format));
        pair("--lifecycle", value_name(self.lifecycle));
        pair(
            "--progress-flush-after",
            self.progress_flush_after.to_string(),
        );
        pair("--worker-limit", self.worker_limit.to_string());
        for namespace in &self.namespaces {
            pair("--namespace", namespace.clone());
        }
        if let Some(peering) = &self.peering {
            pair("--peering", peering.clone());
        }
        if let Some(priority) = self.priority {
            pair("--priority", priority.to_string());
        }
        if let Some(backoff) = self.default_backoff {
            pair("--default-backoff", backoff.to_string());
        }
        if let Some(liveness) = &self.liveness {
            pair("--liveness", liveness.clone());
        }
        if let Some(shards) = self.shards {
            pair("--shards", shards.to_string());
        }
        if let Some(name) = &self.leader_election {
            args.push(format!("--leader-election={name}"));
        }
        args
    }
}

/// The name clap parses a value-enum from.
fn value_name(value: impl clap::ValueEnum) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

fn non_negative_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => Ok(seconds),
        _ => Err(format!(
            "expected a number of seconds (0 or more), got {text:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        options: OperatorArgs,
    }

    fn parse(args: &[String]) -> OperatorArgs {
        let argv = std::iter::once("operator".to_string()).chain(args.iter().cloned());
        Cli::try_parse_from(argv).expect("parses").options
    }

    #[test]
    fn the_command_line_round_trips() {
        let options = OperatorArgs {
            verbose: true,
            log_prefix: false,
            namespaces: vec!["ns1".into(), "!ns2".into()],
            all_namespaces: false,
            standalone: true,
            log_format: LogFormat::Json,
            lifecycle: Lifecycle::AllAtOnce,
            progress_flush_after: 0.25,
            worker_limit: 7,
            priority: Some(5),
            peering: Some("ops".into()),
            leader_election: Some("lead".into()),
            shards: Some(4),
            liveness: Some("http://0.0.0.0:8080/healthz".into()),
            default_backoff: Some(1.5),
            ..OperatorArgs::default()
        };
        assert_eq!(parse(&options.to_command_line()), options);
        assert_eq!(
            parse(&OperatorArgs::default().to_command_line()),
            OperatorArgs::default()
        );
    }

    #[test]
    fn replica_flags_set_the_settings() {
        let args = [
            "--peering=ops",
            "--dev",
            "--leader-election",
            "--shards",
            "3",
        ];
        let options = parse(&args.map(String::from));
        let settings = options.settings();
        assert_eq!(settings.peering.name, "ops");
        assert!(settings.peering.mandatory);
        assert_eq!(settings.peering.priority, 666);
        let election = settings.replicas.leader_election.expect("leader election");
        assert_eq!(election.name, "kopf-leader");
        assert_eq!(settings.replicas.shards, Some(3));
        assert_eq!(parse(&options.to_command_line()), options);
        let named = parse(&["--leader-election=mine".to_string()]);
        assert_eq!(named.leader_election.as_deref(), Some("mine"));
    }
}
