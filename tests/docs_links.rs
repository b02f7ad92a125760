//! The book's links: every relative link in `docs/src/*.md` and `README.md` points to an
//! existing file, and every `#anchor` to a heading of that file (slugified as mdBook and
//! GitHub do); every chapter is in `docs/src/SUMMARY.md`, every entry of it exists, and
//! every chapter's snippets are compiled as doctests (listed in `src/book.rs`).

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn book() -> PathBuf {
    root().join("docs/src")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// The chapters: every `.md` file of `docs/src` but `SUMMARY.md`, by file name.
fn chapters() -> BTreeSet<String> {
    std::fs::read_dir(book())
        .expect("docs/src")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".md") && name != "SUMMARY.md")
        .collect()
}

/// The lines of a Markdown text outside fenced code blocks, with their 1-based numbers.
fn prose_lines(text: &str) -> Vec<(usize, &str)> {
    let mut fence: Option<&str> = None;
    let mut lines = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match fence {
            Some(marker) => {
                if trimmed.starts_with(marker)
                    && trimmed.trim_start_matches(marker).trim().is_empty()
                {
                    fence = None;
                }
            }
            None if trimmed.starts_with("```") => fence = Some("```"),
            None if trimmed.starts_with("~~~") => fence = Some("~~~"),
            None => lines.push((index + 1, line)),
        }
    }
    lines
}

/// The line without its inline code spans (`` `…` ``).
fn without_code_spans(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let ticks = rest[start..].chars().take_while(|c| *c == '`').count();
        let marker = "`".repeat(ticks);
        let after = &rest[start + ticks..];
        match after.find(&marker) {
            Some(end) => rest = &after[end + ticks..],
            None => {
                rest = after;
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Inline link targets of a line: `[text](target)` and `![alt](target)`, without titles.
fn link_targets(line: &str) -> Vec<String> {
    let line = without_code_spans(line);
    let mut targets = Vec::new();
    let mut rest = line.as_str();
    while let Some(start) = rest.find("](") {
        let after = &rest[start + 2..];
        let mut depth = 0usize;
        let mut end = None;
        for (i, c) in after.char_indices() {
            match c {
                '(' => depth += 1,
                ')' if depth == 0 => {
                    end = Some(i);
                    break;
                }
                ')' => depth -= 1,
                _ => {}
            }
        }
        let Some(end) = end else { break };
        let target = after[..end].trim();
        let target = target.split_whitespace().next().unwrap_or_default();
        let target = target.trim_start_matches('<').trim_end_matches('>');
        targets.push(target.to_string());
        rest = &after[end + 1..];
    }
    targets
}

/// A heading's text as a reader sees it: links reduced to their text, code marks dropped.
fn heading_text(raw: &str) -> String {
    let mut text = without_code_marks(raw);
    // `[text](target)` → `text`
    while let (Some(open), Some(mid)) = (text.find('['), text.find("](")) {
        let Some(close) = text[mid..].find(')').map(|i| mid + i) else {
            break;
        };
        if open > mid {
            break;
        }
        text = format!(
            "{}{}{}",
            &text[..open],
            &text[open + 1..mid],
            &text[close + 1..]
        );
    }
    text
}

fn without_code_marks(raw: &str) -> String {
    raw.replace('`', "")
}

/// mdBook's `normalize_id` (and GitHub's anchors): lowercase alphanumerics, `_` and `-`
/// kept, whitespace to `-`, everything else dropped.
fn slugify(text: &str) -> String {
    text.trim()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_lowercase().collect::<String>())
            } else if c.is_whitespace() {
                Some("-".to_string())
            } else {
                None
            }
        })
        .collect()
}

/// The anchors of a Markdown file's ATX headings; repeated ones get `-1`, `-2`, … as mdBook
/// and GitHub number them.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for (_, line) in prose_lines(text) {
        let trimmed = line.trim_start();
        let level = trimmed.chars().take_while(|c| *c == '#').count();
        if level == 0 || level > 6 || !trimmed[level..].starts_with(' ') {
            continue;
        }
        let title = trimmed[level..].trim().trim_end_matches('#').trim();
        let base = slugify(&heading_text(title));
        let mut anchor = base.clone();
        let mut n = 0;
        while seen.contains(&anchor) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
        seen.insert(anchor);
    }
    seen
}

/// `a/./b/../c` → `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn is_external(target: &str) -> bool {
    target.contains("://") || target.starts_with("mailto:")
}

/// What is wrong with the relative links of one Markdown file.
fn broken_links(file: &Path) -> Vec<String> {
    let text = read(file);
    let dir = file.parent().expect("a directory");
    let shown = file
        .strip_prefix(root())
        .unwrap_or(file)
        .display()
        .to_string();
    let mut problems = Vec::new();
    for (number, line) in prose_lines(&text) {
        for target in link_targets(line) {
            if target.is_empty() {
                problems.push(format!("{shown}:{number}: an empty link"));
                continue;
            }
            if is_external(&target) {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (target.as_str(), None),
            };
            let linked = if path.is_empty() {
                file.to_path_buf()
            } else {
                normalize(&dir.join(path))
            };
            if !linked.exists() {
                problems.push(format!("{shown}:{number}: {target}: no such file"));
                continue;
            }
            let Some(anchor) = anchor else { continue };
            let is_markdown = linked.extension().is_some_and(|e| e == "md");
            if !is_markdown {
                problems.push(format!(
                    "{shown}:{number}: {target}: an anchor into a non-Markdown file"
                ));
            } else if !anchors(&read(&linked)).contains(anchor) {
                problems.push(format!(
                    "{shown}:{number}: {target}: no heading with this anchor"
                ));
            }
        }
    }
    problems
}

#[test]
fn relative_links_and_anchors_resolve() {
    let mut files: Vec<PathBuf> = chapters().iter().map(|name| book().join(name)).collect();
    files.push(book().join("SUMMARY.md"));
    files.push(root().join("README.md"));
    let problems: Vec<String> = files.iter().flat_map(|file| broken_links(file)).collect();
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

#[test]
fn summary_lists_every_chapter_and_only_existing_ones() {
    let summary = read(&book().join("SUMMARY.md"));
    let listed: BTreeSet<String> = prose_lines(&summary)
        .into_iter()
        .flat_map(|(_, line)| link_targets(line))
        .filter(|target| !is_external(target))
        .collect();
    let chapters = chapters();
    let missing: Vec<&String> = chapters.iter().filter(|c| !listed.contains(*c)).collect();
    assert!(
        missing.is_empty(),
        "chapters not in SUMMARY.md: {missing:?}"
    );
    let absent: Vec<&String> = listed.iter().filter(|l| !book().join(l).exists()).collect();
    assert!(
        absent.is_empty(),
        "SUMMARY.md entries without a file: {absent:?}"
    );
    let nested: Vec<&String> = listed.iter().filter(|l| l.contains('/')).collect();
    assert!(
        nested.is_empty(),
        "chapters are files of docs/src: {nested:?}"
    );
}

#[test]
fn every_chapter_is_compiled_as_doctests() {
    let module = read(&root().join("src/book.rs"));
    let untested: Vec<String> = chapters()
        .into_iter()
        .filter(|chapter| !module.contains(&format!("\"{chapter}\"")))
        .collect();
    assert!(
        untested.is_empty(),
        "chapters missing from src/book.rs: {untested:?}"
    );
    let lib = read(&root().join("src/lib.rs"));
    assert!(
        lib.contains("#[cfg(doctest)]\nmod book;"),
        "src/lib.rs declares `mod book` for doctests"
    );
}

#[test]
fn slugs_are_mdbooks() {
    assert_eq!(
        slugify("Raw events: `on::event`".replace('`', "").as_str()),
        "raw-events-onevent"
    );
    assert_eq!(slugify("kopf → kopf for Rust"), "kopf--kopf-for-rust");
    assert_eq!(
        slugify("RBAC and a Deployment: kopf manifests"),
        "rbac-and-a-deployment-kopf-manifests"
    );
    assert_eq!(
        heading_text("See [the CLI](cli.md) `now`"),
        "See the CLI now"
    );
    let doubled = anchors("# A\n\n```sh\n# not a heading\n```\n\n## A\n### B #\n");
    assert_eq!(doubled, ["a", "a-1", "b"].map(String::from).into());
    assert_eq!(
        link_targets("a [x](y.md#z \"t\") `[no](pe)` ![i](<img.png>)"),
        ["y.md#z", "img.png"]
    );
}
