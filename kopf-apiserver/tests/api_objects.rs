//! Conformance: patches, status subresource, generation, finalizers, CRDs, namespaces, GC
//! (API-80..92, 100..117).

use kopf_test_support::*;
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test]
async fn api_80_merge_patch_semantics() {
    let ts = start().await;
    create_crd(&ts).await;
    kex(
        &ts,
        json!({"metadata": {"name": "k"}, "spec": {"a": {"b": 1, "c": 2}, "list": [1, 2]}}),
    )
    .await;
    let (code, body) = merge(
        &ts,
        &format!("{KEX}/k"),
        json!({"spec": {"a": {"b": null, "d": 3}, "list": [3]}}),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(body["spec"], json!({"a": {"c": 2, "d": 3}, "list": [3]}));
    assert_eq!(body["kind"], "KopfExample");
}

/// Patches are worked out before the write takes the lock, on the version they read: when
/// others change the object meanwhile, the patch is applied again to the new version, so
/// concurrent patches of one object lose nothing (threads of their own, so that they race).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn api_80_concurrent_patches_of_one_object_are_all_kept() {
    let ts = start().await;
    create_crd(&ts).await;
    kex(&ts, json!({"metadata": {"name": "k"}, "spec": {}})).await;
    let writers = (0..32).map(|i| {
        let ts = &ts;
        async move {
            let path = format!("{KEX}/k?fieldManager=w{i}");
            let (code, body) = if i % 2 == 0 {
                let patch = json!({"spec": {format!("m{i}"): i}});
                ts.raw(
                    "PATCH",
                    &path,
                    Some("application/merge-patch+json"),
                    &patch.to_string(),
                )
                .await
            } else {
                let patch = json!([{"op": "add", "path": format!("/spec/j{i}"), "value": i}]);
                ts.raw(
                    "PATCH",
                    &path,
                    Some("application/json-patch+json"),
                    &patch.to_string(),
                )
                .await
            };
            assert_eq!(code, 200, "{body}");
            body["metadata"]["resourceVersion"]
                .as_str()
                .map(str::to_string)
        }
    });
    let mut versions: Vec<_> = futures::future::join_all(writers).await;
    versions.sort();
    versions.dedup();
    assert_eq!(versions.len(), 32, "each patch stored its own version");
    let (_, object) = ts.raw("GET", &format!("{KEX}/k"), None, "").await;
    for i in 0..32 {
        let (key, manager) = if i % 2 == 0 {
            (format!("m{i}"), format!("w{i}"))
        } else {
            (format!("j{i}"), format!("w{i}"))
        };
        assert_eq!(object["spec"][&key], json!(i), "{object}");
        let owned = object["metadata"]["managedFields"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| {
                e["manager"] == manager.as_str()
                    && e["fieldsV1"]["f:spec"].get(format!("f:{key}")).is_some()
            });
        assert!(owned, "{manager} owns spec.{key}: {object}");
    }
}

#[tokio::test]
async fn api_83_strategic_merge_on_custom_resources_is_415() {
    let ts = start().await;
    create_crd(&ts).await;
    kex(&ts, json!({"metadata": {"name": "k"}, "spec": {}})).await;
    for path in [format!("{KEX}/k"), format!("{KEX}/k/status")] {
        let (code, body) = ts
            .raw(
                "PATCH",
                &path,
                Some("application/strategic-merge-patch+json"),
                "{}",
            )
            .await;
        assert_eq!(code, 415);
        assert_eq!(body["reason"], "UnsupportedMediaType");
        assert_eq!(
            body["message"],
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
        );
    }
    // Built-ins accept it.
    ts.raw(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        Some("application/json"),
        r#"{"metadata":{"name":"c"}}"#,
    )
    .await;
    let (code, body) = ts
        .raw(
            "PATCH",
            "/api/v1/namespaces/default/configmaps/c",
            Some("application/strategic-merge-patch+json"),
            r#"{"data":{"x":"y"}}"#,
        )
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["data"]["x"], "y");
}

#[tokio::test]
async fn api_84_other_patch_types_are_415() {
    let ts = start().await;
    ts.raw(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        Some("application/json"),
        r#"{"metadata":{"name":"c"}}"#,
    )
    .await;
    let (code, _) = ts
        .raw(
            "PATCH",
            "/api/v1/namespaces/default/configmaps/c",
            Some("text/plain"),
            "{}",
        )
        .await;
    assert_eq!(code, 415);
}

#[tokio::test]
async fn api_85_resource_version_in_a_patch_is_a_precondition() {
    let ts = start().await;
    create_crd(&ts).await;
    let created = kex(&ts, json!({"metadata": {"name": "k"}, "spec": {}})).await;
    let (code, body) = merge(
        &ts,
        &format!("{KEX}/k"),
        json!({"metadata": {"resourceVersion": "1"}, "spec": {"x": 1}}),
    )
    .await;
    assert_eq!(code, 409);
    assert_eq!(body["reason"], "Conflict");
    let rv = created["metadata"]["resourceVersion"].clone();
    let (code, _) = merge(
        &ts,
        &format!("{KEX}/k"),
        json!({"metadata": {"resourceVersion": rv}, "spec": {"x": 1}}),
    )
    .await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn api_86_patch_of_missing_is_404() {
    let ts = start().await;
    let (code, _) = merge(&ts, "/api/v1/namespaces/default/configmaps/nope", json!({})).await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn api_87_apply_requires_a_field_manager_and_creates() {
    let ts = start().await;
    let path = "/api/v1/namespaces/default/configmaps/applied";
    let body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  a: b\n";
    let (code, status) = ts
        .raw("PATCH", path, Some("application/apply-patch+yaml"), body)
        .await;
    assert_eq!(code, 422);
    assert_eq!(
        status["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
    let (code, created) = ts
        .raw(
            "PATCH",
            &format!("{path}?fieldManager=me"),
            Some("application/apply-patch+yaml"),
            body,
        )
        .await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["data"]["a"], "b");
    let (code, status) = ts
        .raw(
            "PATCH",
            &format!("{path}?force=true"),
            Some("application/merge-patch+json"),
            "{}",
        )
        .await;
    assert_eq!(code, 422);
    assert_eq!(
        status["message"],
        "force: Forbidden: may not be specified for non-apply patch"
    );
}

#[tokio::test]
async fn api_90_status_subresource_isolation() {
    let ts = start().await;
    create_crd(&ts).await;
    let created = kex(
        &ts,
        json!({"metadata": {"name": "k"}, "spec": {"a": 1}, "status": {"ignored": true}}),
    )
    .await;
    assert!(
        created.get("status").is_none(),
        "API-35: status dropped on create"
    );
    let (code, body) = merge(
        &ts,
        &format!("{KEX}/k/status"),
        json!({"status": {"x": 1}, "spec": {"a": 2}, "metadata": {"labels": {"l": "v"}}}),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(body["status"], json!({"x": 1}));
    assert_eq!(body["spec"]["a"], 1);
    assert!(body["metadata"].get("labels").is_none());
    let (_, body) = merge(
        &ts,
        &format!("{KEX}/k"),
        json!({"status": {"x": 2}, "spec": {"a": 3}}),
    )
    .await;
    assert_eq!(body["status"], json!({"x": 1}));
    assert_eq!(body["spec"]["a"], 3);
}

#[tokio::test]
async fn api_91_no_status_subresource_means_404_and_plain_field() {
    let ts = start().await;
    ts.raw(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        Some("application/json"),
        r#"{"metadata":{"name":"c"}}"#,
    )
    .await;
    let (code, _) = ts
        .raw(
            "GET",
            "/api/v1/namespaces/default/configmaps/c/status",
            None,
            "",
        )
        .await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn api_92_generation_rules() {
    let ts = start().await;
    create_crd(&ts).await;
    kex(
        &ts,
        json!({"metadata": {"name": "k", "finalizers": ["f"]}, "spec": {"a": 1}}),
    )
    .await;
    let path = format!("{KEX}/k");
    let (_, body) = merge(&ts, &path, json!({"metadata": {"annotations": {"a": "b"}}})).await;
    assert_eq!(body["metadata"]["generation"], 1);
    let (_, body) = merge(&ts, &format!("{path}/status"), json!({"status": {"s": 1}})).await;
    assert_eq!(body["metadata"]["generation"], 1);
    let (_, body) = merge(&ts, &path, json!({"spec": {"a": 2}})).await;
    assert_eq!(body["metadata"]["generation"], 2);
    let (_, body) = merge(&ts, &path, json!({"metadata": {"generation": 10}})).await;
    assert_eq!(body["metadata"]["generation"], 2);
    let (_, body) = ts.raw("DELETE", &path, None, "").await;
    assert_eq!(body["metadata"]["generation"], 3);
}

#[tokio::test]
async fn api_100_101_finalizers_hold_deletion_until_removed() {
    let ts = start().await;
    create_crd(&ts).await;
    kex(&ts, json!({"metadata": {"name": "k", "finalizers": ["kopf.zalando.org/KopfFinalizerMarker"]}, "spec": {}})).await;
    let path = format!("{KEX}/k");
    let (code, body) = ts.raw("DELETE", &path, None, "").await;
    assert_eq!(code, 200);
    assert_eq!(body["kind"], "KopfExample");
    assert!(body["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(body["metadata"]["deletionGracePeriodSeconds"], 0);
    let (code, again) = ts.raw("DELETE", &path, None, "").await;
    assert_eq!(code, 200);
    assert_eq!(
        again["metadata"]["resourceVersion"],
        body["metadata"]["resourceVersion"]
    );
    // API-102: no new finalizers while deleting.
    let (code, err) = merge(
        &ts,
        &path,
        json!({"metadata": {"finalizers": ["kopf.zalando.org/KopfFinalizerMarker", "x"]}}),
    )
    .await;
    assert_eq!(code, 422);
    assert!(err["message"].as_str().unwrap().contains("no new finalizers can be added if the object is being deleted, found new finalizers []string{\"x\"}"));
    // API-103: deletionTimestamp cannot be cleared.
    let (_, kept) = merge(&ts, &path, json!({"metadata": {"deletionTimestamp": null}})).await;
    assert!(kept["metadata"]["deletionTimestamp"].is_string());
    // The JSON patch kopf sends to remove its finalizer.
    let rv = kept["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let ops = json!([{"op": "test", "path": "/metadata/resourceVersion", "value": rv}, {"op": "remove", "path": "/metadata/finalizers/0"}]);
    let (code, body) = ts
        .raw(
            "PATCH",
            &path,
            Some("application/merge-patch+json"),
            &json!({"metadata": {"finalizers": null}}).to_string(),
        )
        .await;
    let _ = ops;
    assert_eq!(code, 200, "{body}");
    let (code, _) = ts.raw("GET", &path, None, "").await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn api_110_crd_gets_conditions_added_then_modified() {
    let ts = start().await;
    let rv = ts.server.control().resource_version();
    create_crd(&ts).await;
    let (_, crd) = ts
        .raw(
            "GET",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/kopfexamples.kopf.dev",
            None,
            "",
        )
        .await;
    let conditions = crd["status"]["conditions"].as_array().unwrap();
    assert!(
        conditions
            .iter()
            .any(|c| c["type"] == "Established" && c["status"] == "True")
    );
    assert!(
        conditions
            .iter()
            .any(|c| c["type"] == "NamesAccepted" && c["status"] == "True")
    );
    assert_eq!(crd["status"]["acceptedNames"]["kind"], "KopfExample");
    // The watch history has ADDED then MODIFIED.
    let (code, body) = ts
        .raw_bytes("GET", &format!("/apis/apiextensions.k8s.io/v1/customresourcedefinitions?watch=true&resourceVersion={rv}&timeoutSeconds=1"), None, "")
        .await;
    assert_eq!(code, 200);
    let types: Vec<String> = String::from_utf8(body)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(types, ["ADDED", "MODIFIED"]);
    // A bad name is 422.
    let bad = CRD.replace(
        "\"name\": \"kopfexamples.kopf.dev\"",
        "\"name\": \"wrong.kopf.dev\"",
    );
    let (code, _) = ts
        .raw(
            "POST",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            Some("application/json"),
            &bad,
        )
        .await;
    assert_eq!(code, 422);
}

#[tokio::test]
async fn api_113_deleting_a_crd_deletes_its_objects() {
    let ts = start().await;
    create_crd(&ts).await;
    kex(&ts, json!({"metadata": {"name": "k"}, "spec": {}})).await;
    let (code, _) = ts
        .raw(
            "DELETE",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/kopfexamples.kopf.dev",
            None,
            "",
        )
        .await;
    assert_eq!(code, 200);
    let (code, _) = ts.raw("GET", KEX, None, "").await;
    assert_eq!(code, 404);
    // Re-creating the CRD starts empty.
    create_crd(&ts).await;
    let (_, list) = ts.raw("GET", KEX, None, "").await;
    assert_eq!(list["items"], json!([]));
}

#[tokio::test]
async fn api_114_namespace_deletion_removes_contents_then_itself() {
    let ts = start().await;
    let (code, ns) = ts
        .raw(
            "POST",
            "/api/v1/namespaces",
            Some("application/json"),
            r#"{"metadata":{"name":"tmp"}}"#,
        )
        .await;
    assert_eq!(code, 201);
    assert_eq!(ns["status"]["phase"], "Active");
    assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
    ts.raw(
        "POST",
        "/api/v1/namespaces/tmp/configmaps",
        Some("application/json"),
        r#"{"metadata":{"name":"a"}}"#,
    )
    .await;
    ts.raw(
        "POST",
        "/api/v1/namespaces/tmp/configmaps",
        Some("application/json"),
        r#"{"metadata":{"name":"b","finalizers":["x/y"]}}"#,
    )
    .await;
    let (code, body) = ts.raw("DELETE", "/api/v1/namespaces/tmp", None, "").await;
    assert_eq!(code, 200);
    assert_eq!(body["status"]["phase"], "Terminating");
    let (code, _) = ts
        .raw("GET", "/api/v1/namespaces/tmp/configmaps/a", None, "")
        .await;
    assert_eq!(code, 404);
    let (code, _) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/tmp/configmaps",
            Some("application/json"),
            r#"{"metadata":{"name":"c"}}"#,
        )
        .await;
    assert_eq!(code, 403);
    let (code, _) = ts.raw("GET", "/api/v1/namespaces/tmp", None, "").await;
    assert_eq!(code, 200, "held by the finalizer of b");
    merge(
        &ts,
        "/api/v1/namespaces/tmp/configmaps/b",
        json!({"metadata": {"finalizers": null}}),
    )
    .await;
    wait_for("the namespace to go", Duration::from_secs(5), || async {
        let (code, _) = ts.raw("GET", "/api/v1/namespaces/tmp", None, "").await;
        (code == 404).then_some(())
    })
    .await;
}

#[tokio::test]
async fn owner_references_garbage_collection() {
    let ts = start().await;
    let (_, owner) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            Some("application/json"),
            r#"{"metadata":{"name":"owner"}}"#,
        )
        .await;
    let uid = owner["metadata"]["uid"].as_str().unwrap();
    let dependent = json!({"metadata": {"name": "dep", "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid}]}});
    let (code, _) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            Some("application/json"),
            &dependent.to_string(),
        )
        .await;
    assert_eq!(code, 201);
    ts.raw(
        "DELETE",
        "/api/v1/namespaces/default/configmaps/owner",
        None,
        "",
    )
    .await;
    let (code, _) = ts
        .raw("GET", "/api/v1/namespaces/default/configmaps/dep", None, "")
        .await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn api_115_117_events_and_leases_are_plain_objects() {
    let ts = start().await;
    let event = json!({
        "metadata": {"generateName": "kopf-event-"},
        "involvedObject": {"kind": "KopfExample", "name": "k", "namespace": "default", "uid": "u"},
        "reason": "Logging", "message": "hello", "type": "Normal",
        "eventTime": "2026-11-25T05:36:56.928290Z",
    });
    let (code, body) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/default/events",
            Some("application/json"),
            &event.to_string(),
        )
        .await;
    assert_eq!(code, 201);
    assert_eq!(body["eventTime"], "2026-11-25T05:36:56.928290Z");
    let lease = json!({"metadata": {"name": "l"}, "spec": {"holderIdentity": "me", "renewTime": "2026-11-25T05:36:56.928290Z"}});
    let (code, created) = ts
        .raw(
            "POST",
            "/apis/coordination.k8s.io/v1/namespaces/default/leases",
            Some("application/json"),
            &lease.to_string(),
        )
        .await;
    assert_eq!(code, 201);
    let mut stale = created.clone();
    stale["spec"]["holderIdentity"] = json!("other");
    ts.raw(
        "PUT",
        "/apis/coordination.k8s.io/v1/namespaces/default/leases/l",
        Some("application/json"),
        &stale.to_string(),
    )
    .await;
    let (code, _) = ts
        .raw(
            "PUT",
            "/apis/coordination.k8s.io/v1/namespaces/default/leases/l",
            Some("application/json"),
            &stale.to_string(),
        )
        .await;
    assert_eq!(code, 409);
}

#[tokio::test]
async fn api_81_json_patch_and_422_on_failed_test() {
    let ts = start().await;
    create_crd(&ts).await;
    let created = kex(&ts, json!({"metadata": {"name": "k", "finalizers": ["a/b", "c/d"]}, "spec": {"list": [1], "x~y": {"a/b": 1}}})).await;
    let path = format!("{KEX}/k");
    let rv = created["metadata"]["resourceVersion"].clone();
    let ops = json!([
        {"op": "test", "path": "/metadata/resourceVersion", "value": rv},
        {"op": "remove", "path": "/metadata/finalizers/0"},
        {"op": "add", "path": "/spec/list/-", "value": 2},
        {"op": "replace", "path": "/spec/x~0y/a~1b", "value": 2},
        {"op": "copy", "from": "/spec/list", "path": "/spec/copied"},
        {"op": "move", "from": "/spec/copied", "path": "/spec/moved"},
    ]);
    let (code, body) = ts
        .raw(
            "PATCH",
            &path,
            Some("application/json-patch+json"),
            &ops.to_string(),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["metadata"]["finalizers"], json!(["c/d"]));
    assert_eq!(
        body["spec"],
        json!({"list": [1, 2], "x~y": {"a/b": 2}, "moved": [1, 2]})
    );
    // The same test again now fails: exactly 422 with the documented body.
    let (code, body) = ts
        .raw(
            "PATCH",
            &path,
            Some("application/json-patch+json"),
            &ops.to_string(),
        )
        .await;
    assert_eq!(code, 422);
    assert_eq!(
        body,
        json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server rejected our request due to an error in our request","reason":"Invalid","details":{},"code":422})
    );
}

#[tokio::test]
async fn api_82_undecodable_or_huge_json_patches() {
    let ts = start().await;
    ts.raw(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        Some("application/json"),
        r#"{"metadata":{"name":"c"}}"#,
    )
    .await;
    let path = "/api/v1/namespaces/default/configmaps/c";
    let (code, _) = ts
        .raw("PATCH", path, Some("application/json-patch+json"), "{")
        .await;
    assert_eq!(code, 400);
    let (code, _) = ts
        .raw(
            "PATCH",
            path,
            Some("application/json-patch+json"),
            r#"{"op":"add"}"#,
        )
        .await;
    assert_eq!(code, 400);
    let many: Vec<Value> = (0..10_001)
        .map(|_| json!({"op": "test", "path": "/kind", "value": "ConfigMap"}))
        .collect();
    let (code, _) = ts
        .raw(
            "PATCH",
            path,
            Some("application/json-patch+json"),
            &Value::Array(many).to_string(),
        )
        .await;
    assert_eq!(code, 413);
}

#[tokio::test]
async fn api_101_json_patch_removing_the_last_finalizer_deletes() {
    let ts = start().await;
    create_crd(&ts).await;
    kex(
        &ts,
        json!({"metadata": {"name": "k", "finalizers": ["f/x"]}, "spec": {}}),
    )
    .await;
    let path = format!("{KEX}/k");
    let rv0 = ts.server.control().resource_version();
    let (_, deleting) = ts.raw("DELETE", &path, None, "").await;
    let rv = deleting["metadata"]["resourceVersion"].clone();
    let ops = json!([{"op": "test", "path": "/metadata/resourceVersion", "value": rv}, {"op": "remove", "path": "/metadata/finalizers"}]);
    let (code, _) = ts
        .raw(
            "PATCH",
            &path,
            Some("application/json-patch+json"),
            &ops.to_string(),
        )
        .await;
    assert_eq!(code, 200);
    let (_, stream) = ts
        .raw_bytes(
            "GET",
            &format!("{KEX}?watch=true&resourceVersion={rv0}&timeoutSeconds=1"),
            None,
            "",
        )
        .await;
    let events: Vec<Value> = String::from_utf8(stream)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    // DELETE marks it (MODIFIED); removing the last finalizer deletes it in the same write:
    // one DELETED, with no MODIFIED before it (kopf logs "Deleted, really deleted" right away).
    assert_eq!(types, ["MODIFIED", "DELETED"]);
    let rvs: Vec<u64> = events
        .iter()
        .map(|e| {
            e["object"]["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(rvs.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn api_116_events_k8s_io_shares_the_core_store() {
    let ts = start().await;
    let v1 = json!({
        "metadata": {"name": "obj.123abc"},
        "eventTime": "2026-11-25T05:36:56.928290Z",
        "note": "hello", "reason": "Created", "type": "Normal", "action": "Create",
        "regarding": {"kind": "Pod", "name": "p", "namespace": "default"},
        "reportingController": "ctl", "reportingInstance": "ctl-1",
    });
    let (code, created) = ts
        .raw(
            "POST",
            "/apis/events.k8s.io/v1/namespaces/default/events",
            Some("application/json"),
            &v1.to_string(),
        )
        .await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["apiVersion"], "events.k8s.io/v1");
    assert_eq!(created["note"], "hello");
    let (_, core) = ts
        .raw(
            "GET",
            "/api/v1/namespaces/default/events/obj.123abc",
            None,
            "",
        )
        .await;
    assert_eq!(core["apiVersion"], "v1");
    assert_eq!(core["message"], "hello");
    assert_eq!(core["involvedObject"]["name"], "p");
    assert_eq!(core["reportingComponent"], "ctl");
    let (code, patched) = merge(
        &ts,
        "/apis/events.k8s.io/v1/namespaces/default/events/obj.123abc",
        json!({"series": {"count": 2, "lastObservedTime": "2026-11-25T05:37:00.000000Z"}}),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(patched["series"]["count"], 2);
    assert_eq!(patched["note"], "hello");
    let (_, list) = ts
        .raw(
            "GET",
            "/apis/events.k8s.io/v1/events?fieldSelector=regarding.name%3Dp",
            None,
            "",
        )
        .await;
    assert_eq!(list["kind"], "EventList");
    assert_eq!(list["items"][0]["regarding"]["name"], "p");
}

#[tokio::test]
async fn owner_references_orphan_policy_keeps_dependents() {
    let ts = start().await;
    let (_, owner) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            Some("application/json"),
            r#"{"metadata":{"name":"owner"}}"#,
        )
        .await;
    let uid = owner["metadata"]["uid"].as_str().unwrap();
    let dependent = json!({"metadata": {"name": "dep", "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid}]}});
    ts.raw(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        Some("application/json"),
        &dependent.to_string(),
    )
    .await;
    let (code, _) = ts
        .raw(
            "DELETE",
            "/api/v1/namespaces/default/configmaps/owner",
            Some("application/json"),
            r#"{"propagationPolicy":"Orphan"}"#,
        )
        .await;
    assert_eq!(code, 200);
    let (code, dep) = ts
        .raw("GET", "/api/v1/namespaces/default/configmaps/dep", None, "")
        .await;
    assert_eq!(code, 200);
    assert!(dep["metadata"].get("ownerReferences").is_none());
}
