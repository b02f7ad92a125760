//! `kopf new NAME`: scaffolds an operator crate — a typed custom resource and its CRD, the
//! handlers, a test with the in-process runner, a Dockerfile and the deployment manifests.

use crate::manifests::{ManifestsArgs, render};
use crate::run::{build, cache_dir};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

#[derive(Args, Debug)]
pub struct NewArgs {
    /// The crate's name (also the directory's, unless --path is given).
    pub name: String,
    /// Where to create it (default: ./NAME); it must not exist or be empty.
    #[arg(long)]
    pub path: Option<PathBuf>,
    /// The custom resource's kind (default: from the name, e.g. `gizmo-operator` → `Gizmo`).
    #[arg(long)]
    pub kind: Option<String>,
    /// The custom resource's API group.
    #[arg(long, default_value = "example.com")]
    pub group: String,
    /// The path of the kopf SDK to depend on (default: the one this `kopf` was built from).
    #[arg(long)]
    pub sdk: Option<PathBuf>,
    /// Only write the files: do not build the operator to generate deploy/crd.yaml and
    /// deploy/operator.yaml.
    #[arg(long)]
    pub no_build: bool,
}

#[derive(Debug, thiserror::Error)]
enum NewError {
    #[error(
        "{0:?} is not a valid crate name: use lowercase letters, digits, '-' and '_', starting with a letter"
    )]
    Name(String),
    #[error("{0:?} is not a valid kind: use an UpperCamelCase identifier")]
    Kind(String),
    #[error("{0} exists and is not empty; choose another NAME or --path")]
    Exists(PathBuf),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Generate(String),
}

pub fn main(args: NewArgs) -> ExitCode {
    match scaffold(&args) {
        Ok(dir) => {
            println!("kopf: created the operator in {}", dir.display());
            println!("kopf: next: cd {} && cargo test", dir.display());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("kopf: {err}");
            ExitCode::FAILURE
        }
    }
}

/// What the templates are filled with.
struct Names {
    name: String,
    kind: String,
    group: String,
    plural: String,
    sdk: String,
}

impl Names {
    fn fill(&self, template: &str) -> String {
        template
            .replace("{{name}}", &self.name)
            .replace("{{kind}}", &self.kind)
            .replace("{{group}}", &self.group)
            .replace("{{plural}}", &self.plural)
            .replace("{{sdk}}", &self.sdk)
    }
}

const FILES: [(&str, &str); 8] = [
    (
        "Cargo.toml",
        include_str!("../templates/new/Cargo.toml.tmpl"),
    ),
    ("src/main.rs", include_str!("../templates/new/main.rs.tmpl")),
    (
        "src/resource.rs",
        include_str!("../templates/new/resource.rs.tmpl"),
    ),
    (
        "src/handlers.rs",
        include_str!("../templates/new/handlers.rs.tmpl"),
    ),
    (
        "tests/operator.rs",
        include_str!("../templates/new/test.rs.tmpl"),
    ),
    (
        "Dockerfile",
        include_str!("../templates/new/Dockerfile.tmpl"),
    ),
    (
        ".gitignore",
        include_str!("../templates/new/gitignore.tmpl"),
    ),
    ("README.md", include_str!("../templates/new/README.md.tmpl")),
];

fn scaffold(args: &NewArgs) -> Result<PathBuf, NewError> {
    let valid_name = args
        .name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase())
        && args
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid_name {
        return Err(NewError::Name(args.name.clone()));
    }
    let kind = args.kind.clone().unwrap_or_else(|| kind_from(&args.name));
    let valid_kind = kind.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && kind.chars().all(|c| c.is_ascii_alphanumeric());
    if !valid_kind {
        return Err(NewError::Kind(kind));
    }
    let dir = args
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    if std::fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(NewError::Exists(dir));
    }
    let sdk = args.sdk.clone().unwrap_or_else(default_sdk);
    let sdk = std::fs::canonicalize(&sdk).unwrap_or(sdk);
    let names = Names {
        name: args.name.clone(),
        plural: format!("{}s", kind.to_lowercase()),
        kind,
        group: args.group.clone(),
        sdk: sdk.display().to_string(),
    };
    for (path, template) in FILES {
        write(&dir.join(path), &names.fill(template))?;
    }
    format_sources(&dir);
    if !args.no_build {
        generate_deploy(&dir, &names)?;
    }
    Ok(dir)
}

/// The generated sources through `rustfmt`, when there is one: how the lines break
/// depends on the kind's name, and a new project should pass `cargo fmt --check`.
fn format_sources(dir: &Path) {
    let sources = FILES
        .iter()
        .map(|(path, _)| dir.join(path))
        .filter(|path| path.extension().is_some_and(|e| e == "rs"));
    let formatted = std::process::Command::new("rustfmt")
        .args(["--edition", "2024"])
        .args(sources)
        .status();
    if !formatted.is_ok_and(|status| status.success()) {
        eprintln!("kopf: rustfmt did not format the new sources; `cargo fmt` will.");
    }
}

/// `gizmo-operator` → `Gizmo`, `my_app` → `MyApp`; `Example` when nothing is left.
fn kind_from(name: &str) -> String {
    let trimmed = name
        .strip_suffix("-operator")
        .or_else(|| name.strip_suffix("_operator"))
        .unwrap_or(name);
    let kind: String = trimmed
        .split(['-', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    match kind.chars().next() {
        Some(c) if c.is_ascii_uppercase() => kind,
        _ => "Example".into(),
    }
}

/// The workspace this `kopf` binary was built from: its facade crate is the SDK.
fn default_sdk() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn write(path: &Path, text: &str) -> Result<(), NewError> {
    let failed = |source| NewError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(failed)?;
    }
    std::fs::write(path, text).map_err(failed)
}

/// Builds the operator, renders its CRD (`cargo run -- crd`) and the deployment manifests
/// (as `kopf manifests` does) into `deploy/`.
fn generate_deploy(dir: &Path, names: &Names) -> Result<(), NewError> {
    println!("kopf: building the operator to generate deploy/ (--no-build skips this)");
    let binary = build(&[dir.to_path_buf()], None, false, &cache_dir()).map_err(|err| {
        NewError::Generate(format!(
            "the generated operator did not build ({err}); the files are in {}",
            dir.display()
        ))
    })?;
    let output = Command::new(&binary)
        .arg("crd")
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|err| NewError::Generate(format!("cannot run {}: {err}", binary.display())))?;
    if !output.status.success() {
        return Err(NewError::Generate(format!(
            "{} crd failed ({})",
            binary.display(),
            output.status
        )));
    }
    write(
        &dir.join("deploy/crd.yaml"),
        &String::from_utf8_lossy(&output.stdout),
    )?;
    let manifests = ManifestsArgs {
        paths: vec![dir.to_path_buf()],
        bin: None,
        name: Some(names.name.clone()),
        image: Some(format!("{}:latest", names.name)),
        namespaces: Vec::new(),
        deployment_namespace: "default".into(),
        liveness: "http://0.0.0.0:8080/healthz".into(),
    };
    let yaml = render(&manifests).map_err(NewError::Generate)?;
    write(&dir.join("deploy/operator.yaml"), &yaml)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_names() {
        assert_eq!(kind_from("gizmo-operator"), "Gizmo");
        assert_eq!(kind_from("my_app"), "MyApp");
        assert_eq!(kind_from("operator"), "Operator");
        assert_eq!(kind_from("x1-thing"), "X1Thing");
        assert_eq!(kind_from("-operator"), "Example");
    }
}
