//! Durability of the persistence layer against a process killed with SIGKILL.
//!
//! The test re-runs its own binary as a child (selected by an environment variable). The
//! child writes keys from several concurrent tasks and prints `ACK <key>` after each
//! acknowledged commit; the parent kills it with SIGKILL mid-stream, reopens the directory
//! and checks that every acknowledged key is there.

use kopf_apiserver::persistence::{Persistence, WriteBatch};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "KOPF_OPS_PERSISTENCE_CHILD_DIR";
/// This test's name within its binary (where it is a module of the crate's one test binary).
fn test_name() -> String {
    let module = module_path!().split_once("::").map_or("", |(_, m)| m);
    format!("{module}::kill_nine_loses_no_acknowledged_write")
}
/// Kill the child after this many acknowledgements.
const ACKS_BEFORE_KILL: usize = 400;

#[test]
fn kill_nine_loses_no_acknowledged_write() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        run_child(&dir);
        return;
    }

    let dir = kopf_test_support::scratch_dir("ops-kill9");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &test_name(), "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut acked = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(key) = line.strip_prefix("ACK ") {
            acked.push(key.to_string());
        }
        if acked.len() >= ACKS_BEFORE_KILL || Instant::now() > deadline {
            break;
        }
    }
    // `Child::kill` is SIGKILL on Unix: no destructors, no flushing, no goodbye.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the child was expected to die by SIGKILL"
    );
    assert!(
        acked.len() >= ACKS_BEFORE_KILL,
        "only {} acks before the deadline",
        acked.len()
    );

    let store = Persistence::open(&dir).unwrap();
    let snapshot = store.load().unwrap();
    let present: std::collections::HashSet<&str> = snapshot
        .objects
        .iter()
        .map(|(key, _)| key.as_str())
        .collect();
    let lost: Vec<&String> = acked
        .iter()
        .filter(|key| !present.contains(key.as_str()))
        .collect();
    assert!(
        lost.is_empty(),
        "acknowledged but lost after kill -9: {lost:?}"
    );
    for (key, value) in &snapshot.objects {
        assert_eq!(
            value,
            format!("{{\"key\":\"{key}\"}}").as_bytes(),
            "torn value for {key}"
        );
    }
    // Every acknowledged write's version is covered by the stored counter.
    assert!(snapshot.resource_version >= acked.len() as u64);
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Writes forever from 8 tasks, announcing each acknowledged key; the parent kills us.
fn run_child(dir: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = Arc::new(Persistence::open(std::path::Path::new(dir)).unwrap());
        let counter = Arc::new(AtomicU64::new(0));
        for _ in 0..8 {
            let store = Arc::clone(&store);
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                loop {
                    let rv = counter.fetch_add(1, Ordering::SeqCst) + 1;
                    let key = format!("key-{rv:08}");
                    let json = format!("{{\"key\":\"{key}\"}}");
                    let batch = WriteBatch {
                        resource_version: rv,
                        puts: vec![(key.clone(), bytes::Bytes::from(json.into_bytes()))],
                        deletes: vec![],
                    };
                    store.commit(batch).await.unwrap();
                    use std::io::Write;
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ACK {key}").unwrap();
                    out.flush().unwrap();
                }
            });
        }
        // The writers run until the parent kills this process.
        std::future::pending::<()>().await;
    });
}
