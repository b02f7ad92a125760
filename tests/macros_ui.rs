//! Compile-time behaviour of the handler attributes: what compiles, and the errors users see.
//!
//! `tests/ui/pass/*.rs` must compile and run (trybuild). Each `tests/ui/fail/NAME.rs` must
//! fail to compile, and its errors must contain every line of `NAME.expected`: the
//! headline, the location in the user's code and the labels that point at their tokens.
//! The rest of rustc's rendering (which other impls it lists, snippets of kopf's own
//! source) changes with the compiler and its environment, so it is not pinned; run with
//! `KOPF_UI_SHOW=1` to print the full errors of every case.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    drop(t); // Runs the pass cases now, before the fail cases' build starts.
    compile_fail("tests/ui/fail");
}

/// Builds every case of `dir` as a binary of one scratch crate (one dependency build for
/// all) and checks each case's errors against its `.expected` lines.
fn compile_fail(dir: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
        .expect("the fail cases' directory")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases in {dir}");

    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let scratch = target.join("tests").join("ui-fail");
    std::fs::create_dir_all(&scratch).expect("the scratch crate's directory");
    std::fs::write(scratch.join("Cargo.toml"), manifest(root, &cases)).expect("Cargo.toml");
    // The workspace's lock: the same versions as every other test, no resolution online.
    std::fs::copy(root.join("Cargo.lock"), scratch.join("Cargo.lock")).expect("Cargo.lock");

    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["check", "--bins", "--keep-going", "--message-format=json"])
        .arg("--manifest-path")
        .arg(scratch.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", scratch.join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo check runs");
    let errors = errors_by_case(&String::from_utf8_lossy(&output.stdout), root);

    let mut failures = Vec::new();
    for case in &cases {
        let name = case_name(case);
        let rendered = errors.get(&name).map(|e| e.join("\n")).unwrap_or_default();
        if std::env::var_os("KOPF_UI_SHOW").is_some() {
            println!("==== {name}\n{rendered}");
        }
        let expected_path = case.with_extension("expected");
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|_| panic!("{} is missing", expected_path.display()));
        if rendered.is_empty() {
            failures.push(format!("{name}: compiled without errors, but should fail"));
            continue;
        }
        let missing: Vec<&str> = expected
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .filter(|line| !rendered.contains(line))
            .collect();
        if !missing.is_empty() {
            failures.push(format!(
                "{name}: the errors lack:\n  {}\nthe errors were:\n{rendered}",
                missing.join("\n  ")
            ));
        }
    }
    if errors.is_empty() {
        failures.push(format!(
            "cargo check produced no errors at all:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A crate with one binary per case, depending on this crate with the features of the
/// running test (the `testing` feature when built with `--all-features`).
fn manifest(root: &Path, cases: &[PathBuf]) -> String {
    let features = if cfg!(feature = "testing") {
        r#", features = ["testing"]"#
    } else {
        ""
    };
    let mut manifest = format!(
        "[package]\nname = \"kopf-ui-fail\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [workspace]\n\n[dependencies]\nkopf = {{ path = {:?}{features} }}\n\n\
         [profile.dev]\ndebug = false\n",
        root.display().to_string()
    );
    for case in cases {
        manifest.push_str(&format!(
            "\n[[bin]]\nname = {:?}\npath = {:?}\ntest = false\n",
            case_name(case),
            case.display().to_string()
        ));
    }
    manifest
}

fn case_name(case: &Path) -> String {
    case.file_stem()
        .and_then(|s| s.to_str())
        .expect("a case's file name is UTF-8")
        .to_string()
}

/// The rendered errors of each binary, with the project's root stripped from paths so
/// that locations read `tests/ui/fail/NAME.rs:LINE:COLUMN` wherever the checkout is.
fn errors_by_case(messages: &str, root: &Path) -> BTreeMap<String, Vec<String>> {
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
