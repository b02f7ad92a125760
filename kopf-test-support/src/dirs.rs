//! Scratch directories and the workspace root, so tests find their files and leave their
//! own in places that no other test (or test binary) uses.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The base of all scratch directories: `$KOPF_TEST_TMPDIR` if set, else
/// `<system temp dir>/kopf-tests`. (Cargo's `CARGO_TARGET_TMPDIR` is only known when the
/// tests themselves are compiled, not when this crate is.)
fn base_dir() -> PathBuf {
    std::env::var_os("KOPF_TEST_TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("kopf-tests"))
}

/// A fresh, empty directory named after `name`, this process and a per-process counter.
pub fn scratch_dir(name: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = base_dir().join(format!("{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|err| panic!("cannot create the scratch dir {}: {err}", dir.display()));
    dir
}

/// The workspace's root directory (where `examples/` and `.venv/` are).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the support crate lives in the workspace")
        .to_path_buf()
}
