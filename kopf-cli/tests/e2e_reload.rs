//! `kopf run --reload`: an edit rebuilds and restarts the operator, which handles nothing
//! twice (the state is on the objects); an edit that does not compile shows the compiler's
//! errors and keeps the old operator handling; Ctrl-C leaves no process behind.

use crate::e2e_support;

use e2e_support::{BUILD_DEADLINE, Cluster, STEP_DEADLINE};
use kopf_test_support::workspace_root;
use std::path::Path;

const VERSION_ONE: &str = r#"
#[kopf::on::create("kopfexamples")]
fn create_a(logger: kopf::Logger) {
    logger.info("create_a says: version one");
}
"#;

const VERSION_TWO: &str = r#"
#[kopf::on::create("kopfexamples")]
fn create_a(logger: kopf::Logger) {
    logger.info("create_a says: version two");
}

#[kopf::on::create("kopfexamples")]
fn create_b(logger: kopf::Logger) {
    logger.info("create_b says: hello");
}
"#;

fn object(name: &str) -> String {
    format!(
        "apiVersion: kopf.dev/v1\nkind: KopfExample\nmetadata:\n  name: {name}\n  namespace: default\nspec:\n  field: value\n"
    )
}

fn create(cluster: &Cluster, name: &str) {
    let file = cluster.write_file(&format!("{name}.yaml"), &object(name));
    cluster.kubectl_ok(&["apply", "-f", file.to_str().unwrap()]);
}

/// Replaces the file as editors do (a new file renamed over the old one).
fn edit(path: &Path, text: &str) {
    let temporary = path.with_extension("rs.tmp");
    std::fs::write(&temporary, text).expect("the edit is written");
    std::fs::rename(&temporary, path).expect("the edit is saved");
}

#[test]
fn edits_restart_the_operator_and_a_broken_edit_keeps_it() {
    let cluster = Cluster::start("reload");
    let crd = workspace_root().join("examples/crd.yaml");
    cluster.kubectl_ok(&["apply", "-f", crd.to_str().unwrap()]);
    let file = cluster.write_file("op.rs", VERSION_ONE);
    let mut run = cluster.kopf_run(
        &file,
        &["--reload", "--all-namespaces", "--standalone", "--verbose"],
    );
    let watching = "Starting the watch-stream for kopfexamples";
    run.wait_for(watching, BUILD_DEADLINE);

    create(&cluster, "kex-1");
    run.wait_for(
        "[default/kex-1] Handler 'create_a' succeeded.",
        STEP_DEADLINE,
    );
    assert_eq!(run.count("create_a says: version one"), 1);

    // An edit: a new handler and a new text. The operator restarts with them.
    edit(&file, VERSION_TWO);
    run.wait_for(
        &format!("kopf: {} changed; rebuilding.", file.display()),
        STEP_DEADLINE,
    );
    run.wait_for("kopf: rebuilt; restarting the operator.", BUILD_DEADLINE);
    run.wait_for_count(watching, 2, STEP_DEADLINE);
    create(&cluster, "kex-2");
    run.wait_for(
        "[default/kex-2] Handler 'create_b' succeeded.",
        STEP_DEADLINE,
    );
    run.wait_for(
        "[default/kex-2] Handler 'create_a' succeeded.",
        STEP_DEADLINE,
    );
    assert_eq!(run.count("create_a says: version two"), 1);
    // The first object was seen by the new operator (it listed it before kex-2) and its
    // creation is not handled again, by the old handler nor by the new one.
    assert_eq!(
        run.count("[default/kex-1] Handler 'create_a' is invoked."),
        1
    );
    assert_eq!(
        run.count("[default/kex-1] Handler 'create_b' is invoked."),
        0
    );
    assert_eq!(run.count("create_a says: version one"), 1);

    // An edit that does not compile: the compiler's error, and the old operator handles on.
    edit(&file, &format!("{VERSION_TWO}\nfn broken( {{\n"));
    run.wait_for(
        "kopf: the build failed; the running operator is kept.",
        BUILD_DEADLINE,
    );
    assert!(
        run.lines().iter().any(|l| l.starts_with("error")),
        "the compiler's error is shown:\n{}",
        run.output()
    );
    assert_eq!(run.count("kopf: rebuilt; restarting the operator."), 1);
    create(&cluster, "kex-3");
    run.wait_for(
        "[default/kex-3] Handler 'create_b' succeeded.",
        STEP_DEADLINE,
    );
    run.wait_for(
        "[default/kex-3] Handler 'create_a' succeeded.",
        STEP_DEADLINE,
    );
    assert_eq!(
        run.count("[default/kex-1] Handler 'create_a' is invoked."),
        1
    );
    assert_eq!(
        run.count("[default/kex-2] Handler 'create_a' is invoked."),
        1
    );

    // One operator runs, nothing else (the builds are over); Ctrl-C stops it and kopf.
    let children = children_of(run.pid());
    assert_eq!(children.len(), 1, "only the operator runs: {children:?}");
    let stops = run.count("Signal SIGINT is received. Operator is stopping.");
    assert!(run.interrupt().success(), "Ctrl-C stops gracefully");
    run.wait_for_count(
        "Signal SIGINT is received. Operator is stopping.",
        stops + 1,
        STEP_DEADLINE,
    );
    for child in children {
        assert!(
            !Path::new(&format!("/proc/{child}")).exists(),
            "the operator {child} outlived kopf run"
        );
    }
}

fn children_of(pid: u32) -> Vec<u32> {
    let mut children = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return children;
    };
    for task in tasks.flatten() {
        let text = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        children.extend(
            text.split_whitespace()
                .filter_map(|c| c.parse::<u32>().ok()),
        );
    }
    children
}
