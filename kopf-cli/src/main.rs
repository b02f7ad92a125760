//! The `kopf` command.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cluster;
mod manifests;
mod new;
mod peering;
mod reload;
mod run;

#[derive(Parser)]
#[command(
    name = "kopf",
    version,
    about = "Kubernetes Operator Pythonic Framework, for Rust"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build and run an operator from .rs files (or a cargo package directory).
    Run(run::RunArgs),
    /// Run the embedded Kubernetes API server in the foreground.
    Cluster(cluster::ClusterArgs),
    /// Print the manifests deploying the operator: RBAC for its handlers and a Deployment.
    Manifests(manifests::ManifestsArgs),
    /// Create an operator crate: a typed resource and its CRD, handlers, a test, a
    /// Dockerfile and deployment manifests.
    New(new::NewArgs),
    /// Pause the operators of a peering: a keep-alive of high priority, for a lifetime.
    Freeze(peering::FreezeArgs),
    /// Resume the operators of a peering: removes the freeze's keep-alive.
    Resume(peering::ResumeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run::main(args),
        Command::Cluster(args) => cluster::main(args),
        Command::Manifests(args) => manifests::main(args),
        Command::New(args) => new::main(args),
        Command::Freeze(args) => peering::freeze(args),
        Command::Resume(args) => peering::resume(args),
    }
}
