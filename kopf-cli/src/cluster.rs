//! `kopf cluster`. OWNER: helper "apiserver-ops". STUB.

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct ClusterArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
}

pub fn main(_args: ClusterArgs) -> ExitCode {
    ExitCode::FAILURE
}
