//! `kopf run`. OWNER: helper "kopf-run". STUB.

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct RunArgs {
    /// Operator source files (.rs) or a cargo package directory.
    pub paths: Vec<std::path::PathBuf>,
}

pub fn main(_args: RunArgs) -> ExitCode {
    ExitCode::FAILURE
}
