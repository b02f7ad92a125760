//! Conformance tests for rules that the other files exercise only in passing.

use kopf_test_support::{KEX, create_crd, kex, merge, start};
use serde_json::{Value, json};

fn watch_lines(bytes: Vec<u8>) -> Vec<Value> {
    String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn api_21_every_patch_operation_carries_its_gvk_and_field_validation() {
    let ts = start().await;
    create_crd(&ts).await;
    let (code, index) = ts.raw("GET", "/openapi/v3", None, "").await;
    assert_eq!(code, 200);
    let url = index["paths"]["apis/kopf.dev/v1"]["serverRelativeURL"]
        .as_str()
        .expect("the CRD's group-version is listed");
    let (code, doc) = ts.raw("GET", url, None, "").await;
    assert_eq!(code, 200, "{doc}");
    let patch =
        &doc["paths"]["/apis/kopf.dev/v1/namespaces/{namespace}/kopfexamples/{name}"]["patch"];
    assert_eq!(
        patch["x-kubernetes-group-version-kind"],
        json!({"group": "kopf.dev", "version": "v1", "kind": "KopfExample"})
    );
    let parameters = patch["parameters"].as_array().expect("parameters");
    assert!(
        parameters.iter().any(|p| p["name"] == "fieldValidation"),
        "{patch}"
    );
}

#[tokio::test]
async fn api_35_status_in_a_create_is_dropped_with_the_status_subresource() {
    let ts = start().await;
    create_crd(&ts).await;
    let created = kex(
        &ts,
        json!({"metadata": {"name": "s"}, "spec": {}, "status": {"phase": "Ready"}}),
    )
    .await;
    assert!(
        created
            .get("status")
            .is_none_or(|s| s.get("phase").is_none()),
        "{created}"
    );
}

#[tokio::test]
async fn api_61_a_watch_without_a_version_starts_with_synthetic_added_events() {
    let ts = start().await;
    create_crd(&ts).await;
    kex(&ts, json!({"metadata": {"name": "a"}, "spec": {}})).await;
    kex(&ts, json!({"metadata": {"name": "b"}, "spec": {}})).await;
    for version in ["", "&resourceVersion=0"] {
        let (code, bytes) = ts
            .raw_bytes(
                "GET",
                &format!("{KEX}?watch=true&timeoutSeconds=1{version}"),
                None,
                "",
            )
            .await;
        assert_eq!(code, 200);
        let events = watch_lines(bytes);
        let names: Vec<&str> = events
            .iter()
            .filter(|e| e["type"] == "ADDED")
            .filter_map(|e| e["object"]["metadata"]["name"].as_str())
            .collect();
        assert_eq!(names, ["a", "b"], "{events:?}");
    }
}

#[tokio::test]
async fn api_64_modified_and_deleted_carry_the_full_object_with_a_new_version() {
    let ts = start().await;
    create_crd(&ts).await;
    let created = kex(
        &ts,
        json!({"metadata": {"name": "m", "labels": {"x": "y"}}, "spec": {"a": 1}}),
    )
    .await;
    let from = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, _) = merge(&ts, &format!("{KEX}/m"), json!({"spec": {"a": 2}})).await;
    assert_eq!(code, 200);
    let (code, _) = ts.raw("DELETE", &format!("{KEX}/m"), None, "").await;
    assert_eq!(code, 200);
    let (_, bytes) = ts
        .raw_bytes(
            "GET",
            &format!("{KEX}?watch=true&timeoutSeconds=1&resourceVersion={from}"),
            None,
            "",
        )
        .await;
    let events = watch_lines(bytes);
    let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(types, ["MODIFIED", "DELETED"]);
    for event in &events {
        assert_eq!(event["object"]["spec"]["a"], 2, "the full object: {event}");
        assert_eq!(event["object"]["metadata"]["labels"]["x"], "y");
    }
    let versions: Vec<u64> = events
        .iter()
        .map(|e| {
            e["object"]["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(
        versions[0] > from.parse::<u64>().unwrap() && versions[1] > versions[0],
        "{versions:?}"
    );
}

#[tokio::test]
async fn api_102_no_new_finalizers_on_a_deleting_object() {
    let ts = start().await;
    create_crd(&ts).await;
    kex(
        &ts,
        json!({"metadata": {"name": "f", "finalizers": ["a/b"]}, "spec": {}}),
    )
    .await;
    let (code, _) = ts.raw("DELETE", &format!("{KEX}/f"), None, "").await;
    assert_eq!(code, 200);
    let (code, status) = merge(
        &ts,
        &format!("{KEX}/f"),
        json!({"metadata": {"finalizers": ["a/b", "c/d"]}}),
    )
    .await;
    assert_eq!(code, 422, "{status}");
    assert_eq!(status["reason"], "Invalid");
    assert!(
        status["message"]
            .as_str()
            .unwrap_or_default()
            .contains("no new finalizers can be added if the object is being deleted"),
        "{status}"
    );
}

#[tokio::test]
async fn api_103_deletion_timestamp_cannot_be_cleared_by_a_write() {
    let ts = start().await;
    create_crd(&ts).await;
    kex(
        &ts,
        json!({"metadata": {"name": "t", "finalizers": ["a/b"]}, "spec": {}}),
    )
    .await;
    let (_, deleting) = ts.raw("DELETE", &format!("{KEX}/t"), None, "").await;
    let stamp = deleting["metadata"]["deletionTimestamp"].clone();
    assert!(stamp.is_string(), "{deleting}");
    let (code, patched) = merge(
        &ts,
        &format!("{KEX}/t"),
        json!({"metadata": {"deletionTimestamp": null}, "spec": {"x": 1}}),
    )
    .await;
    assert_eq!(code, 200, "{patched}");
    assert_eq!(
        patched["metadata"]["deletionTimestamp"], stamp,
        "silently restored"
    );
}

#[tokio::test]
async fn api_117_leases_are_plain_objects_guarded_by_resource_versions() {
    let ts = start().await;
    let leases = "/apis/coordination.k8s.io/v1/namespaces/default/leases";
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "leader"},
        "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15, "renewTime": "2026-11-25T05:36:56.928290Z"}});
    let (code, created) = ts
        .raw("POST", leases, Some("application/json"), &lease.to_string())
        .await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(
        created["spec"]["renewTime"], "2026-11-25T05:36:56.928290Z",
        "MicroTime is kept"
    );
    let mut stale = created.clone();
    stale["spec"]["holderIdentity"] = json!("b");
    let (code, _) = ts
        .raw(
            "PUT",
            &format!("{leases}/leader"),
            Some("application/json"),
            &stale.to_string(),
        )
        .await;
    assert_eq!(code, 200);
    // The same (now stale) version again: the second writer loses.
    stale["spec"]["holderIdentity"] = json!("c");
    let (code, status) = ts
        .raw(
            "PUT",
            &format!("{leases}/leader"),
            Some("application/json"),
            &stale.to_string(),
        )
        .await;
    assert_eq!(code, 409, "{status}");
    assert_eq!(status["reason"], "Conflict");
}
