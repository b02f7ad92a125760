//! The shape of kopf-core, checked: no import cycle between its files, the foundations
//! never reach up into the layers above them, and no file grows past 400 lines without
//! saying why at its top (a `//!` line starting with `Long:`).

use kopf_test_support::layering::{cycles, graph, sources};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 400;
/// Layers that only lower layers may use: a file in a foundation never imports these.
const UPPER: &[&str] = &["intents", "invocation", "actions", "engines", "reactor"];
const FOUNDATIONS: &[&str] = &[
    "errors", "settings", "logging", "structs", "storage", "clients",
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn no_file_imports_a_file_that_imports_it_back() {
    let edges = graph(&src());
    let cycles = cycles(&edges);
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
    assert!(
        edges.len() > 30,
        "the graph was read: {} files",
        edges.len()
    );
}

#[test]
fn foundations_never_reach_into_the_layers_above() {
    let mut violations = Vec::new();
    for (module, deps) in graph(&src()) {
        let layer = module.split("::").next().unwrap_or("");
        if !FOUNDATIONS.contains(&layer) {
            continue;
        }
        for dep in deps {
            if UPPER.contains(&dep.split("::").next().unwrap_or("")) {
                violations.push(format!("{module} uses {dep}"));
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn files_stay_short_or_say_why() {
    let mut long = Vec::new();
    for file in sources(&src()) {
        let text = std::fs::read_to_string(&file).expect("readable");
        let lines = text.lines().count();
        let explained = text.lines().take_while(|l| l.starts_with("//!")).any(|l| {
            l.trim_start_matches("//!")
                .trim_start()
                .starts_with("Long:")
        });
        if lines > MAX_LINES && !explained {
            long.push(format!("{} ({lines} lines)", file.display()));
        }
    }
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines: {}",
        long.join(", ")
    );
}
