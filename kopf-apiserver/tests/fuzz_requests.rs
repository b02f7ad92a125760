//! Fuzzing the API server over HTTP with seeded random requests: mangled JSON and YAML,
//! random bytes as protobuf, every patch type, garbage query parameters, on real endpoints.
//! Every answer must be a Kubernetes answer (below 500: bad input is the client's fault),
//! and the server must go on serving. `KOPF_FUZZ_REQUESTS` (default 400) for longer runs.

use kopf_test_support::start;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const PATHS: [&str; 10] = [
    "/api/v1/namespaces/default/configmaps",
    "/api/v1/namespaces/default/configmaps/fuzz",
    "/api/v1/namespaces/default/pods",
    "/api/v1/namespaces/default/pods/fuzz/status",
    "/api/v1/namespaces",
    "/apis/apps/v1/namespaces/default/deployments",
    "/apis/apps/v1/namespaces/default/deployments/fuzz/scale",
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
    "/apis/kopf.dev/v1/namespaces/default/kopfexamples/fuzz",
    "/api/v1/namespaces/default/configmaps/fuzz/../../secrets",
];

const CONTENT_TYPES: [&str; 8] = [
    "application/json",
    "application/yaml",
    "application/merge-patch+json",
    "application/json-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
    "application/vnd.kubernetes.protobuf",
    "text/plain",
];

const QUERIES: [&str; 9] = [
    "",
    "?labelSelector=a%20in%20(b",
    "?fieldSelector=metadata.name%3D%3D%3D",
    "?limit=-1&continue=garbage",
    "?resourceVersion=abc&resourceVersionMatch=Exact",
    "?dryRun=All",
    "?fieldManager=&force=maybe",
    "?propagationPolicy=Sideways",
    "?timeoutSeconds=notanumber",
];

fn body(rng: &mut StdRng) -> Vec<u8> {
    let valid = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "fuzz", "namespace": "default", "labels": {"a": "b"}},
        "data": {"k": "v"},
    });
    let mut bytes = match rng.random_range(0..5) {
        0 => Vec::new(),
        1 => (0..rng.random_range(0..64)).map(|_| rng.random()).collect(),
        // Kubernetes' protobuf envelope, then garbage.
        2 => [
            b"k8s\x00".as_slice(),
            &(0..32).map(|_| rng.random()).collect::<Vec<u8>>(),
        ]
        .concat(),
        3 => json!([{"op": "replace", "path": "/data/k", "value": rng.random::<u32>()}])
            .to_string()
            .into_bytes(),
        _ => valid.to_string().into_bytes(),
    };
    // Mangle: flip, cut or insert a few bytes.
    for _ in 0..rng.random_range(0..3) {
        if bytes.is_empty() {
            break;
        }
        let at = rng.random_range(0..bytes.len());
        match rng.random_range(0..3) {
            0 => bytes[at] = rng.random(),
            1 => bytes.truncate(at),
            _ => bytes.insert(at, b"{[\"\\:,"[rng.random_range(0..6)]),
        }
    }
    bytes
}

#[tokio::test]
async fn random_requests_get_kubernetes_answers_and_the_server_goes_on() {
    let requests: usize = std::env::var("KOPF_FUZZ_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(400);
    let ts = start().await;
    let mut rng = StdRng::seed_from_u64(0x68747470);
    let mut failures = Vec::new();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for i in 0..requests {
        let method = ["GET", "POST", "PUT", "PATCH", "DELETE"][rng.random_range(0..5)];
        let uri = format!(
            "{}{}",
            PATHS[rng.random_range(0..PATHS.len())],
            QUERIES[rng.random_range(0..QUERIES.len())]
        );
        let content_type = CONTENT_TYPES[rng.random_range(0..CONTENT_TYPES.len())];
        let payload = body(&mut rng);
        let request = http::Request::builder()
            .method(method)
            .uri(&uri)
            .header("content-type", content_type)
            .body(kube::client::Body::from(payload.clone()))
            .expect("a request");
        let sent =
            tokio::time::timeout(std::time::Duration::from_secs(10), ts.client.send(request));
        match sent.await {
            Ok(Ok(response)) if response.status().as_u16() >= 500 => failures.push(format!(
                "#{i} {method} {uri} ({content_type}, {:?}) -> {}",
                String::from_utf8_lossy(&payload),
                response.status()
            )),
            Ok(Ok(response)) => *statuses.entry(response.status().as_u16()).or_default() += 1,
            Ok(Err(err)) => failures.push(format!("#{i} {method} {uri}: {err}")),
            Err(_) => failures.push(format!("#{i} {method} {uri}: no answer in 10 s")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} bad answers:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("answers by status: {statuses:?}");
    // The input reached the handlers: some writes succeeded, many were refused as bad input.
    assert!(
        statuses.keys().any(|s| (200..300).contains(s)),
        "{statuses:?}"
    );
    for refused in [400, 404, 415, 422] {
        assert!(
            statuses.contains_key(&refused),
            "no {refused}: {statuses:?}"
        );
    }
    // Still serving, and consistent.
    let namespaces: Value = ts
        .client
        .request(
            http::Request::get("/api/v1/namespaces")
                .body(Vec::new())
                .expect("a request"),
        )
        .await
        .expect("the server still answers");
    assert!(namespaces["items"].is_array());
}
