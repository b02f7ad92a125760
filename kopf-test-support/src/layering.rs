//! The shape of a crate's source: which file uses which, and the import cycles between
//! files, so that each crate's tests can hold its layering in place.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `src`, sorted.
pub fn sources(src: &Path) -> Vec<PathBuf> {
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
    walk(src, &mut files);
    files.sort();
    files
}

/// `src/a/b.rs` → `a::b`; `src/a/mod.rs` → `a`; `src/lib.rs` → ``.
fn module_of(src: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(src).expect("under src");
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
pub fn crate_paths(text: &str) -> Vec<String> {
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

/// Which file-modules each file-module of the crate at `src` uses (through `crate::`).
pub fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let files = sources(src);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(src, f)).collect();
    let mut edges = BTreeMap::new();
    for file in &files {
        let module = module_of(src, file);
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

/// Every cycle of the graph, as `a → b → a`.
pub fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
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
    cycles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn use_braces_are_expanded() {
        let paths = crate_paths("use crate::a::{b, c::{d, e}};\nlet x = crate::f::g(1);");
        assert_eq!(paths, vec!["a::b", "a::c::d", "a::c::e", "f::g"]);
    }

    #[test]
    fn cycles_are_found() {
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        edges.entry("a".into()).or_default().insert("b".into());
        edges.entry("b".into()).or_default().insert("a".into());
        edges.entry("c".into()).or_default().insert("a".into());
        assert_eq!(cycles(&edges), vec!["a → b → a", "b → a → b"]);
    }
}
