//! `kopf run FILE.rs…`: generate a binary crate for the operator's files in a cache
//! directory, build it with cargo (progress shown), and run it — optionally against an
//! embedded API server in this process.
//!
//! Extra dependencies are declared inside an operator file, in its inner doc comment:
//!
//! ```text
//! //! ```cargo
//! //! [dependencies]
//! //! rand = "0.9"
//! //! ```
//! ```

use kopf_core::settings::cli::OperatorArgs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

const DEPENDENCY_SYNTAX: &str = "\
Extra dependencies are declared inside an operator file, in its inner doc comment:

    //! ```cargo
    //! [dependencies]
    //! rand = \"0.9\"
    //! ```

The `kopf` crate re-exports kube, serde_json, tokio and tracing: a single-file operator
needs no dependency of its own.";

#[derive(clap::Args)]
#[command(after_long_help = DEPENDENCY_SYNTAX)]
pub struct RunArgs {
    /// Operator source files (.rs) or a cargo package directory.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Start an embedded Kubernetes API server in this process and run against it.
    #[arg(long)]
    pub embedded: bool,
    /// The embedded server's data directory (default: `<cache>/cluster`).
    #[arg(long, requires = "embedded")]
    pub data_dir: Option<PathBuf>,
    /// Apply these manifests to the embedded server before the operator starts (repeatable).
    #[arg(long = "apply", requires = "embedded")]
    pub manifests: Vec<PathBuf>,
    /// The binary to run from a cargo package directory with several binaries.
    #[arg(long)]
    pub bin: Option<String>,
    /// Build the operator with optimizations (slower to build, faster to run).
    #[arg(long)]
    pub release: bool,
    /// Watch the operator's files: rebuild on a change and restart the operator when the
    /// build succeeds (a failed build keeps the running one).
    #[arg(long)]
    pub reload: bool,
    #[command(flatten)]
    pub options: OperatorArgs,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum RunError {
    #[error(
        "{0}: no such file or directory; give the path of an operator's .rs file or of a cargo package directory"
    )]
    Missing(PathBuf),
    #[error("{0}: not a .rs file nor a cargo package directory (with a Cargo.toml)")]
    NotAnOperator(PathBuf),
    #[error(
        "the operator did not compile (see the compiler's messages above); fix {0} and run again"
    )]
    Compile(String),
    #[error("cannot run cargo ({cargo}): {source}; is the Rust toolchain installed?")]
    Cargo {
        cargo: String,
        source: std::io::Error,
    },
    #[error("cannot prepare the build directory {path}: {source}")]
    Cache {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot find the binary of {0}; name it with --bin")]
    NoBinary(PathBuf),
    #[error("the embedded cluster did not start: {0}")]
    Embedded(String),
    #[error("cannot read the manifest {path}: {source}")]
    Manifest {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot listen to signals: {0}")]
    Signals(std::io::Error),
    #[error("cannot start the operator {path}: {source}")]
    Spawn {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub fn main(args: RunArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("kopf: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("kopf: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: RunArgs) -> Result<ExitCode, RunError> {
    let cache = cache_dir();
    let built = build(&args.paths, args.bin.as_deref(), args.release, &cache);
    let built = match built {
        Err(RunError::Compile(files)) if args.reload => {
            eprintln!("kopf: the operator did not compile; fix {files}: it starts when it builds.");
            None
        }
        built => Some(built?),
    };

    let (server, kubeconfig) = if args.embedded {
        let data_dir = args
            .data_dir
            .clone()
            .unwrap_or_else(|| cache.join("cluster"));
        let (server, kubeconfig) = start_embedded(&data_dir, &args.manifests).await?;
        (Some(server), Some(kubeconfig))
    } else {
        (None, None)
    };
    let launch = Launch {
        args: args.options.to_command_line(),
        kubeconfig,
    };
    let code = match built {
        Some(binary) if !args.reload => supervise(launch.command(&binary), &binary).await,
        built => crate::reload::supervise(&args, &cache, &launch, built).await,
    };
    if let Some(server) = server {
        server.shutdown().await;
    }
    code
}

/// `$KOPF_CACHE_DIR`, else `$XDG_CACHE_HOME/kopf`, else `~/.cache/kopf`.
pub(crate) fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KOPF_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("kopf");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join(".cache").join("kopf")
}

/// The kopf facade crate this CLI was built with (a released CLI would use a version).
fn kopf_source_dir() -> PathBuf {
    match std::env::var_os("KOPF_SOURCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join(".."),
    }
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

/// How the operator process is started: its arguments and, against the embedded
/// cluster, its kubeconfig.
pub(crate) struct Launch {
    pub args: Vec<String>,
    pub kubeconfig: Option<PathBuf>,
}

impl Launch {
    /// The operator's command: in its own process group (signals are forwarded), killed
    /// when dropped and when `kopf` dies.
    pub fn command(&self, binary: &Path) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(binary);
        command.args(&self.args);
        if let Some(kubeconfig) = &self.kubeconfig {
            command.env("KUBECONFIG", kubeconfig);
        }
        command.process_group(0).kill_on_drop(true);
        // SAFETY: prctl is async-signal-safe; it only asks the kernel to kill the child with us.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        command
    }
}

/// Builds the operator (cargo's output goes to stderr); returns the path of its binary.
pub(crate) fn build(
    paths: &[PathBuf],
    bin: Option<&str>,
    release: bool,
    cache: &Path,
) -> Result<PathBuf, RunError> {
    let target = cache.join("target");
    for path in paths {
        if !path.exists() {
            return Err(RunError::Missing(path.clone()));
        }
    }
    if let [dir] = paths
        && dir.is_dir()
    {
        if !dir.join("Cargo.toml").is_file() {
            return Err(RunError::NotAnOperator(dir.clone()));
        }
        return build_package(dir, &target, bin, release);
    }
    let mut files = Vec::new();
    for path in paths {
        if path.extension().and_then(|e| e.to_str()) != Some("rs") || !path.is_file() {
            return Err(RunError::NotAnOperator(path.clone()));
        }
        let absolute = std::fs::canonicalize(path).map_err(|_| RunError::Missing(path.clone()))?;
        files.push(absolute);
    }
    let generated = generate_crate(&files, cache)?;
    let status = std::process::Command::new(cargo())
        .arg("build")
        .args(release.then_some("--release"))
        .arg("--manifest-path")
        .arg(generated.dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .stdout(std::io::stderr())
        .status()
        .map_err(|source| RunError::Cargo {
            cargo: cargo(),
            source,
        })?;
    if !status.success() {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(RunError::Compile(names.join(", ")));
    }
    Ok(target.join(profile_dir(release)).join(&generated.package))
}

struct GeneratedCrate {
    dir: PathBuf,
    package: String,
}

/// `<stem>-<hash of the files' paths>`: one generated crate per set of operator files.
fn crate_name(files: &[PathBuf]) -> String {
    let stem = files
        .first()
        .and_then(|f| f.file_stem())
        .and_then(|s| s.to_str())
        .unwrap_or("operator");
    let stem: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let key: String = files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    format!("{stem}-{:08x}", fnv1a(key.as_bytes()) as u32)
}

/// Writes `<cache>/crates/<stem>-<hash>/` with a Cargo.toml and a `main.rs` that includes
/// the files as modules; files are rewritten only when their content changes, so that an
/// unchanged operator stays fresh for cargo.
fn generate_crate(files: &[PathBuf], cache: &Path) -> Result<GeneratedCrate, RunError> {
    let name = crate_name(files);
    let dir = cache.join("crates").join(&name);
    // The binary is named after the whole identity: operators whose files share a stem
    // (`a/timers.rs`, `b/timers.rs`) share the target directory, not their binaries.
    let package = format!("kopf-op-{name}");

    let mut dependencies = String::new();
    let mut sections = String::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let (deps, other) = declared_dependencies(&text);
        dependencies.push_str(&deps);
        sections.push_str(&other);
    }
    let kopf = kopf_source_dir();
    let manifest = format!(
        "[package]\nname = \"{package}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [workspace]\n\n[dependencies]\nkopf = {{ path = {kopf:?} }}\n{dependencies}\n\
         [profile.dev]\ndebug = \"line-tables-only\"\n\n[profile.dev.package.\"*\"]\ndebug = false\n{sections}",
        kopf = kopf.display().to_string()
    );
    let mut main = String::from(
        "//! Generated by `kopf run`: the operator's files as modules, and kopf's main.\n\n",
    );
    for (index, file) in files.iter().enumerate() {
        main.push_str(&format!(
            "#[path = {:?}]\nmod operator_{index};\n\n",
            file.display().to_string()
        ));
    }
    main.push_str("fn main() -> std::process::ExitCode {\n    kopf::run()\n}\n");

    let cache_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RunError::Cache { path, source }
    };
    std::fs::create_dir_all(dir.join("src")).map_err(cache_error(&dir))?;
    write_if_changed(&dir.join("Cargo.toml"), &manifest).map_err(cache_error(&dir))?;
    write_if_changed(&dir.join("src/main.rs"), &main).map_err(cache_error(&dir))?;
    Ok(GeneratedCrate { dir, package })
}

/// The TOML inside a file's "//! ```cargo" block: `[dependencies]` lines, and other sections.
fn declared_dependencies(text: &str) -> (String, String) {
    let mut inside = false;
    let mut section = String::new();
    let (mut dependencies, mut other) = (String::new(), String::new());
    for line in text.lines() {
        let Some(content) = line.trim_start().strip_prefix("//!") else {
            if inside {
                break;
            }
            continue;
        };
        let content = content.strip_prefix(' ').unwrap_or(content);
        if !inside {
            inside = content.trim() == "```cargo";
            continue;
        }
        if content.trim() == "```" {
            break;
        }
        if content.trim_start().starts_with('[') {
            section = content.trim().to_string();
            if section != "[dependencies]" {
                other.push_str(content);
                other.push('\n');
            }
            continue;
        }
        let target = if section == "[dependencies]" {
            &mut dependencies
        } else {
            &mut other
        };
        target.push_str(content);
        target.push('\n');
    }
    (dependencies, other)
}

fn write_if_changed(path: &Path, content: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|existing| existing == content) {
        return Ok(());
    }
    std::fs::write(path, content)
}

/// A stable hash for cache directory names.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Builds a cargo package directory into the shared target; returns its binary.
fn profile_dir(release: bool) -> &'static str {
    if release { "release" } else { "debug" }
}

fn build_package(
    dir: &Path,
    target: &Path,
    bin: Option<&str>,
    release: bool,
) -> Result<PathBuf, RunError> {
    let manifest = dir.join("Cargo.toml");
    let metadata = std::process::Command::new(cargo())
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(&manifest)
        .output()
        .map_err(|source| RunError::Cargo {
            cargo: cargo(),
            source,
        })?;
    let metadata: serde_json::Value = serde_json::from_slice(&metadata.stdout).unwrap_or_default();
    let binaries: Vec<String> = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| {
            p["manifest_path"].as_str().map(Path::new)
                == std::fs::canonicalize(&manifest).ok().as_deref()
        })
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .filter(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "bin"))
        })
        .filter_map(|t| t["name"].as_str().map(str::to_string))
        .collect();
    let name = match (bin, binaries.as_slice()) {
        (Some(bin), _) => bin.to_string(),
        (None, [only]) => only.clone(),
        _ => return Err(RunError::NoBinary(dir.to_path_buf())),
    };
    let status = std::process::Command::new(cargo())
        .args(["build", "--bin", &name])
        .args(release.then_some("--release"))
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(target)
        .stdout(std::io::stderr())
        .status()
        .map_err(|source| RunError::Cargo {
            cargo: cargo(),
            source,
        })?;
    if !status.success() {
        return Err(RunError::Compile(dir.display().to_string()));
    }
    Ok(target.join(profile_dir(release)).join(name))
}

async fn start_embedded(
    data_dir: &Path,
    manifests: &[PathBuf],
) -> Result<(kopf_apiserver::RunningServer, PathBuf), RunError> {
    let config = kopf_apiserver::ServerConfig::durable(data_dir);
    let server = kopf_apiserver::RunningServer::start(config)
        .await
        .map_err(|e| RunError::Embedded(e.to_string()))?;
    let kubeconfig = data_dir.join("kubeconfig");
    server
        .write_kubeconfig(&kubeconfig)
        .map_err(|e| RunError::Embedded(e.to_string()))?;
    for manifest in manifests {
        let text = std::fs::read_to_string(manifest).map_err(|source| RunError::Manifest {
            path: manifest.clone(),
            source,
        })?;
        let applied = server
            .apply_manifests(&text)
            .await
            .map_err(|e| RunError::Embedded(format!("{}: {e}", manifest.display())))?;
        for object in applied {
            eprintln!("kopf: applied {object} from {}", manifest.display());
        }
    }
    eprintln!(
        "kopf: the embedded cluster serves {} (data in {})",
        server.url(),
        data_dir.display()
    );
    eprintln!("kopf: to use it with kubectl in another terminal:");
    eprintln!("export KUBECONFIG={}", kubeconfig.display());
    Ok((server, kubeconfig))
}

/// Runs the operator in its own process group, forwarding SIGINT/SIGTERM: the first
/// stops it gracefully, the second at once; it never outlives `kopf run`.
async fn supervise(
    mut command: tokio::process::Command,
    binary: &Path,
) -> Result<ExitCode, RunError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut child = command.spawn().map_err(|source| RunError::Spawn {
        path: binary.to_path_buf(),
        source,
    })?;
    let pid = child.id();
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        let status = child.wait().await.map_err(|source| RunError::Spawn {
            path: binary.to_path_buf(),
            source,
        })?;
        return Ok(exit_code(status));
    };
    let mut received = 0;
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        let until = deadline
            .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600 * 24 * 365));
        tokio::select! {
            status = child.wait() => {
                let status = status.map_err(|source| RunError::Spawn { path: binary.to_path_buf(), source })?;
                return Ok(exit_code(status));
            }
            _ = interrupt.recv() => forward(pid, libc::SIGINT, &mut received, &mut deadline),
            _ = terminate.recv() => forward(pid, libc::SIGTERM, &mut received, &mut deadline),
            _ = tokio::time::sleep_until(until) => {
                eprintln!("kopf: the operator did not stop in time; killing it.");
                let _ = child.start_kill();
                deadline = None;
            }
        }
    }
}

/// Passes a signal on; after the second one, the operator gets a short grace, then SIGKILL.
fn forward(
    pid: Option<u32>,
    signal: i32,
    received: &mut u32,
    deadline: &mut Option<tokio::time::Instant>,
) {
    *received += 1;
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        // SAFETY: sending a signal to our own child process.
        unsafe {
            libc::kill(pid, signal);
        }
    }
    let grace = if *received >= 2 {
        Duration::from_secs(2)
    } else {
        Duration::from_secs(30)
    };
    *deadline = Some(tokio::time::Instant::now() + grace);
}

pub(crate) fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        (None, Some(signal)) => ExitCode::from(u8::try_from(128 + signal).unwrap_or(1)),
        _ => ExitCode::FAILURE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependency_blocks_are_read_from_inner_doc_comments() {
        let text = "//! An operator.\n//!\n//! ```cargo\n//! [dependencies]\n//! rand = \"0.9\"\n//! [features]\n//! x = []\n//! ```\nfn f() {}\n";
        let (deps, other) = declared_dependencies(text);
        assert_eq!(deps, "rand = \"0.9\"\n");
        assert_eq!(other, "[features]\nx = []\n");
        assert_eq!(
            declared_dependencies("fn main() {}\n"),
            (String::new(), String::new())
        );
    }

    #[test]
    fn operators_with_the_same_file_name_get_their_own_crates_and_binaries() {
        let a = crate_name(&[PathBuf::from("/x/examples/15-timers/timers.rs")]);
        let b = crate_name(&[PathBuf::from("/x/tests/operators/timers.rs")]);
        assert!(
            a.starts_with("timers-") && b.starts_with("timers-"),
            "{a} {b}"
        );
        assert_ne!(a, b);
        assert_eq!(
            a,
            crate_name(&[PathBuf::from("/x/examples/15-timers/timers.rs")])
        );
    }

    #[test]
    fn operator_options_pass_through() {
        let options = OperatorArgs {
            verbose: true,
            all_namespaces: true,
            namespaces: vec!["a".into()],
            log_prefix: true,
            progress_flush_after: 0.0,
            ..OperatorArgs::default()
        };
        let args = options.to_command_line();
        assert!(
            args.windows(2)
                .any(|w| w == ["--progress-flush-after", "0"])
        );
        assert!(args.windows(2).any(|w| w == ["--worker-limit", "64"]));
        assert!(
            args.contains(&"--verbose".to_string())
                && args.contains(&"--all-namespaces".to_string())
        );
        assert!(args.windows(2).any(|w| w == ["--namespace", "a"]));
        assert!(!args.contains(&"--no-log-prefix".to_string()));
    }
}
