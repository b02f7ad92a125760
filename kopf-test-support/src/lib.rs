//! Test support shared by the workspace's integration tests (kopf-apiserver's conformance
//! and operations tests, kopf-cli's end-to-end tests), so that starting an embedded
//! server, running kubectl, making scratch directories and waiting with deadlines are
//! written once. Failures panic with messages that say what went wrong: this is test code.

mod clients;
mod dirs;
pub mod fuzz;
mod kubectl;
pub mod layering;
mod objects;
mod process;
mod python;
mod server;
mod wait;

pub use clients::{api_code, client_for, client_without_retries, config_for, config_from};
pub use dirs::{scratch_dir, workspace_root};
pub use kubectl::{assert_success, kubectl, kubectl_async, kubectl_command, kubectl_ok};
pub use objects::{CRD, KEX, create_crd, create_crd_from, kex, merge};
pub use process::Process;
pub use python::python_with_kopf;
pub use server::{TestServer, start, start_http, start_with};
pub use wait::{poll_until, poll_until_blocking, wait_for, wait_for_blocking};
