//! How an embedded server is started. Shared by the library, `kopf cluster` and `kopf run --embedded`.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

/// Where objects live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Storage {
    /// Nothing survives the process (tests).
    InMemory,
    /// Objects are kept in this directory and survive restarts and `kill -9`.
    Durable(PathBuf),
}

/// How clients connect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// HTTPS with a generated CA and a bearer token (the default).
    Https,
    /// Plain HTTP without authentication (explicit opt-in; warned about).
    InsecureHttp,
}

/// Injected failures, for reliability tests. All off by default.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultConfig {
    /// Fraction (0..=1) of requests answered with 500.
    pub error_500_ratio: f64,
    /// Fraction (0..=1) of requests answered with 429 and `Retry-After`.
    pub error_429_ratio: f64,
    /// Probability, per delivered watch event, that the stream is dropped after it.
    pub watch_drop_ratio: f64,
    /// Drop every watch stream after this many delivered events.
    pub watch_drop_after: Option<u64>,
    /// Added to every request.
    pub latency: Duration,
    /// Compact the watch history this often (watches from older versions then get 410).
    pub compact_every: Option<Duration>,
}

#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub bind: IpAddr,
    /// 0 picks a free port.
    pub port: u16,
    pub storage: Storage,
    pub transport: Transport,
    pub faults: FaultConfig,
    /// Larger request bodies get 413.
    pub max_body_bytes: usize,
    /// How often idle watches with `allowWatchBookmarks` get a BOOKMARK.
    pub bookmark_interval: Duration,
    /// How many past events are kept for watches that resume from a resourceVersion.
    pub watch_history: usize,
    /// Authorize service accounts' requests by the stored RBAC objects (the admin token
    /// keeps full access). Off: every authenticated request is allowed.
    pub rbac: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            storage: Storage::InMemory,
            transport: Transport::Https,
            faults: FaultConfig::default(),
            max_body_bytes: 3 * 1024 * 1024,
            bookmark_interval: Duration::from_secs(20),
            watch_history: 100_000,
            rbac: false,
        }
    }
}

impl ServerConfig {
    /// In memory, over HTTPS with a token: what tests use.
    pub fn in_memory() -> Self {
        ServerConfig::default()
    }

    /// Durable in `dir`, over HTTPS with a token: what `kopf run --embedded` uses.
    pub fn durable(dir: impl Into<PathBuf>) -> Self {
        ServerConfig {
            storage: Storage::Durable(dir.into()),
            ..ServerConfig::default()
        }
    }
}
