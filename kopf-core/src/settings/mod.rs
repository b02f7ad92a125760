//! The operator's settings: kopf's `OperatorSettings`, in kopf's groups and with kopf's
//! defaults, holding the fields this operator reads. A command line fills them
//! ([`cli`], behind the `cli` feature); an embedding program builds them in code.

pub mod admission;
#[cfg(feature = "cli")]
pub mod cli;
pub mod persistence;
pub mod replicas;

pub use admission::{AdmissionSettings, WebhookServer};
pub use persistence::{
    AnnotationsDiffBaseStorage, AnnotationsProgressStorage, DiffBaseStorage, PersistenceSettings,
    ProgressStorage, SmartProgressStorage, StatusDiffBaseStorage, StatusProgressStorage,
};
pub use replicas::{
    DEFAULT_LEASE_NAME, DEV_PRIORITY, LeaderElectionSettings, PeeringSettings, ReplicaSettings,
};

use std::time::Duration;

/// How log lines look.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum LogFormat {
    Plain,
    #[default]
    Full,
    Json,
}

/// Which handlers of a cause run in one handling cycle (kopf's lifecycles).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Lifecycle {
    /// One handler at a time, the one with the fewest retries first (kopf's default); each
    /// sees the earlier ones' effects. Outcomes are written when the cycle ends, or before a
    /// handler that runs longer than `--progress-flush-after`.
    #[default]
    Asap,
    /// Every runnable handler in one cycle, each on the body the cycle started with.
    AllAtOnce,
}

/// Seconds a handler runs before earlier outcomes of its cycle are written.
pub const DEFAULT_PROGRESS_FLUSH_AFTER: f64 = 0.5;
/// Cycles running at once: enough to keep a server busy, few enough to bound memory.
pub const DEFAULT_WORKER_LIMIT: u32 = 64;

/// kopf's `OperatorSettings`: the groups and fields this operator implements.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub watching: WatchingSettings,
    pub queueing: QueueingSettings,
    pub execution: ExecutionSettings,
    pub persistence: PersistenceSettings,
    pub background: BackgroundSettings,
    pub posting: PostingSettings,
    pub peering: PeeringSettings,
    /// Leader election and sharding (beyond kopf).
    pub replicas: ReplicaSettings,
    pub admission: AdmissionSettings,
}

/// `settings.posting`: Kubernetes Events about objects (`kopf::event()` and the like, and
/// optionally the object loggers' lines).
#[derive(Clone, Debug)]
pub struct PostingSettings {
    /// Post events at all (kopf: true); off, `kopf::event()` and the like post nothing.
    pub enabled: bool,
    /// Also post the object loggers' lines, with reason `Logging` (kopf: false).
    pub loggers: bool,
    /// The least severe level posted: of logged lines, and of `kopf::info()` (INFO),
    /// `kopf::warn()` (WARN) and `kopf::exception()` (ERROR); `kopf::event()` ignores it.
    pub level: tracing::Level,
    /// Seconds between the attempts to post an explicit event (kopf: 1,1,2,3,5,8,13,21).
    pub default_backoffs: Vec<f64>,
    /// Seconds between the attempts to post a logged line (kopf: 1,1,2,3,5).
    pub logging_backoffs: Vec<f64>,
    /// The events' `reportingComponent` and `source.component` (kopf: `kopf`).
    pub reporting_component: String,
    /// The events' `reportingInstance` (kopf: `dev`).
    pub reporting_instance: String,
    /// The events' `generateName` (kopf: `kopf-event-`).
    pub event_name_prefix: String,
}

impl Default for PostingSettings {
    fn default() -> Self {
        PostingSettings {
            enabled: true,
            loggers: false,
            level: tracing::Level::INFO,
            default_backoffs: vec![1.0, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0],
            logging_backoffs: vec![1.0, 1.0, 2.0, 3.0, 5.0],
            reporting_component: "kopf".to_string(),
            reporting_instance: "dev".to_string(),
            event_name_prefix: "kopf-event-".to_string(),
        }
    }
}

/// `settings.background`: daemons and timers.
#[derive(Clone, Debug)]
pub struct BackgroundSettings {
    /// Seconds between checks whether a stopped daemon without a cancellation timeout has
    /// exited (kopf: 60); ours also notices the exit at once.
    pub cancellation_polling: f64,
}

impl Default for BackgroundSettings {
    fn default() -> Self {
        BackgroundSettings {
            cancellation_polling: 60.0,
        }
    }
}

/// `settings.watching`: the watch-streams.
#[derive(Clone, Debug)]
pub struct WatchingSettings {
    /// The watch request's `timeoutSeconds`, if any (kopf's `server_timeout`).
    pub server_timeout: Option<u64>,
    /// Re-watch a silent stream after this long (kopf's `inactivity_timeout`, 70 s).
    pub inactivity_timeout: Duration,
}

impl Default for WatchingSettings {
    fn default() -> Self {
        WatchingSettings {
            server_timeout: None,
            inactivity_timeout: Duration::from_secs(70),
        }
    }
}

/// `settings.queueing`: the per-object workers.
#[derive(Clone, Debug)]
pub struct QueueingSettings {
    /// How many handling cycles run at once; a handler slower than
    /// `execution.progress_flush_after` stops counting. kopf's default is unbounded;
    /// ours is [`DEFAULT_WORKER_LIMIT`] to bound memory during a catch-up.
    pub worker_limit: usize,
    /// A per-object worker waiting for its own patch's event exits after this long idle
    /// (kopf: 5 s); one with nothing to wait for exits at once (it keeps no memory).
    pub idle_timeout: Duration,
    /// On shutdown, workers get this long to finish (kopf: 2 s).
    pub exit_timeout: Duration,
}

impl Default for QueueingSettings {
    fn default() -> Self {
        QueueingSettings {
            worker_limit: DEFAULT_WORKER_LIMIT as usize,
            idle_timeout: Duration::from_secs(5),
            exit_timeout: Duration::from_secs(2),
        }
    }
}

/// `settings.execution`: running handlers.
#[derive(Clone, Debug)]
pub struct ExecutionSettings {
    /// Seconds before retrying a handler that failed with an arbitrary error (kopf: 60).
    pub default_backoff: f64,
    /// Which handlers of a cause run per cycle (beyond kopf's settings: its `lifecycle=`).
    pub lifecycle: Lifecycle,
    /// Outcomes not yet written are written once a later handler has run this long; zero
    /// writes after every handler, as Python kopf does (ours alone).
    pub progress_flush_after: Duration,
}

impl Default for ExecutionSettings {
    fn default() -> Self {
        ExecutionSettings {
            default_backoff: 60.0,
            lifecycle: Lifecycle::Asap,
            progress_flush_after: Duration::from_secs_f64(DEFAULT_PROGRESS_FLUSH_AFTER),
        }
    }
}

/// The operator's settings as handlers take them (`settings: kopf::OperatorSettings`):
/// startup handlers change them before anything is watched, as kopf's
/// `settings.…  = …` in `@kopf.on.startup`; later changes are not seen by running parts.
#[derive(Clone, Debug, Default)]
pub struct OperatorSettings(std::sync::Arc<std::sync::Mutex<Settings>>);

impl OperatorSettings {
    pub fn new(settings: Settings) -> Self {
        OperatorSettings(std::sync::Arc::new(std::sync::Mutex::new(settings)))
    }

    /// A copy of the current settings.
    pub fn get(&self) -> Settings {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Changes the settings: `settings.update(|s| s.execution.default_backoff = 5.0)`.
    pub fn update<R>(&self, change: impl FnOnce(&mut Settings) -> R) -> R {
        change(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}
