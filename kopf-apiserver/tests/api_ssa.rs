//! Rule API-126: server-side apply as kube-apiserver does it. `managedFields` (FieldsV1)
//! record each manager's fields, for `Apply` and for ordinary writes (`Update`, the manager
//! from `fieldManager` or the User-Agent); applying a field another manager owns with
//! another value is a 409 with kube-apiserver's message and `FieldManagerConflict` causes;
//! `force=true` takes the field over; a field a manager stops applying, and alone owned, is
//! removed.

use kopf_test_support::start;
use serde_json::{Value, json};

const CM: &str = "/api/v1/namespaces/default/configmaps";

fn managers(object: &Value) -> Vec<(String, String, Value)> {
    object["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["manager"].as_str().unwrap_or_default().to_string(),
                e["operation"].as_str().unwrap_or_default().to_string(),
                e["fieldsV1"].clone(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_126_server_side_apply_owns_fields_per_manager() {
    let ts = start().await;
    let apply = |manager: &str, force: bool, data: Value| {
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "ssa", "namespace": "default"}, "data": data});
        let path = format!(
            "{CM}/ssa?fieldManager={manager}{}",
            if force { "&force=true" } else { "" }
        );
        (path, body.to_string())
    };

    // The first apply creates the object and owns its fields.
    let (path, body) = apply("m1", false, json!({"a": "1", "b": "2"}));
    let (code, created) = ts
        .raw("PATCH", &path, Some("application/apply-patch+yaml"), &body)
        .await;
    assert_eq!(code, 201, "{created}");
    let entry = &created["metadata"]["managedFields"][0];
    assert_eq!(entry["manager"], "m1");
    assert_eq!(entry["operation"], "Apply");
    assert_eq!(entry["apiVersion"], "v1");
    assert_eq!(entry["fieldsType"], "FieldsV1");
    assert_eq!(entry["fieldsV1"], json!({"f:data": {"f:a": {}, "f:b": {}}}));
    assert!(entry["time"].as_str().is_some_and(|t| t.ends_with('Z')));

    // Another manager applying a different value for m1's field: a conflict, nothing stored.
    let (path, body) = apply("m2", false, json!({"a": "9"}));
    let (code, refused) = ts
        .raw("PATCH", &path, Some("application/apply-patch+yaml"), &body)
        .await;
    assert_eq!(code, 409, "{refused}");
    assert_eq!(refused["reason"], "Conflict");
    assert_eq!(
        refused["message"],
        "Apply failed with 1 conflict: conflict with \"m1\": .data.a"
    );
    assert_eq!(
        refused["details"]["causes"],
        json!([{"type": "FieldManagerConflict", "message": "conflict with \"m1\"", "field": ".data.a"}])
    );
    // The same value is no conflict: both own it.
    let (path, body) = apply("m3", false, json!({"b": "2"}));
    let (code, _) = ts
        .raw("PATCH", &path, Some("application/apply-patch+yaml"), &body)
        .await;
    assert_eq!(code, 200);

    // Forced: m2 takes the field over.
    let (path, body) = apply("m2", true, json!({"a": "9"}));
    let (code, forced) = ts
        .raw("PATCH", &path, Some("application/apply-patch+yaml"), &body)
        .await;
    assert_eq!(code, 200, "{forced}");
    assert_eq!(forced["data"], json!({"a": "9", "b": "2"}));
    let owners = managers(&forced);
    assert!(
        owners.contains(&("m1".into(), "Apply".into(), json!({"f:data": {"f:b": {}}}))),
        "{owners:?}"
    );
    assert!(
        owners.contains(&("m2".into(), "Apply".into(), json!({"f:data": {"f:a": {}}}))),
        "{owners:?}"
    );

    // m3 stops applying b, which m1 still owns: it stays. m1 stops too: it goes.
    let (path, body) = apply("m3", false, json!({}));
    ts.raw("PATCH", &path, Some("application/apply-patch+yaml"), &body)
        .await;
    let (path, body) = apply("m1", false, json!({}));
    let (_, after) = ts
        .raw("PATCH", &path, Some("application/apply-patch+yaml"), &body)
        .await;
    assert_eq!(after["data"], json!({"a": "9"}), "{after}");

    // An ordinary write records an Update entry for what it changed.
    let (code, patched) = ts
        .raw(
            "PATCH",
            &format!("{CM}/ssa?fieldManager=editor"),
            Some("application/merge-patch+json"),
            r#"{"data": {"c": "3"}}"#,
        )
        .await;
    assert_eq!(code, 200, "{patched}");
    assert!(
        managers(&patched).contains(&(
            "editor".into(),
            "Update".into(),
            json!({"f:data": {"f:c": {}}})
        )),
        "{patched}"
    );
    // Apply entries come first, as kube-apiserver orders them.
    let operations: Vec<String> = managers(&patched)
        .into_iter()
        .map(|(_, op, _)| op)
        .collect();
    let mut sorted = operations.clone();
    sorted.sort();
    assert_eq!(operations, sorted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_126_kubectl_server_side_apply_conflicts_and_forces() {
    let ts = start().await;
    let first = ts.write_file(
        "first.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, namespace: default}\ndata: {a: \"1\", b: \"2\"}\n",
    );
    let second = ts.write_file(
        "second.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, namespace: default}\ndata: {a: \"9\"}\n",
    );
    let path = |p: &std::path::Path| p.to_str().unwrap().to_string();
    ts.kubectl_ok(&[
        "apply",
        "--server-side",
        "--field-manager=m1",
        "-f",
        &path(&first),
    ]);
    let refused = ts.kubectl(&[
        "apply",
        "--server-side",
        "--field-manager=m2",
        "-f",
        &path(&second),
    ]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("Apply failed with 1 conflict: conflict with \"m1\": .data.a"),
        "{stderr}"
    );
    ts.kubectl_ok(&[
        "apply",
        "--server-side",
        "--field-manager=m2",
        "--force-conflicts",
        "-f",
        &path(&second),
    ]);
    let shown = ts.kubectl_ok(&[
        "get",
        "configmap",
        "ssa",
        "-o",
        "yaml",
        "--show-managed-fields",
    ]);
    for needle in [
        "manager: m1",
        "manager: m2",
        "operation: Apply",
        "fieldsType: FieldsV1",
        "f:a: {}",
    ] {
        assert!(shown.contains(needle), "{needle} missing:\n{shown}");
    }
}
