//! Finding the Python interpreter with kopf, for the tests that compare with Python kopf.

use crate::workspace_root;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// `$KOPF_PYTHON`, else `<workspace>/.venv/bin/python`, whichever imports kopf; otherwise
/// the test fails with instructions (a missing interpreter is a setup error, not a skip).
pub fn python_with_kopf() -> PathBuf {
    let candidates: Vec<PathBuf> = std::env::var_os("KOPF_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain([workspace_root().join(".venv/bin/python")])
        .collect();
    for python in &candidates {
        let ok = Command::new(python)
            .args(["-c", "import kopf"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if ok {
            return python.clone();
        }
    }
    panic!(
        "No Python with kopf found (tried {candidates:?}). Install it in the workspace root: \
         `python3 -m venv .venv && .venv/bin/pip install kopf==1.45.2 certbuilder`, or set \
         KOPF_PYTHON to an interpreter that has kopf 1.45.2."
    );
}
