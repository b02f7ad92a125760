//! Finding the Python interpreter with kopf for the `python_*` tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

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
         `python3 -m venv .venv && .venv/bin/pip install kopf==1.45.2`, or set KOPF_PYTHON \
         to an interpreter that has kopf 1.45.2."
    );
}

/// A fresh scratch directory under cargo's per-target temp dir.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch dir");
    dir
}
