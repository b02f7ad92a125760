//! Compile-time behaviour of the handler attributes: what compiles, and the errors users see.
//!
//! Every `tests/ui/pass/NAME.rs` must compile and its `main` must run to success. Every
//! `tests/ui/fail/NAME.rs` must fail to compile, and its errors must contain every line of
//! `NAME.expected`: the headline, the location in the user's code and the labels that point
//! at their tokens. The rest of rustc's rendering (which other impls it lists, snippets of
//! kopf's own source) changes with the compiler and its environment, so it is not pinned;
//! run with `KOPF_UI_SHOW=1` to print the full errors of every case.
//!
//! All cases are binaries of one scratch crate, built by one `cargo build`: one build of the
//! dependencies for all (trybuild's copy with every dev-dependency took gigabytes of disk).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A case's binary name: its kind and its file's stem, unique across both directories.
struct Case {
    bin: String,
    name: String,
    path: PathBuf,
}

#[test]
fn ui() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pass = cases(root, "pass");
    let fail = cases(root, "fail");

    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let scratch = target.join("tests").join("ui");
    std::fs::create_dir_all(&scratch).expect("the scratch crate's directory");
    let all: Vec<&Case> = pass.iter().chain(&fail).collect();
    std::fs::write(scratch.join("Cargo.toml"), manifest(root, &all)).expect("Cargo.toml");
    // The workspace's lock: the same versions as every other test, no resolution online.
    std::fs::copy(root.join("Cargo.lock"), scratch.join("Cargo.lock")).expect("Cargo.lock");

    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--bins", "--keep-going", "--message-format=json"])
        .arg("--manifest-path")
        .arg(scratch.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", scratch.join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo build runs");
    let errors = errors_by_bin(&String::from_utf8_lossy(&output.stdout), root);

    let mut failures = Vec::new();
    for case in &pass {
        if let Some(errors) = errors.get(&case.bin) {
            failures.push(format!(
                "pass/{}: should compile, but:\n{}",
                case.name,
                errors.join("\n")
            ));
            continue;
        }
        let binary = scratch.join("target").join("debug").join(&case.bin);
        match Command::new(&binary).output() {
            Ok(run) if run.status.success() => {}
            Ok(run) => failures.push(format!(
                "pass/{}: compiled, but its main failed ({}):\n{}",
                case.name,
                run.status,
                String::from_utf8_lossy(&run.stderr)
            )),
            Err(error) => failures.push(format!(
                "pass/{}: {} did not run: {error}\ncargo said:\n{}",
                case.name,
                binary.display(),
                String::from_utf8_lossy(&output.stderr)
            )),
        }
    }
    for case in &fail {
        failures.extend(check_fail(case, errors.get(&case.bin)));
    }
    if errors.is_empty() {
        failures.push(format!(
            "cargo build produced no errors at all:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    // Last, so that a CI log's tail shows what differed.
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The cases of `tests/ui/KIND`, in name order.
fn cases(root: &Path, kind: &str) -> Vec<Case> {
    let dir = root.join("tests").join("ui").join(kind);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|_| panic!("{} is missing", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no cases in {}", dir.display());
    paths
        .into_iter()
        .map(|path| {
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("a case's file name is UTF-8")
                .to_string();
            Case {
                bin: format!("{kind}_{name}"),
                name,
                path,
            }
        })
        .collect()
}

/// The failures of one compile-fail case: none when its errors have every expected line.
fn check_fail(case: &Case, errors: Option<&Vec<String>>) -> Option<String> {
    let rendered = errors.map(|e| e.join("\n")).unwrap_or_default();
    if std::env::var_os("KOPF_UI_SHOW").is_some() {
        println!("==== {}\n{rendered}", case.name);
    }
    let expected_path = case.path.with_extension("expected");
    let expected = std::fs::read_to_string(&expected_path)
        .unwrap_or_else(|_| panic!("{} is missing", expected_path.display()));
    if rendered.is_empty() {
        return Some(format!(
            "fail/{}: compiled without errors, but should fail",
            case.name
        ));
    }
    let missing: Vec<&str> = expected
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .filter(|line| !rendered.contains(line))
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "fail/{}: the errors lack:\n  {}\nthe errors were:\n{rendered}",
            case.name,
            missing.join("\n  ")
        )
    })
}

/// A crate with one binary per case, depending on this crate with the features of the
/// running test (the `testing` feature when built with `--all-features`), and on serde for
/// typed specs, as an operator's crate does; the rest comes through kopf's re-exports.
fn manifest(root: &Path, cases: &[&Case]) -> String {
    let features = if cfg!(feature = "testing") {
        r#", features = ["testing"]"#
    } else {
        ""
    };
    let mut manifest = format!(
        "[package]\nname = \"kopf-ui\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [workspace]\n\n[dependencies]\nkopf = {{ path = {:?}{features} }}\n\
         serde = {{ version = \"1\", features = [\"derive\"] }}\n\n\
         [profile.dev]\ndebug = false\nincremental = false\n",
        root.display().to_string()
    );
    for case in cases {
        manifest.push_str(&format!(
            "\n[[bin]]\nname = {:?}\npath = {:?}\ntest = false\n",
            case.bin,
            case.path.display().to_string()
        ));
    }
    manifest
}

/// The rendered errors of each binary, with the project's root stripped from paths so
/// that locations read `tests/ui/fail/NAME.rs:LINE:COLUMN` wherever the checkout is.
fn errors_by_bin(messages: &str, root: &Path) -> BTreeMap<String, Vec<String>> {
    let prefix = format!("{}/", root.display());
    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in messages.lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-message" || message["message"]["level"] != "error" {
            continue;
        }
        let (Some(name), Some(rendered)) = (
            message["target"]["name"].as_str(),
            message["message"]["rendered"].as_str(),
        ) else {
            continue;
        };
        errors
            .entry(name.to_string())
            .or_default()
            .push(rendered.replace(&prefix, ""));
    }
    errors
}
