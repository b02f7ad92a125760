//! The shape of kopf-core, checked: no import cycle between its files, the foundations
//! never reach up into the layers above them, and no file grows past 400 lines without
//! saying why at its top (a `//!` line starting with `Long:`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 400;
/// Layers that only lower layers may use: a file in a foundation never imports these.
const UPPER: &[&str] = &["intents", "invocation", "actions", "engines", "reactor"];
const FOUNDATIONS: &[&str] = &[
    "errors", "settings", "logging", "structs", "storage", "clients",
];

fn sources() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("src is readable") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    files.sort();
    files
}

/// `src/a/b.rs` → `a::b`; `src/a/mod.rs` → `a`; `src/lib.rs` → ``.
fn module_of(path: &Path) -> String {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let relative = path.strip_prefix(&src).expect("under src");
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts.join("::")
}

/// Every `crate::…` path in the text, with `use` braces expanded.
fn crate_paths(text: &str) -> Vec<String> {
    fn expand(prefix: &str, body: &str, out: &mut Vec<String>) {
        let mut depth = 0;
        let mut start = 0;
        let chars: Vec<char> = body.chars().collect();
        let mut items = Vec::new();
        for (i, c) in chars.iter().enumerate() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(chars[start..i].iter().collect::<String>());
                    start = i + 1;
                }
                _ => {}
            }
        }
        items.push(chars[start..].iter().collect::<String>());
        for item in items {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            match item.find('{') {
                Some(open) => {
                    let head = item[..open].trim_end_matches("::");
                    let inner = &item[open + 1..item.rfind('}').unwrap_or(item.len())];
                    expand(&format!("{prefix}::{head}"), inner, out);
                }
                None => out.push(format!("{prefix}::{item}")),
            }
        }
    }
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        let tail = &rest[at + "crate::".len()..];
        let end = tail
            .find(|c: char| {
                !(c.is_alphanumeric()
                    || c == '_'
                    || c == ':'
                    || c == '{'
                    || c == '}'
                    || c == ','
                    || c == ' '
                    || c == '\n')
            })
            .unwrap_or(tail.len());
        let path = tail[..end].trim();
        let path = match (path.find('{'), path.rfind('}')) {
            (Some(_), Some(close)) => &path[..=close],
            (Some(open), None) => &path[..open],
            _ => path.split([' ', '\n', ',']).next().unwrap_or(""),
        };
        expand("crate", path, &mut out);
        rest = &tail[end.min(tail.len())..];
    }
    out.into_iter()
        .map(|p| p.trim_start_matches("crate::").to_string())
        .collect()
}

/// The file-module a path lands in: its longest prefix that is a module file.
fn target(path: &str, modules: &BTreeSet<String>) -> Option<String> {
    let parts: Vec<&str> = path.split("::").map(str::trim).collect();
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find(|candidate| modules.contains(candidate))
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let files = sources();
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(f)).collect();
    let mut edges = BTreeMap::new();
    for file in &files {
        let module = module_of(file);
        let text = std::fs::read_to_string(file).expect("readable");
        let mut deps = BTreeSet::new();
        for path in crate_paths(&text) {
            if let Some(dep) = target(&path, &modules)
                && dep != module
                && !dep.is_empty()
                && !module.starts_with(&format!("{dep}::"))
            {
                deps.insert(dep);
            }
        }
        edges.insert(module, deps);
    }
    edges
}

#[test]
fn no_file_imports_a_file_that_imports_it_back() {
    let edges = graph();
    let mut cycles = Vec::new();
    // Depth-first search for a path back to the start.
    for start in edges.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((node, trail)) = stack.pop() {
            for next in edges.get(&node).into_iter().flatten() {
                if next == start {
                    cycles.push(trail.join(" → ") + " → " + start);
                } else if seen.insert(next.clone()) {
                    let mut longer = trail.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
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
    for (module, deps) in graph() {
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
    for file in sources() {
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

#[test]
fn the_path_reader_expands_use_braces() {
    let paths = crate_paths("use crate::a::{b, c::{d, e}};\nlet x = crate::f::g(1);");
    assert_eq!(paths, vec!["a::b", "a::c::d", "a::c::e", "f::g"]);
}
