//! The test CRD (`kopfexamples.kopf.dev`, as in kopf's own examples) and helpers to create
//! and patch its objects through raw requests.

use crate::TestServer;
use serde_json::Value;

/// A CRD for `kopfexamples.kopf.dev` with a status subresource and a schema that preserves
/// unknown fields under `spec` and `status`.
pub const CRD: &str = r#"{
  "apiVersion": "apiextensions.k8s.io/v1",
  "kind": "CustomResourceDefinition",
  "metadata": {"name": "kopfexamples.kopf.dev"},
  "spec": {
    "group": "kopf.dev",
    "scope": "Namespaced",
    "names": {"plural": "kopfexamples", "singular": "kopfexample", "kind": "KopfExample", "shortNames": ["kex"]},
    "versions": [{
      "name": "v1", "served": true, "storage": true,
      "subresources": {"status": {}},
      "schema": {"openAPIV3Schema": {
        "type": "object",
        "properties": {
          "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
          "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
        }
      }}
    }]
  }
}"#;

/// The namespaced collection of the test CRD's objects in `default`.
pub const KEX: &str = "/apis/kopf.dev/v1/namespaces/default/kopfexamples";

/// Creates the test CRD; asserts the 201.
pub async fn create_crd(ts: &TestServer) {
    create_crd_from(ts, CRD).await;
}

/// Creates a CRD from its JSON text; asserts the 201.
pub async fn create_crd_from(ts: &TestServer, crd: &str) {
    let (code, body) = ts
        .raw(
            "POST",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            Some("application/json"),
            crd,
        )
        .await;
    assert_eq!(code, 201, "{body}");
}

/// Creates a test-CRD object in `default`; asserts the 201 and returns the object.
pub async fn kex(ts: &TestServer, body: Value) -> Value {
    let (code, created) = ts
        .raw("POST", KEX, Some("application/json"), &body.to_string())
        .await;
    assert_eq!(code, 201, "{created}");
    created
}

/// A JSON merge-patch of `path`: status and body.
pub async fn merge(ts: &TestServer, path: &str, patch: Value) -> (u16, Value) {
    ts.raw(
        "PATCH",
        path,
        Some("application/merge-patch+json"),
        &patch.to_string(),
    )
    .await
}
