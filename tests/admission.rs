//! Admission webhooks, served by an operator run in-process against the embedded API
//! server: reviews POSTed over HTTPS (trusting only the CA the server generated) are
//! answered as kopf answers them — denials with kopf's message and code, warnings, base64
//! JSON Patches of mutations (and none of validations), the dry-run flag reaching the handler, routing by handler id
//! — and the managed webhook configurations are created with the server's URL and CA,
//! replaced by the next run's handlers, and left with only the persistent webhooks at exit.

use base64::Engine;
use kopf_test_support::{TestServer, create_crd};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

const DEADLINE: Duration = Duration::from_secs(30);
const MANAGED: &str = "admission.kopf.dev";
const VALIDATING: &str =
    "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/admission.kopf.dev";
const MUTATING: &str =
    "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/admission.kopf.dev";

/// What the handlers saw, in order.
static JOURNAL: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn note(what: impl Into<String>) {
    JOURNAL
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(what.into());
}

fn journal() -> Vec<String> {
    JOURNAL.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

// ---- the linked handlers ------------------------------------------------------------

#[kopf::on::validate("kopfexamples", operations = ["CREATE", "UPDATE"], persistent = true)]
async fn check_fn(
    spec: kopf::Spec,
    dryrun: kopf::DryRun,
    operation: kopf::Operation,
    user: kopf::UserInfo,
    warnings: kopf::Warnings,
    patch: kopf::Patch,
) -> kopf::Result<()> {
    // Ignored: the API server refuses a validating webhook's answer with a patch.
    patch.set("spec.validated", json!(true));
    note(format!(
        "check {operation} dryrun={dryrun} by {}",
        user.username
    ));
    match spec["field"].as_str() {
        Some("wrong") => Err(
            kopf::AdmissionError::new("Meh! I don't like it. Change the field.")
                .code(400)
                .into(),
        ),
        Some("crash") => Err(kopf::Error::msg("boom")),
        Some("permanent") => Err(kopf::PermanentError::new("never").into()),
        _ => {
            warnings.push("the field is fine");
            Ok(())
        }
    }
}

/// A `when` filter of the mutating handler: the whole objects' old state and diff.
fn creating(old: kopf::Old, diff: kopf::Diff) -> bool {
    old.is_none() && !diff.is_empty()
}

#[kopf::on::mutate(
    "kopfexamples",
    id = "defaults",
    side_effects = true,
    ignore_failures = true,
    labels = {"app": "kex"},
    when = creating,
)]
async fn mutate_fn(patch: kopf::Patch, old: kopf::Old, new: kopf::New) {
    note(format!(
        "mutate old={} new={}",
        old.is_some(),
        new.is_some()
    ));
    patch.set("spec.touched", json!(true));
    patch.set_keys(&["metadata", "labels", "mutated"], json!("yes"));
}

// ---- helpers ------------------------------------------------------------------------

fn client_config(ca_pem: &str) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.expect("a PEM certificate")).expect("a CA");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// `POST url` over HTTPS/1.1 trusting only `ca_pem`: the status code and the body text;
/// `Err` when the TLS handshake (or the connection) fails.
async fn post(url: &str, ca_pem: &str, body: &str) -> Result<(u16, String), String> {
    let rest = url.strip_prefix("https://").ok_or("not https")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let (host, port) = authority.rsplit_once(':').ok_or("no port")?;
    let port: u16 = port.parse().map_err(|_| "bad port")?;
    let tcp = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| e.to_string())?;
    let name =
        rustls::pki_types::ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
    let connector = tokio_rustls::TlsConnector::from(client_config(ca_pem));
    let mut tls = connector
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    let _ = tls.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let code = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no status line: {text}"))?;
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    Ok((code, body))
}

/// An AdmissionReview request of a kopfexample.
fn review(operation: &str, field: &str, dry_run: bool) -> Value {
    let object = json!({
        "apiVersion": "kopf.dev/v1", "kind": "KopfExample",
        "metadata": {"name": "kex1", "namespace": "default", "labels": {"app": "kex"}},
        "spec": {"field": field},
    });
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": format!("uid-{field}"),
            "kind": {"group": "kopf.dev", "version": "v1", "kind": "KopfExample"},
            "resource": {"group": "kopf.dev", "version": "v1", "resource": "kopfexamples"},
            "requestKind": {"group": "kopf.dev", "version": "v1", "kind": "KopfExample"},
            "requestResource": {"group": "kopf.dev", "version": "v1", "resource": "kopfexamples"},
            "name": "kex1",
            "namespace": "default",
            "operation": operation,
            "userInfo": {"username": "admin", "uid": "u", "groups": ["system:masters"]},
            "object": object,
            "oldObject": if operation == "CREATE" { Value::Null } else { object.clone() },
            "dryRun": dry_run,
        }
    })
}

async fn post_review(url: &str, ca: &str, review: &Value) -> Value {
    let (code, body) = post(url, ca, &review.to_string())
        .await
        .unwrap_or_else(|err| panic!("POST {url}: {err}"));
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).unwrap_or_else(|err| panic!("{err}: {body}"))
}

async fn client_of(ts: &TestServer) -> kube::Client {
    let config = kopf_test_support::config_for(&ts.server.kubeconfig()).await;
    kube::Client::try_from(config).expect("a client")
}

fn settings(cadump: &std::path::Path) -> kopf::Settings {
    let mut settings = kopf::Settings::default();
    settings.admission.server = Some(kopf::WebhookServer::auto().cadump(cadump));
    settings.admission.managed = Some(MANAGED.to_string());
    settings
}

type Running = (
    oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), kopf::OperatorError>>,
);

async fn start(ts: &TestServer, registry: kopf::Registry, settings: kopf::Settings) -> Running {
    let (stop, stopped) = oneshot::channel::<()>();
    let (ready, is_ready) = oneshot::channel::<()>();
    let operator = tokio::spawn(
        kopf::Operator::new(registry)
            .client(client_of(ts).await)
            .settings(settings)
            .cluster_wide()
            .ready(ready)
            .run(async move {
                let _ = stopped.await;
            }),
    );
    tokio::time::timeout(DEADLINE, is_ready)
        .await
        .expect("ready in time")
        .expect("ready");
    (stop, operator)
}

async fn stop((stop, operator): Running) {
    let _ = stop.send(());
    let result = tokio::time::timeout(DEADLINE, operator)
        .await
        .expect("the operator stops in time")
        .expect("no panic");
    assert!(result.is_ok(), "{result:?}");
}

/// The webhooks of a managed configuration, by name.
async fn webhooks(ts: &TestServer, path: &str) -> Vec<Value> {
    let (code, body) = ts.raw("GET", path, None, "").await;
    assert_eq!(code, 200, "{body}");
    body["webhooks"].as_array().cloned().unwrap_or_default()
}

fn decode(base64_text: &Value) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(base64_text.as_str().expect("base64 text"))
        .expect("base64");
    String::from_utf8(bytes).expect("UTF-8")
}

// ---- the tests ----------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviews_are_answered_as_kopf_answers_them_and_configurations_are_managed() {
    let ts = kopf_test_support::start().await;
    create_crd(&ts).await;
    let cadump = ts.dir.join("webhook-ca.pem");
    let registry = kopf::Registry::linked().expect("no duplicates");
    let running = start(&ts, registry, settings(&cadump)).await;

    // The managed configurations: one webhook per handler, the server's URL and CA.
    let validating = webhooks(&ts, VALIDATING).await;
    assert_eq!(validating.len(), 1, "{validating:?}");
    let check = &validating[0];
    assert_eq!(check["name"], "check-fn.admission.kopf.dev");
    let ca = decode(&check["clientConfig"]["caBundle"]);
    assert_eq!(
        ca,
        std::fs::read_to_string(&cadump).expect("the CA is dumped")
    );
    let check_url = check["clientConfig"]["url"]
        .as_str()
        .expect("a URL")
        .to_string();
    assert!(
        check_url.starts_with("https://127.0.0.1:") && check_url.ends_with("/check_fn"),
        "{check_url}"
    );
    assert_eq!(
        check["rules"],
        json!([{"apiGroups": ["kopf.dev"], "apiVersions": ["v1"], "resources": ["kopfexamples"],
                "operations": ["CREATE", "UPDATE"], "scope": "*"}])
    );
    assert_eq!(check["sideEffects"], "None");
    assert_eq!(check["failurePolicy"], "Fail");
    assert_eq!(check["matchPolicy"], "Equivalent");
    assert_eq!(check["timeoutSeconds"], 30);
    assert_eq!(check["admissionReviewVersions"], json!(["v1", "v1beta1"]));
    let mutating = webhooks(&ts, MUTATING).await;
    assert_eq!(mutating.len(), 1, "{mutating:?}");
    let defaults = &mutating[0];
    assert_eq!(defaults["name"], "defaults.admission.kopf.dev");
    assert_eq!(defaults["sideEffects"], "NoneOnDryRun");
    assert_eq!(defaults["failurePolicy"], "Ignore");
    assert_eq!(defaults["rules"][0]["operations"], json!(["*"]));
    assert_eq!(
        defaults["objectSelector"],
        json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["kex"]}]})
    );
    let defaults_url = defaults["clientConfig"]["url"].as_str().expect("a URL");
    let base = check_url.trim_end_matches("/check_fn").to_string();
    assert_eq!(defaults_url, format!("{base}/defaults"));

    // A refusal: kopf's message and the AdmissionError's code; the uid echoed.
    let answer = post_review(&check_url, &ca, &review("CREATE", "wrong", false)).await;
    assert_eq!(
        answer,
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
               "response": {"uid": "uid-wrong", "allowed": false,
                            "status": {"message": "Meh! I don't like it. Change the field.", "code": 400}}})
    );
    // Other errors refuse with code 500.
    let answer = post_review(&check_url, &ca, &review("CREATE", "crash", false)).await;
    assert_eq!(answer["response"]["allowed"], false);
    assert_eq!(
        answer["response"]["status"],
        json!({"message": "boom", "code": 500})
    );
    let answer = post_review(&check_url, &ca, &review("UPDATE", "permanent", false)).await;
    assert_eq!(
        answer["response"]["status"],
        json!({"message": "never", "code": 500})
    );

    // Allowed, with the handler's warning; the dry-run flag and the operation reach it.
    let answer = post_review(&check_url, &ca, &review("UPDATE", "fine", true)).await;
    assert_eq!(
        answer["response"],
        json!({"uid": "uid-fine", "allowed": true, "warnings": ["the field is fine"]})
    );
    assert!(
        journal().contains(&"check UPDATE dryrun=true by admin".to_string()),
        "{:?}",
        journal()
    );

    // A mutation: what the handler set on the patch, as a base64 JSON Patch; routed by
    // id, so the validating handler is not called (no warning).
    let answer = post_review(defaults_url, &ca, &review("CREATE", "fine", false)).await;
    assert_eq!(answer["response"]["allowed"], true);
    assert_eq!(answer["response"]["patchType"], "JSONPatch");
    assert!(answer["response"].get("warnings").is_none(), "{answer}");
    let ops: Value = serde_json::from_str(&decode(&answer["response"]["patch"])).expect("JSON");
    assert_eq!(
        ops,
        json!([
            {"op": "add", "path": "/metadata/labels/mutated", "value": "yes"},
            {"op": "add", "path": "/spec/touched", "value": true},
        ])
    );
    assert!(journal().contains(&"mutate old=false new=true".to_string()));
    // Its `when` callback sees the whole old object: not on updates.
    let answer = post_review(defaults_url, &ca, &review("UPDATE", "fine", false)).await;
    assert_eq!(
        answer["response"],
        json!({"uid": "uid-fine", "allowed": true})
    );

    // A path naming no handler runs none: allowed, nothing to say (as kopf).
    let answer = post_review(
        &format!("{base}/nobody"),
        &ca,
        &review("CREATE", "wrong", false),
    )
    .await;
    assert_eq!(
        answer["response"],
        json!({"uid": "uid-wrong", "allowed": true})
    );

    // Bad webhook requests are HTTP errors, not denials.
    let mut unknown = review("CREATE", "fine", false);
    unknown["request"]["resource"]["resource"] = json!("pods");
    let (code, text) = post(&check_url, &ca, &unknown.to_string())
        .await
        .expect("answered");
    assert_eq!(code, 404, "{text}");
    assert!(
        text.contains("The specified resource has no handlers"),
        "{text}"
    );
    let mut anonymous = review("CREATE", "fine", false);
    anonymous["request"]
        .as_object_mut()
        .expect("an object")
        .remove("userInfo");
    let (code, text) = post(&check_url, &ca, &anonymous.to_string())
        .await
        .expect("answered");
    assert_eq!(
        (code, text.as_str()),
        (400, "400: User info is missing from the admission request.")
    );
    let (code, _) = post(&check_url, &ca, "not json").await.expect("answered");
    assert_eq!(code, 400);

    // A client that trusts another CA is refused at the handshake.
    let other_ca = ts.server.ca_pem().expect("the API server's CA").to_string();
    assert!(post(&check_url, &other_ca, "{}").await.is_err());

    // At exit, only the persistent webhook is left.
    stop(running).await;
    let validating = webhooks(&ts, VALIDATING).await;
    assert_eq!(validating.len(), 1);
    assert_eq!(validating[0]["name"], "check-fn.admission.kopf.dev");
    assert_eq!(webhooks(&ts, MUTATING).await, Vec::<Value>::new());
    assert!(
        post(&check_url, &ca, "{}").await.is_err(),
        "the server is closed"
    );

    // The next run's handlers replace the webhooks, with its own server's URL and CA; its
    // server is configured by a startup handler, as kopf's examples do.
    let registry = kopf::Registry::new()
        .on_startup(configure_from_startup)
        .on_validate("kopfexamples", other_check);
    let cadump = ts.dir.join("webhook-ca-2.pem");
    let _ = CADUMP.set(cadump.clone());
    let running = start(&ts, registry, kopf::Settings::default()).await;
    let validating = webhooks(&ts, VALIDATING).await;
    assert_eq!(validating.len(), 1, "{validating:?}");
    assert_eq!(validating[0]["name"], "other-check.admission.kopf.dev");
    let new_ca = decode(&validating[0]["clientConfig"]["caBundle"]);
    assert_ne!(new_ca, ca, "a new CA for the new server");
    assert_eq!(new_ca, std::fs::read_to_string(&cadump).expect("dumped"));
    let url = validating[0]["clientConfig"]["url"]
        .as_str()
        .expect("a URL")
        .to_string();
    let answer = post_review(&url, &new_ca, &review("DELETE", "x", false)).await;
    assert_eq!(answer["response"]["status"]["code"], 403);
    stop(running).await;
    assert_eq!(webhooks(&ts, VALIDATING).await, Vec::<Value>::new());
}

static CADUMP: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

async fn configure_from_startup(settings: kopf::OperatorSettings) {
    let cadump = CADUMP.get().expect("the CA's path is set").clone();
    settings.update(|s| *s = self::settings(&cadump));
}

async fn other_check(operation: kopf::Operation) -> kopf::Result<()> {
    Err(kopf::AdmissionError::new(format!("no {operation}"))
        .code(403)
        .into())
}

#[tokio::test]
async fn admission_handlers_without_a_server_stop_the_operator_with_kopfs_hint() {
    let ts = kopf_test_support::start().await;
    create_crd(&ts).await;
    let registry = kopf::Registry::new().on_validate("kopfexamples", other_check);
    let result = kopf::Operator::new(registry)
        .client(client_of(&ts).await)
        .cluster_wide()
        .run(std::future::pending())
        .await;
    let err = result.expect_err("the operator fails");
    assert!(
        err.to_string()
            .starts_with("Admission handlers exist, but no admission server/tunnel is configured"),
        "{err}"
    );
}
