//! `kopf run --reload`: the operator's files are polled for changes (every half second,
//! by modification time and size); a change rebuilds the operator; a successful build
//! stops the running operator gracefully (SIGINT, then SIGKILL after a bound) and starts
//! the new one with the same arguments; a failed build shows the compiler's messages and
//! keeps the running one. The handling state lives on the objects, so nothing is lost or
//! handled twice across the restart.

use crate::run::{Launch, RunArgs, RunError, build, exit_code};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, ExitStatus};
use std::time::{Duration, SystemTime};
use tokio::process::Child;
use tokio::signal::unix::{SignalKind, signal};

/// How often the files are checked.
const POLL: Duration = Duration::from_millis(500);
/// How long an editor's several writes of one save may take before the build starts.
const SETTLE: Duration = Duration::from_millis(200);
/// How long the old operator may take to stop before it is killed, on a restart.
const RESTART_GRACE: Duration = Duration::from_secs(10);
/// How long the operator may take to stop after Ctrl-C (a second Ctrl-C kills it at once).
const STOP_GRACE: Duration = Duration::from_secs(30);

/// What a file looked like: its modification time and size (`None`: missing).
type Stamps = BTreeMap<PathBuf, Option<(SystemTime, u64)>>;

/// Runs the operator (if the first build succeeded) and rebuilds and restarts it on every
/// change of its files, until SIGINT or SIGTERM.
pub(crate) async fn supervise(
    args: &RunArgs,
    cache: &Path,
    launch: &Launch,
    built: Option<PathBuf>,
) -> Result<ExitCode, RunError> {
    let mut interrupt = signal(SignalKind::interrupt()).map_err(RunError::Signals)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(RunError::Signals)?;
    let mut operator = match built {
        Some(binary) => Some(start(launch, &binary)?),
        None => None,
    };
    let mut seen = stamps(&args.paths);
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            status = exited(&mut operator) => {
                operator = None;
                let status = status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                eprintln!("kopf: the operator exited ({status}); it restarts on the next change.");
            }
            _ = interrupt.recv() => return Ok(stop_all(operator, libc::SIGINT, &mut interrupt).await),
            _ = terminate.recv() => return Ok(stop_all(operator, libc::SIGTERM, &mut interrupt).await),
            _ = tick.tick() => {
                let now = stamps(&args.paths);
                let Some(changed) = changed(&seen, &now) else { continue };
                tokio::time::sleep(SETTLE).await;
                seen = stamps(&args.paths);
                eprintln!("kopf: {} changed; rebuilding.", changed.display());
                let (paths, bin, release, dir) =
                    (args.paths.clone(), args.bin.clone(), args.release, cache.to_path_buf());
                let built = tokio::task::spawn_blocking(move || {
                    build(&paths, bin.as_deref(), release, &dir)
                })
                .await
                .unwrap_or_else(|err| {
                    Err(RunError::Cargo { cargo: "cargo".into(), source: std::io::Error::other(err) })
                });
                match built {
                    Ok(binary) => {
                        eprintln!("kopf: rebuilt; restarting the operator.");
                        if let Some(old) = operator.take() {
                            stop(old, libc::SIGINT, RESTART_GRACE).await;
                        }
                        operator = Some(start(launch, &binary)?);
                    }
                    Err(err) => {
                        if !matches!(err, RunError::Compile(_)) {
                            eprintln!("kopf: {err}");
                        }
                        if operator.is_some() {
                            eprintln!("kopf: the build failed; the running operator is kept.");
                        } else {
                            eprintln!("kopf: the build failed; the operator starts when it builds.");
                        }
                    }
                }
            }
        }
    }
}

fn start(launch: &Launch, binary: &Path) -> Result<Child, RunError> {
    launch
        .command(binary)
        .spawn()
        .map_err(|source| RunError::Spawn {
            path: binary.to_path_buf(),
            source,
        })
}

/// The operator's exit, or never when none runs.
async fn exited(operator: &mut Option<Child>) -> std::io::Result<ExitStatus> {
    match operator {
        Some(child) => child.wait().await,
        None => std::future::pending().await,
    }
}

fn send(child: &Child, signal: i32) {
    if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
        // SAFETY: sending a signal to our own child process.
        unsafe {
            libc::kill(pid, signal);
        }
    }
}

/// Stops the operator: the signal, then SIGKILL after `grace`.
async fn stop(mut child: Child, signal: i32, grace: Duration) -> Option<ExitStatus> {
    send(&child, signal);
    match tokio::time::timeout(grace, child.wait()).await {
        Ok(status) => status.ok(),
        Err(_) => {
            eprintln!("kopf: the operator did not stop in {grace:?}; killing it.");
            let _ = child.kill().await;
            None
        }
    }
}

/// Ctrl-C or SIGTERM: the operator stops gracefully; a second Ctrl-C kills it at once.
async fn stop_all(
    operator: Option<Child>,
    signal: i32,
    interrupt: &mut tokio::signal::unix::Signal,
) -> ExitCode {
    let Some(mut child) = operator else {
        return ExitCode::from(130);
    };
    send(&child, signal);
    let status = tokio::select! {
        status = tokio::time::timeout(STOP_GRACE, child.wait()) => status.ok().and_then(Result::ok),
        _ = interrupt.recv() => {
            send(&child, libc::SIGINT);
            tokio::time::timeout(Duration::from_secs(2), child.wait()).await.ok().and_then(Result::ok)
        }
    };
    match status {
        Some(status) => exit_code(status),
        None => {
            eprintln!("kopf: the operator did not stop in time; killing it.");
            let _ = child.kill().await;
            ExitCode::from(137)
        }
    }
}

/// The files to watch: the given files; for a package directory, its Cargo.toml, build.rs
/// and everything under `src/`.
fn watched(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            files.push(path.join("Cargo.toml"));
            files.push(path.join("build.rs"));
            walk(&path.join("src"), &mut files);
        } else {
            files.push(path.clone());
        }
    }
    files
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files);
        } else {
            files.push(path);
        }
    }
}

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}

fn stamps(paths: &[PathBuf]) -> Stamps {
    watched(paths)
        .into_iter()
        .map(|p| (p.clone(), stamp(&p)))
        .collect()
}

/// The first file whose stamp differs (a file that appeared or vanished counts).
fn changed(before: &Stamps, now: &Stamps) -> Option<PathBuf> {
    now.iter()
        .find(|(path, stamp)| before.get(*path) != Some(stamp))
        .map(|(path, _)| path.clone())
}
