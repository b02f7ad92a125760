//! Rule API-122: access and identity reviews are answered, never stored: a create of a
//! `SelfSubjectAccessReview`, `SubjectAccessReview`, `LocalSubjectAccessReview`,
//! `SelfSubjectRulesReview` or `SelfSubjectReview` returns it with its `status` (allowed
//! for the admin token; its user for whoami), and discovery offers only `create` for them.
//! `kubectl auth can-i` and `kubectl auth whoami` work against the embedded server.

use kopf_test_support::start;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_122_reviews_are_answered_and_kubectl_auth_works() {
    let ts = start().await;
    let (code, review) = ts
        .raw(
            "POST",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            Some("application/json"),
            &json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                    "spec": {"resourceAttributes": {"verb": "create", "resource": "pods", "namespace": "default"}}})
            .to_string(),
        )
        .await;
    assert_eq!(code, 201, "{review}");
    assert_eq!(review["status"]["allowed"], true);
    assert_eq!(review["spec"]["resourceAttributes"]["verb"], "create");
    let (code, listed) = ts
        .raw(
            "GET",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            None,
            "",
        )
        .await;
    assert!(
        code == 405 || listed["items"].as_array().is_some_and(|i| i.is_empty()),
        "not stored: {code} {listed}"
    );
    let (code, discovery) = ts
        .raw("GET", "/apis/authorization.k8s.io/v1", None, "")
        .await;
    assert_eq!(code, 200, "{discovery}");
    let sar = discovery["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "selfsubjectaccessreviews"))
        .expect("offered")
        .clone();
    assert_eq!(sar["verbs"], json!(["create"]));

    assert_eq!(
        ts.kubectl_ok(&["auth", "can-i", "create", "pods"]).trim(),
        "yes"
    );
    assert_eq!(
        ts.kubectl_ok(&[
            "auth",
            "can-i",
            "delete",
            "kopfexamples.kopf.dev",
            "-n",
            "x"
        ])
        .trim(),
        "yes"
    );
    let list = ts.kubectl_ok(&["auth", "can-i", "--list"]);
    assert!(list.contains("*.*"), "{list}");
    let whoami = ts.kubectl_ok(&["auth", "whoami", "-o", "json"]);
    let whoami: serde_json::Value = serde_json::from_str(&whoami).expect("JSON");
    assert_eq!(whoami["status"]["userInfo"]["username"], "kubernetes-admin");
    assert_eq!(whoami["kind"], "SelfSubjectReview");
}
