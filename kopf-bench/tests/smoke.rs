//! A reduced benchmark run (few objects, our operator only), so the harness cannot rot.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

#[test]
fn a_reduced_run_handles_every_object_and_reports_every_figure() {
    let target = Path::new(env!("CARGO_BIN_EXE_kopf-bench"))
        .parent()
        .expect("the target dir")
        .to_path_buf();
    let kopf = target.join("kopf");
    if !kopf.exists() {
        let built = Command::new(env!("CARGO"))
            .args(["build", "-p", "kopf-cli"])
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
            .status()
            .expect("cargo runs");
        assert!(built.success(), "the kopf CLI builds");
    }
    let results = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-smoke-results");
    let output = Command::new(env!("CARGO_BIN_EXE_kopf-bench"))
        .args([
            "--objects",
            "20",
            "--latency-objects",
            "5",
            "--ours-only",
            "--debug-build",
            "--format",
            "json",
        ])
        .arg("--results")
        .arg(&results)
        .arg("--kopf-bin")
        .arg(&kopf)
        .env(
            "KOPF_CACHE_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("kopf-run-cache"),
        )
        .output()
        .expect("the harness runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the harness failed:\n{stderr}");
    let document: Value =
        serde_json::from_slice(&output.stdout).expect("one JSON document on stdout");
    assert_eq!(document["objects"], 20);
    let ours = &document["ours"];
    for key in [
        "catchup_objects_per_s",
        "burst_objects_per_s",
        "peak_rss_mib",
        "cpu_s_per_1000",
    ] {
        assert!(
            ours[key].as_f64().is_some_and(|v| v > 0.0),
            "{key} is reported: {ours}"
        );
    }
    for key in ["p50", "p90", "p99"] {
        assert!(
            ours["latency_ms"][key].as_f64().is_some_and(|v| v > 0.0),
            "latency {key}: {ours}"
        );
    }
    assert!(
        ours["requests_per_object"]["total"]
            .as_f64()
            .is_some_and(|v| v > 0.0)
    );
    assert!(document["kopf"].is_null(), "--ours-only skips kopf");
    let run = std::fs::read_dir(&results)
        .expect("a results folder")
        .flatten()
        .last()
        .expect("one run")
        .path();
    assert!(run.join("results.json").is_file() && run.join("chart.svg").is_file());
}
