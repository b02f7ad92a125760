//! `kopf cluster`: the embedded Kubernetes API server in the foreground, for local
//! development with kubectl and operators.

use kopf_apiserver::{FaultConfig, RunningServer, ServerConfig, Storage, Transport};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct ClusterArgs {
    /// Port to listen on at 127.0.0.1 (0 picks a free one and prints it).
    #[arg(long, default_value_t = 0)]
    pub port: u16,

    /// Keep objects in this directory across restarts
    /// [default: $XDG_DATA_HOME/kopf/cluster or ~/.local/share/kopf/cluster].
    #[arg(long, value_name = "DIR", conflicts_with = "in_memory")]
    pub data_dir: Option<PathBuf>,

    /// Keep nothing: all objects are gone when the server stops.
    #[arg(long)]
    pub in_memory: bool,

    /// Where to write the kubeconfig for clients
    /// [default: <data-dir>/kubeconfig, or a temporary file with --in-memory].
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,

    /// Apply the YAML manifests in this file at start (repeatable; multi-document files work).
    #[arg(long, value_name = "FILE")]
    pub apply: Vec<PathBuf>,

    /// Serve plain HTTP without TLS and WITHOUT AUTHENTICATION (anyone on this host can connect).
    #[arg(long)]
    pub insecure_http: bool,

    /// Authorize service accounts' requests (tokens from `kubectl create token NAME`) by the
    /// stored Roles, ClusterRoles and their bindings; the admin token keeps full access.
    #[arg(long)]
    pub rbac: bool,

    /// Answer this fraction (0..1) of requests with 500 Internal Server Error.
    #[arg(long, value_name = "RATIO", default_value_t = 0.0, value_parser = parse_ratio)]
    pub fault_500: f64,

    /// Answer this fraction (0..1) of requests with 429 Too Many Requests (Retry-After: 1).
    #[arg(long, value_name = "RATIO", default_value_t = 0.0, value_parser = parse_ratio)]
    pub fault_429: f64,

    /// Drop a watch stream after a delivered event with this probability (0..1).
    #[arg(long, value_name = "RATIO", default_value_t = 0.0, value_parser = parse_ratio)]
    pub fault_watch_drop: f64,

    /// Drop every watch stream after it delivered this many events.
    #[arg(long, value_name = "N")]
    pub fault_watch_drop_after: Option<u64>,

    /// Delay every request by this many milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub fault_latency_ms: u64,

    /// Compact the watch history this often, so that resuming watches get 410 Gone and relist.
    #[arg(long, value_name = "SECONDS")]
    pub fault_compact_every: Option<u64>,
}

fn parse_ratio(text: &str) -> Result<f64, String> {
    let ratio: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if (0.0..=1.0).contains(&ratio) {
        Ok(ratio)
    } else {
        Err(format!("`{text}` is not between 0 and 1"))
    }
}

#[derive(Debug, thiserror::Error)]
enum ClusterError {
    #[error("cannot find a home directory for the data; pass --data-dir or --in-memory")]
    NoDataDir,
    #[error("cannot start the server: {0}")]
    Start(String),
    #[error("cannot write the kubeconfig to {path}: {message}")]
    Kubeconfig { path: String, message: String },
    #[error("cannot read {path}: {source}")]
    ReadManifest {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot apply {path}: {message}")]
    Apply { path: String, message: String },
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot listen for signals: {0}")]
    Signal(std::io::Error),
}

pub fn main(args: ClusterArgs) -> ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return fail(&ClusterError::Runtime(err)),
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&err),
    }
}

fn fail(err: &ClusterError) -> ExitCode {
    eprintln!("kopf cluster: {err}");
    ExitCode::FAILURE
}

/// The default data directory, per the XDG base directory convention.
fn default_data_dir() -> Option<PathBuf> {
    let from_env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(xdg) = from_env("XDG_DATA_HOME") {
        return Some(xdg.join("kopf").join("cluster"));
    }
    from_env("HOME").map(|home| home.join(".local/share/kopf/cluster"))
}

fn server_config(args: &ClusterArgs, storage: Storage) -> ServerConfig {
    ServerConfig {
        port: args.port,
        storage,
        transport: if args.insecure_http {
            Transport::InsecureHttp
        } else {
            Transport::Https
        },
        faults: FaultConfig {
            error_500_ratio: args.fault_500,
            error_429_ratio: args.fault_429,
            watch_drop_ratio: args.fault_watch_drop,
            watch_drop_after: args.fault_watch_drop_after,
            latency: Duration::from_millis(args.fault_latency_ms),
            compact_every: args.fault_compact_every.map(Duration::from_secs),
        },
        rbac: args.rbac,
        ..ServerConfig::default()
    }
}

/// A kubeconfig in a fresh temporary directory, removed when dropped.
struct TempKubeconfig {
    dir: PathBuf,
}

impl TempKubeconfig {
    fn create() -> Result<TempKubeconfig, ClusterError> {
        let dir = std::env::temp_dir().join(format!("kopf-cluster-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| ClusterError::Kubeconfig {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
        Ok(TempKubeconfig { dir })
    }

    fn path(&self) -> PathBuf {
        self.dir.join("kubeconfig")
    }
}

impl Drop for TempKubeconfig {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn serve(args: ClusterArgs) -> Result<(), ClusterError> {
    let (storage, data_dir) = if args.in_memory {
        (Storage::InMemory, None)
    } else {
        let dir = match &args.data_dir {
            Some(dir) => dir.clone(),
            None => default_data_dir().ok_or(ClusterError::NoDataDir)?,
        };
        (Storage::Durable(dir.clone()), Some(dir))
    };
    let mut temp_kubeconfig = None;
    let kubeconfig_path = match (&args.kubeconfig, &data_dir) {
        (Some(path), _) => path.clone(),
        (None, Some(dir)) => dir.join("kubeconfig"),
        (None, None) => temp_kubeconfig.insert(TempKubeconfig::create()?).path(),
    };

    let server = RunningServer::start(server_config(&args, storage))
        .await
        .map_err(|e| ClusterError::Start(e.to_string()))?;
    let result = announce_and_wait(&server, &args, data_dir.as_deref(), &kubeconfig_path).await;
    server.shutdown().await;
    drop(temp_kubeconfig);
    if result.is_ok() {
        println!("kopf cluster: stopped.");
    }
    result
}

async fn announce_and_wait(
    server: &RunningServer,
    args: &ClusterArgs,
    data_dir: Option<&Path>,
    kubeconfig_path: &Path,
) -> Result<(), ClusterError> {
    if let Some(parent) = kubeconfig_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(|e| ClusterError::Kubeconfig {
            path: kubeconfig_path.display().to_string(),
            message: e.to_string(),
        })?;
    }
    server
        .write_kubeconfig(kubeconfig_path)
        .map_err(|e| ClusterError::Kubeconfig {
            path: kubeconfig_path.display().to_string(),
            message: e.to_string(),
        })?;
    for file in &args.apply {
        let yaml = std::fs::read_to_string(file).map_err(|source| ClusterError::ReadManifest {
            path: file.display().to_string(),
            source,
        })?;
        server
            .apply_manifests(&yaml)
            .await
            .map_err(|e| ClusterError::Apply {
                path: file.display().to_string(),
                message: e.to_string(),
            })?;
        println!("kopf cluster: applied {}", file.display());
    }

    // Listening before the kubeconfig line is printed: whoever waits for that line may
    // interrupt at once, and must find the handlers in place.
    let stop = StopSignal::install()?;
    let url = server.url().to_string();
    let port = url
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .trim_end_matches('/');
    if args.insecure_http {
        eprintln!(
            "kopf cluster: WARNING: plain HTTP without authentication: any local user or process can read and change everything."
        );
    }
    match data_dir {
        Some(dir) => println!("kopf cluster: serving {url} with data in {}", dir.display()),
        None => println!("kopf cluster: serving {url} in memory (nothing is kept)"),
    }
    println!("kopf cluster: port {port}");
    println!(
        "kopf cluster: kubeconfig written to {}",
        kubeconfig_path.display()
    );
    println!("export KUBECONFIG={}", kubeconfig_path.display());
    println!("kopf cluster: press Ctrl-C to stop.");

    stop.wait().await;
    Ok(())
}

/// Ctrl-C (SIGINT) or SIGTERM, listened for from the moment it is installed.
struct StopSignal {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl StopSignal {
    fn install() -> Result<Self, ClusterError> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(StopSignal {
            interrupt: signal(SignalKind::interrupt()).map_err(ClusterError::Signal)?,
            terminate: signal(SignalKind::terminate()).map_err(ClusterError::Signal)?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: ClusterArgs,
    }

    #[test]
    fn all_flags_parse_into_the_server_config() {
        let cli = Cli::try_parse_from([
            "kopf",
            "--port",
            "6443",
            "--data-dir",
            "/tmp/x",
            "--kubeconfig",
            "/tmp/kc",
            "--apply",
            "a.yaml",
            "--apply",
            "b.yaml",
            "--insecure-http",
            "--rbac",
            "--fault-500",
            "0.1",
            "--fault-429",
            "0.2",
            "--fault-watch-drop",
            "0.3",
            "--fault-watch-drop-after",
            "5",
            "--fault-latency-ms",
            "7",
            "--fault-compact-every",
            "9",
        ])
        .unwrap();
        assert_eq!(cli.args.apply.len(), 2);
        let config = server_config(&cli.args, Storage::InMemory);
        assert_eq!(config.port, 6443);
        assert_eq!(config.transport, Transport::InsecureHttp);
        assert!(config.rbac);
        assert_eq!(config.faults.error_500_ratio, 0.1);
        assert_eq!(config.faults.error_429_ratio, 0.2);
        assert_eq!(config.faults.watch_drop_ratio, 0.3);
        assert_eq!(config.faults.watch_drop_after, Some(5));
        assert_eq!(config.faults.latency, Duration::from_millis(7));
        assert_eq!(config.faults.compact_every, Some(Duration::from_secs(9)));
    }

    #[test]
    fn ratios_outside_zero_to_one_are_refused() {
        assert!(Cli::try_parse_from(["kopf", "--fault-500", "1.5"]).is_err());
        assert!(Cli::try_parse_from(["kopf", "--fault-429", "-0.1"]).is_err());
        assert!(Cli::try_parse_from(["kopf", "--fault-watch-drop", "x"]).is_err());
    }

    #[test]
    fn in_memory_conflicts_with_data_dir() {
        assert!(Cli::try_parse_from(["kopf", "--in-memory", "--data-dir", "/tmp/x"]).is_err());
        let cli = Cli::try_parse_from(["kopf"]).unwrap();
        assert_eq!(
            server_config(&cli.args, Storage::InMemory).transport,
            Transport::Https
        );
    }
}
