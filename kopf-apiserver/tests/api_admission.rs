//! Dynamic admission control: the server calls the webhooks of stored
//! `ValidatingWebhookConfiguration`s and `MutatingWebhookConfiguration`s over HTTPS (the
//! `caBundle` verified), as kube-apiserver does: denials refuse the write with the
//! webhook's message and store nothing; mutations are stored; dry runs reach webhooks
//! flagged (and refuse webhooks with side effects); warnings become `Warning` headers;
//! slow, garbage-answering or untrusted webhooks follow `failurePolicy`; rules, operations,
//! `namespaceSelector` and `objectSelector` decide what is sent.

use crate::admission_hook;

use admission_hook::Hook;
use http_body_util::BodyExt;
use kopf_test_support::{TestServer, create_crd, kex, kubectl_async, start};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const CONFIGMAPS: &str = "/api/v1/namespaces/default/configmaps";
const VWC: &str = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations";
const MWC: &str = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations";

/// A request through the kube client: status, JSON body and the `Warning` headers.
async fn send(
    ts: &TestServer,
    method: &str,
    path: &str,
    body: &Value,
) -> (u16, Value, Vec<String>) {
    let content_type = if method == "PATCH" {
        "application/merge-patch+json"
    } else {
        "application/json"
    };
    let bytes = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type)
        .body(bytes)
        .expect("a request");
    let response = ts
        .client
        .send(request.map(kube::client::Body::from))
        .await
        .unwrap_or_else(|err| panic!("{method} {path}: {err}"));
    let code = response.status().as_u16();
    let warnings = response
        .headers()
        .get_all("warning")
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (code, value, warnings)
}

/// Stores a webhook configuration (`collection` is `VWC` or `MWC`).
async fn configure(ts: &TestServer, collection: &str, name: &str, webhooks: Value) {
    let kind = if collection == VWC {
        "ValidatingWebhookConfiguration"
    } else {
        "MutatingWebhookConfiguration"
    };
    let config = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind,
                        "metadata": {"name": name}, "webhooks": webhooks});
    let (code, body, _) = send(ts, "POST", collection, &config).await;
    assert_eq!(code, 201, "{body}");
}

async fn unconfigure(ts: &TestServer, collection: &str, name: &str) {
    let (code, body, _) = send(ts, "DELETE", &format!("{collection}/{name}"), &Value::Null).await;
    assert_eq!(code, 200, "{body}");
}

/// A webhook for configmaps' CREATE and UPDATE, side-effect free, on `path` of `hook`.
fn webhook(name: &str, hook: &Hook, path: &str, extra: Value) -> Value {
    let mut webhook = json!({
        "name": name,
        "clientConfig": hook.client_config(path),
        "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                   "resources": ["configmaps"]}],
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
        "timeoutSeconds": 5,
    });
    if let (Some(webhook), Some(extra)) = (webhook.as_object_mut(), extra.as_object()) {
        webhook.extend(extra.clone());
    }
    webhook
}

fn configmap(name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
}

async fn exists(ts: &TestServer, path: &str) -> bool {
    send(ts, "GET", path, &Value::Null).await.0 == 200
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validating_webhooks_deny_and_warn() {
    let ts = start().await;
    let hook = Hook::start("127.0.0.1").await;
    configure(
        &ts,
        VWC,
        "policy",
        json!([webhook("policy.kopf.dev", &hook, "/validate", json!({}))]),
    )
    .await;

    let bad = configmap("bad", json!({"forbidden": "please"}));
    let (code, status, _) = send(&ts, "POST", CONFIGMAPS, &bad).await;
    assert_eq!(code, 403, "{status}");
    assert_eq!(
        status["message"],
        "admission webhook \"policy.kopf.dev\" denied the request: forbidden is forbidden"
    );
    assert!(
        !exists(&ts, &format!("{CONFIGMAPS}/bad")).await,
        "nothing stored"
    );

    let (code, created, warnings) =
        send(&ts, "POST", CONFIGMAPS, &configmap("good", json!({}))).await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(warnings, ["299 - \"checked by the test webhook\""]);
    let request = hook
        .requests("/validate", "good")
        .pop()
        .expect("the webhook was called");
    assert_eq!(request["operation"], "CREATE");
    assert_eq!(request["namespace"], "default");
    assert_eq!(
        request["kind"],
        json!({"group": "", "version": "v1", "kind": "ConfigMap"})
    );
    assert_eq!(
        request["resource"],
        json!({"group": "", "version": "v1", "resource": "configmaps"})
    );
    assert_eq!(request["object"]["metadata"]["name"], "good");
    assert_eq!(request["oldObject"], Value::Null);
    assert_eq!(request["dryRun"], false);
    assert_eq!(request["userInfo"]["username"], "kubernetes-admin");
    assert_eq!(request["options"]["kind"], "CreateOptions");

    // kubectl: the denial is its error; the warning is printed.
    let manifest = ts.write_file("bad.yaml", &serde_yaml_ng::to_string(&bad).expect("YAML"));
    let path = manifest.to_string_lossy().into_owned();
    let output = kubectl_async(&ts.kubeconfig, &ts.dir, &["apply", "-f", &path]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("denied the request: forbidden is forbidden"),
        "{stderr}"
    );
    assert!(
        !exists(&ts, &format!("{CONFIGMAPS}/bad")).await,
        "nothing stored"
    );
    let fine = configmap("fine", json!({"x": "1"}));
    let manifest = ts.write_file("fine.yaml", &serde_yaml_ng::to_string(&fine).expect("YAML"));
    let path = manifest.to_string_lossy().into_owned();
    let output = kubectl_async(&ts.kubeconfig, &ts.dir, &["apply", "-f", &path]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("Warning: checked by the test webhook"),
        "{stderr}"
    );

    // Updates are sent with the old object.
    let path = format!("{CONFIGMAPS}/good");
    let (code, body, _) = send(&ts, "PATCH", &path, &json!({"data": {"forbidden": "now"}})).await;
    assert_eq!(code, 403, "{body}");
    let request = hook.requests("/validate", "good").pop().expect("called");
    assert_eq!(request["operation"], "UPDATE");
    assert_eq!(request["oldObject"]["metadata"]["name"], "good");
    assert_eq!(request["object"]["data"]["forbidden"], "now");
    let (_, stored, _) = send(&ts, "GET", &path, &Value::Null).await;
    assert_eq!(
        stored["data"]["forbidden"],
        Value::Null,
        "the denied update is not stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutating_webhooks_patch_the_stored_object_and_are_reinvoked() {
    let ts = start().await;
    let hook = Hook::start("127.0.0.1").await;
    let reinvoked = json!({"reinvocationPolicy": "IfNeeded"});
    configure(
        &ts,
        MWC,
        "defaults",
        json!([
            webhook("a.kopf.dev", &hook, "/mutate-a", reinvoked),
            webhook("b.kopf.dev", &hook, "/mutate-b", json!({})),
        ]),
    )
    .await;
    configure(
        &ts,
        VWC,
        "policy",
        json!([webhook("v.kopf.dev", &hook, "/validate", json!({}))]),
    )
    .await;

    let (code, created, _) = send(
        &ts,
        "POST",
        CONFIGMAPS,
        &configmap("m1", json!({"own": "x"})),
    )
    .await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["data"], json!({"own": "x", "a": "set", "b": "set"}));
    let (_, stored, _) = send(&ts, "GET", &format!("{CONFIGMAPS}/m1"), &Value::Null).await;
    assert_eq!(stored["data"], json!({"own": "x", "a": "set", "b": "set"}));
    assert_eq!(stored["metadata"]["uid"], created["metadata"]["uid"]);
    // a ran, b changed the object after it, so a ran again; b did not.
    assert_eq!(hook.requests("/mutate-a", "m1").len(), 2);
    assert_eq!(hook.requests("/mutate-b", "m1").len(), 1);
    // Validation sees the mutated object.
    let validated = hook.requests("/validate", "m1").pop().expect("validated");
    assert_eq!(validated["object"]["data"]["b"], "set");

    // Updates are mutated too.
    let path = format!("{CONFIGMAPS}/m1");
    let (code, _, _) = send(
        &ts,
        "PATCH",
        &path,
        &json!({"data": {"a": null, "b": null}}),
    )
    .await;
    assert_eq!(code, 200);
    let (_, stored, _) = send(&ts, "GET", &path, &Value::Null).await;
    assert_eq!(stored["data"], json!({"own": "x", "a": "set", "b": "set"}));
    let update = hook.requests("/mutate-b", "m1").pop().expect("called");
    assert_eq!(
        (&update["operation"], &update["oldObject"]["data"]["b"]),
        (&json!("UPDATE"), &json!("set"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_runs_reach_webhooks_flagged_and_store_nothing() {
    let ts = start().await;
    let hook = Hook::start("127.0.0.1").await;
    configure(
        &ts,
        VWC,
        "policy",
        json!([webhook("v.kopf.dev", &hook, "/validate", json!({}))]),
    )
    .await;
    let manifest = ts.write_file(
        "dry.yaml",
        &serde_yaml_ng::to_string(&configmap("dry", json!({}))).expect("YAML"),
    );
    let path = manifest.to_string_lossy().into_owned();
    let args = ["apply", "--dry-run=server", "-f", &path];
    let output = kubectl_async(&ts.kubeconfig, &ts.dir, &args).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let request = hook
        .requests("/validate", "dry")
        .pop()
        .expect("the webhook was called");
    assert_eq!(request["dryRun"], true);
    assert!(
        !exists(&ts, &format!("{CONFIGMAPS}/dry")).await,
        "nothing stored"
    );

    // A webhook that may have side effects refuses dry runs (and is not called).
    let effects = json!({"sideEffects": "Some"});
    configure(
        &ts,
        VWC,
        "effects",
        json!([webhook("fx.kopf.dev", &hook, "/allow", effects)]),
    )
    .await;
    let output = kubectl_async(&ts.kubeconfig, &ts.dir, &args).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("admission webhook \"fx.kopf.dev\" does not support dry run"),
        "{stderr}"
    );
    assert!(hook.requests("/allow", "dry").is_empty());
    // Without the dry run, it is called.
    let (code, body, _) = send(&ts, "POST", CONFIGMAPS, &configmap("wet", json!({}))).await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(hook.requests("/allow", "wet").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_webhooks_follow_the_failure_policy_within_the_timeout() {
    let ts = start().await;
    let hook = Hook::start("127.0.0.1").await;
    let slow = |policy: &str| {
        webhook(
            "slow.kopf.dev",
            &hook,
            "/slow",
            json!({"timeoutSeconds": 1, "failurePolicy": policy}),
        )
    };
    configure(&ts, VWC, "slow", json!([slow("Ignore")])).await;
    let started = Instant::now();
    let (code, body, _) = send(&ts, "POST", CONFIGMAPS, &configmap("ignored", json!({}))).await;
    assert_eq!(code, 201, "{body}");
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );

    unconfigure(&ts, VWC, "slow").await;
    configure(&ts, VWC, "slow", json!([slow("Fail")])).await;
    // While a request waits for the slow webhook, other requests go on.
    let refused = configmap("refused", json!({}));
    let pending = send(&ts, "POST", CONFIGMAPS, &refused);
    let others = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}});
        let (code, _, _) = send(&ts, "POST", "/api/v1/namespaces/default/secrets", &secret).await;
        let (listed, _, _) = send(&ts, "GET", CONFIGMAPS, &Value::Null).await;
        (code, listed, started.elapsed())
    };
    let started = Instant::now();
    let ((code, status, _), (secret_code, list_code, others_took)) = tokio::join!(pending, others);
    let took = started.elapsed();
    assert_eq!(code, 500, "{status}");
    let message = status["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("failed calling webhook \"slow.kopf.dev\""),
        "{message}"
    );
    assert!(
        took < Duration::from_millis(2500),
        "refused within the timeout: {took:?}"
    );
    assert_eq!((secret_code, list_code), (201, 200));
    assert!(
        others_took < Duration::from_millis(700),
        "not stalled: {others_took:?}"
    );
    assert!(
        !exists(&ts, &format!("{CONFIGMAPS}/refused")).await,
        "nothing stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_or_garbage_answers_are_call_failures() {
    let ts = start().await;
    let hook = Hook::start("127.0.0.1").await;
    let stranger = Hook::start("127.0.0.1").await;
    let cases = [
        // Another CA than the one that signed the webhook's certificate.
        (
            "wrong-ca",
            json!({"url": format!("{}/allow", hook.base), "caBundle": stranger.ca_bundle}),
        ),
        // No CA at all: nothing is trusted.
        ("no-ca", json!({"url": format!("{}/allow", hook.base)})),
        ("garbage", hook.client_config("/garbage")),
        (
            "nobody",
            json!({"url": "https://127.0.0.1:1/allow", "caBundle": hook.ca_bundle}),
        ),
        (
            "service",
            json!({"service": {"namespace": "default", "name": "nowhere"}, "caBundle": hook.ca_bundle}),
        ),
    ];
    for (case, client) in cases {
        for (policy, expected) in [("Fail", 500), ("Ignore", 201)] {
            let mut spec = webhook(
                "hook.kopf.dev",
                &hook,
                "/allow",
                json!({"failurePolicy": policy}),
            );
            spec["clientConfig"] = client.clone();
            configure(&ts, VWC, "case", json!([spec])).await;
            let name = format!("{case}-{}", policy.to_lowercase());
            let (code, body, _) = send(&ts, "POST", CONFIGMAPS, &configmap(&name, json!({}))).await;
            assert_eq!(code, expected, "{case} with {policy}: {body}");
            let stored = exists(&ts, &format!("{CONFIGMAPS}/{name}")).await;
            assert_eq!(stored, expected == 201, "{case} with {policy}");
            unconfigure(&ts, VWC, "case").await;
        }
    }
    assert!(
        hook.requests("/allow", "wrong-ca-fail").is_empty(),
        "TLS failed before any request"
    );

    // A certificate not valid for the host called (it is for 127.0.0.1, not 127.0.0.2).
    let elsewhere = Hook::start("127.0.0.2").await;
    let spec = webhook("host.kopf.dev", &elsewhere, "/allow", json!({}));
    configure(&ts, VWC, "host", json!([spec])).await;
    let (code, body, _) = send(&ts, "POST", CONFIGMAPS, &configmap("host", json!({}))).await;
    assert_eq!(code, 500, "{body}");
    assert!(elsewhere.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_and_selectors_decide_what_is_sent() {
    let ts = start().await;
    let hook = Hook::start("127.0.0.1").await;
    for (name, labels) in [("watched", json!({"team": "a"})), ("other", json!({}))] {
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}});
        let (code, body, _) = send(&ts, "POST", "/api/v1/namespaces", &ns).await;
        assert_eq!(code, 201, "{body}");
    }
    let mut spec = webhook(
        "sel.kopf.dev",
        &hook,
        "/allow",
        json!({
            "namespaceSelector": {"matchLabels": {"team": "a"}},
            "objectSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]},
        }),
    );
    spec["rules"][0]["operations"] = json!(["CREATE", "DELETE"]);
    let status_only = json!({"name": "status.kopf.dev", "clientConfig": hook.client_config("/status"),
        "rules": [{"apiGroups": ["kopf.dev"], "apiVersions": ["*"], "operations": ["*"],
                   "resources": ["kopfexamples/status"], "scope": "Namespaced"}],
        "sideEffects": "NoneOnDryRun", "admissionReviewVersions": ["v1"]});
    configure(&ts, VWC, "selective", json!([spec, status_only])).await;

    let labelled = |name: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"app": "web"}}})
    };
    for (ns, body) in [
        ("other", labelled("elsewhere")),
        ("watched", configmap("unlabelled", json!({}))),
        ("watched", labelled("sent")),
    ] {
        let path = format!("/api/v1/namespaces/{ns}/configmaps");
        let (code, created, _) = send(&ts, "POST", &path, &body).await;
        assert_eq!(code, 201, "{created}");
    }
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "sent-secret", "labels": {"app": "web"}}});
    let (code, _, _) = send(&ts, "POST", "/api/v1/namespaces/watched/secrets", &secret).await;
    assert_eq!(code, 201);
    let path = "/api/v1/namespaces/watched/configmaps/sent";
    let (code, _, _) = send(&ts, "PATCH", path, &json!({"data": {"x": "1"}})).await;
    assert_eq!(code, 200);
    let names: Vec<String> = hook
        .seen()
        .iter()
        .map(|s| format!("{} {}", s.request["operation"], s.request["name"]))
        .collect();
    assert_eq!(
        names,
        ["\"CREATE\" \"sent\""],
        "only the matching create was sent"
    );

    let (code, _, _) = send(&ts, "DELETE", path, &Value::Null).await;
    assert_eq!(code, 200);
    let deleted = hook
        .requests("/allow", "sent")
        .pop()
        .expect("the delete was sent");
    assert_eq!(deleted["operation"], "DELETE");
    assert_eq!(deleted["object"], Value::Null);
    assert_eq!(deleted["oldObject"]["data"]["x"], "1");
    assert_eq!(deleted["options"]["kind"], "DeleteOptions");

    // Subresources: only writes to kopfexamples/status are sent, with subResource.
    create_crd(&ts).await;
    kex(&ts, json!({"apiVersion": "kopf.dev/v1", "kind": "KopfExample", "metadata": {"name": "k"}, "spec": {}})).await;
    let kex_path = "/apis/kopf.dev/v1/namespaces/default/kopfexamples/k";
    let (code, _, _) = send(&ts, "PATCH", kex_path, &json!({"spec": {"a": 1}})).await;
    assert_eq!(code, 200);
    assert!(
        hook.requests("/status", "k").is_empty(),
        "main-resource writes are not sent"
    );
    let (code, _, _) = send(
        &ts,
        "PATCH",
        &format!("{kex_path}/status"),
        &json!({"status": {"ok": true}}),
    )
    .await;
    assert_eq!(code, 200);
    let request = hook
        .requests("/status", "k")
        .pop()
        .expect("the status write was sent");
    assert_eq!(
        (&request["subResource"], &request["operation"]),
        (&json!("status"), &json!("UPDATE"))
    );
    assert_eq!(request["object"]["status"]["ok"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_configurations_are_not_admitted_by_webhooks() {
    let ts = start().await;
    let hook = Hook::start("127.0.0.1").await;
    let mut everything = webhook("all.kopf.dev", &hook, "/garbage", json!({}));
    everything["rules"] = json!([{"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["*"], "resources": ["*/*"]}]);
    configure(&ts, VWC, "everything", json!([everything])).await;
    let (code, _, _) = send(&ts, "POST", CONFIGMAPS, &configmap("blocked", json!({}))).await;
    assert_eq!(code, 500, "the broken webhook refuses everything else");
    // …but not the configurations: the broken one can be fixed or removed.
    configure(
        &ts,
        MWC,
        "another",
        json!([webhook("m.kopf.dev", &hook, "/allow", json!({}))]),
    )
    .await;
    unconfigure(&ts, VWC, "everything").await;
    let (code, body, _) = send(&ts, "POST", CONFIGMAPS, &configmap("free", json!({}))).await;
    assert_eq!(code, 201, "{body}");
    assert!(
        hook.seen()
            .iter()
            .all(|s| s.request["resource"]["group"] != "admissionregistration.k8s.io")
    );
}

const WIDGETS_CRD: &str = r#"{
  "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
  "metadata": {"name": "widgets.example.com"},
  "spec": {"group": "example.com", "scope": "Namespaced",
    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
    "versions": [
      {"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
        "type": "object", "x-kubernetes-preserve-unknown-fields": true}}},
      {"name": "v2", "served": true, "storage": false, "schema": {"openAPIV3Schema": {
        "type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_collections_and_equivalent_versions_are_admitted() {
    let ts = start().await;
    let hook = Hook::start("127.0.0.1").await;
    let crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    let crd: Value = serde_json::from_str(WIDGETS_CRD).expect("JSON");
    assert_eq!(send(&ts, "POST", crds, &crd).await.0, 201);
    let rule = |groups: Value, versions: Value, resources: Value, operations: Value| json!([{"apiGroups": groups, "apiVersions": versions, "resources": resources, "operations": operations}]);
    let mut scales = webhook("scale.kopf.dev", &hook, "/scale", json!({}));
    scales["rules"] = rule(
        json!(["apps"]),
        json!(["v1"]),
        json!(["deployments/scale"]),
        json!(["UPDATE"]),
    );
    let mut deletions = webhook("delete.kopf.dev", &hook, "/delete", json!({}));
    deletions["rules"] = rule(
        json!([""]),
        json!(["v1"]),
        json!(["configmaps"]),
        json!(["DELETE"]),
    );
    let mut v2 = webhook("v2.kopf.dev", &hook, "/v2", json!({}));
    v2["rules"] = rule(
        json!(["example.com"]),
        json!(["v2"]),
        json!(["widgets"]),
        json!(["CREATE"]),
    );
    let mut exact = webhook(
        "exact.kopf.dev",
        &hook,
        "/exact",
        json!({"matchPolicy": "Exact"}),
    );
    exact["rules"] = v2["rules"].clone();
    configure(&ts, VWC, "various", json!([scales, deletions, v2, exact])).await;

    // …/scale: webhooks see Scales.
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}});
    let deployments = "/apis/apps/v1/namespaces/default/deployments";
    assert_eq!(send(&ts, "POST", deployments, &deployment).await.0, 201);
    let output = kubectl_async(
        &ts.kubeconfig,
        &ts.dir,
        &["scale", "deployment/web", "--replicas=3"],
    )
    .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let request = hook
        .requests("/scale", "web")
        .pop()
        .expect("the scale was sent");
    assert_eq!(request["subResource"], "scale");
    assert_eq!(
        request["kind"],
        json!({"group": "autoscaling", "version": "v1", "kind": "Scale"})
    );
    assert_eq!(
        (
            &request["oldObject"]["spec"]["replicas"],
            &request["object"]["spec"]["replicas"]
        ),
        (&json!(1), &json!(3))
    );

    // DELETE of a collection: each object is sent.
    for name in ["c1", "c2"] {
        assert_eq!(
            send(&ts, "POST", CONFIGMAPS, &configmap(name, json!({})))
                .await
                .0,
            201
        );
    }
    let (code, body, _) = send(&ts, "DELETE", CONFIGMAPS, &Value::Null).await;
    assert_eq!(code, 200, "{body}");
    for name in ["c1", "c2"] {
        let request = hook
            .requests("/delete", name)
            .pop()
            .expect("the deletion was sent");
        assert_eq!(request["oldObject"]["metadata"]["name"], name);
    }

    // matchPolicy Equivalent: a v1 request reaches a webhook for v2, at v2.
    let widgets = "/apis/example.com/v1/namespaces/default/widgets";
    let widget =
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}});
    assert_eq!(send(&ts, "POST", widgets, &widget).await.0, 201);
    let request = hook
        .requests("/v2", "w")
        .pop()
        .expect("sent at the equivalent version");
    assert_eq!(request["kind"]["version"], "v2");
    assert_eq!(request["requestKind"]["version"], "v1");
    assert_eq!(request["object"]["apiVersion"], "example.com/v2");
    assert!(
        hook.requests("/exact", "w").is_empty(),
        "Exact does not convert"
    );
}
