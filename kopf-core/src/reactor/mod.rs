//! Watching, queueing and processing: the operator's engine.

pub mod discovery;
pub mod watching;

use std::process::ExitCode;

/// The `main` of an operator binary: parses the command line, runs the linked handlers.
pub fn run_main() -> ExitCode {
    ExitCode::FAILURE
}
