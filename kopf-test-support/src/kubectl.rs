//! kubectl against a given kubeconfig, with its own HOME so that its discovery cache (and
//! any config of the user running the tests) stays out of the way.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A kubectl command for `kubeconfig` with HOME set to `home`; add the arguments.
pub fn kubectl_command(kubeconfig: &Path, home: &Path) -> Command {
    let mut command = Command::new("kubectl");
    command
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .env("HOME", home)
        .env_remove("KUBECONFIG");
    command
}

/// Runs kubectl and returns its output, whether it succeeded or not.
pub fn kubectl(kubeconfig: &Path, home: &Path, args: &[&str]) -> Output {
    kubectl_command(kubeconfig, home)
        .args(args)
        .output()
        .expect("kubectl runs")
}

/// Runs kubectl, asserts that it succeeded and returns its stdout.
pub fn kubectl_ok(kubeconfig: &Path, home: &Path, args: &[&str]) -> String {
    assert_success(
        &kubectl(kubeconfig, home, args),
        &format!("kubectl {args:?}"),
    )
}

/// Runs kubectl off the async runtime, for current-thread tests whose server runs on it.
pub async fn kubectl_async(kubeconfig: &Path, home: &Path, args: &[&str]) -> Output {
    let (kubeconfig, home): (PathBuf, PathBuf) = (kubeconfig.into(), home.into());
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        kubectl(&kubeconfig, &home, &args)
    })
    .await
    .expect("kubectl joins")
}

/// Asserts that a finished process succeeded (showing `what` and its output if not) and
/// returns its stdout.
pub fn assert_success(output: &Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{what} failed ({}): {}\n{stdout}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}
