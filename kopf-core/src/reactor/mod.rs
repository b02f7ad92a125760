//! Watching, queueing and processing: the operator's engine.

pub mod discovery;
pub mod operator;
pub mod patching;
pub mod processing;
pub mod queueing;
pub mod watching;

use crate::registry::Registry;
use crate::settings::{RunOptions, Settings};
use clap::Parser;
use std::process::ExitCode;

pub use operator::{OperatorError, run};

/// The command line of an operator binary (what `kopf run` passes on).
#[derive(Parser)]
#[command(about = "A kopf operator")]
struct OperatorCli {
    #[command(flatten)]
    options: RunOptions,
}

/// The `main` of an operator binary: parses the command line, runs the linked handlers
/// until SIGINT or SIGTERM; a second signal exits at once.
pub fn run_main() -> ExitCode {
    let cli = OperatorCli::parse();
    let options = cli.options;
    let level = if options.quiet {
        tracing::Level::WARN
    } else if options.debug {
        tracing::Level::TRACE
    } else if options.verbose {
        tracing::Level::DEBUG
    } else {
        tracing::Level::INFO
    };
    crate::logging::init(options.log_format, level, options.log_prefix);

    let registry = match Registry::linked() {
        Ok(registry) => registry,
        Err(err) => {
            eprintln!("kopf: {err}");
            return ExitCode::FAILURE;
        }
    };
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
    let settings = Settings {
        lifecycle: options.lifecycle,
        progress_flush_after: std::time::Duration::from_secs_f64(options.progress_flush_after),
        worker_limit: options.worker_limit as usize,
        ..Settings::default()
    };
    let result = runtime.block_on(run(registry, options, settings, stop_signal()));
    // Do not wait for blocking handlers that ignore the stop: the bound has passed.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(target: "kopf._core.reactor.running", "{err}");
            eprintln!("kopf: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on the first SIGINT/SIGTERM; the second one exits the process at once.
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        std::future::pending::<()>().await;
        return;
    };
    let name = tokio::select! {
        _ = interrupt.recv() => "SIGINT",
        _ = terminate.recv() => "SIGTERM",
    };
    tracing::info!(target: "kopf._core.reactor.running", "Signal {name} is received. Operator is stopping.");
    tokio::spawn(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
        tracing::warn!(target: "kopf._core.reactor.running", "A second signal is received. Exiting at once.");
        std::process::exit(130);
    });
}
