//! Admission webhooks end to end: operators serving webhooks (kopf's example 17, a second
//! Rust operator, Python kopf 1.45.2) and the embedded API server calling them for
//! `kubectl`. The managed configurations are created at start with one webhook per
//! handler and the CA of the server that runs, follow the handlers of whichever operator
//! runs, and keep only the persistent webhooks after a graceful stop; kubectl sees the
//! denials with kopf's messages (nothing stored), the mutations on the stored objects,
//! dry runs reaching the handlers as dry runs (nothing stored), and the warnings.

use crate::e2e_support;

use base64::Engine;
use e2e_support::{BUILD_DEADLINE, Cluster, STEP_DEADLINE, operator_file, python_kopf_with_env};
use kopf_test_support::{Process, poll_until_blocking, workspace_root};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

const VALIDATING: &str = "validatingwebhookconfiguration";
const MUTATING: &str = "mutatingwebhookconfiguration";

fn start_cluster(name: &str) -> Cluster {
    let cluster = Cluster::start(name);
    let crd = workspace_root().join("examples/crd.yaml");
    cluster.kubectl_ok(&["apply", "-f", crd.to_str().unwrap()]);
    cluster
}

fn run_rust(cluster: &Cluster, file: &Path, envs: &[(&str, &str)]) -> Process {
    let args = ["--all-namespaces", "--standalone", "--verbose"];
    let mut operator = cluster.kopf_run_with_env(file, &args, envs);
    // Admission handlers alone watch nothing: the configurations say it has started.
    operator.wait_for("Reconfiguring the mutating webhook", BUILD_DEADLINE);
    operator
}

fn stop(mut operator: Process) {
    let status = operator.interrupt();
    let output = operator.output();
    assert!(
        status.success(),
        "the operator exited with {status}:\n{output}"
    );
    assert_eq!(operator.count("panicked"), 0, "{output}");
}

/// The webhooks of a configuration (none when it is absent or has none).
fn webhooks(cluster: &Cluster, kind: &str, name: &str) -> Vec<Value> {
    cluster
        .get_json(kind, name)
        .and_then(|config| config.get("webhooks").cloned())
        .and_then(|hooks| hooks.as_array().cloned())
        .unwrap_or_default()
}

fn names(hooks: &[Value]) -> BTreeSet<String> {
    hooks
        .iter()
        .map(|h| h["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Waits until the configuration's webhooks are exactly those named.
fn wait_for_webhooks(cluster: &Cluster, kind: &str, name: &str, expected: &[&str]) -> Vec<Value> {
    let expected: BTreeSet<String> = expected.iter().map(|n| n.to_string()).collect();
    let found = poll_until_blocking(STEP_DEADLINE, || {
        let hooks = webhooks(cluster, kind, name);
        (names(&hooks) == expected).then_some(hooks)
    });
    found.unwrap_or_else(|| {
        let actual = cluster.get_json(kind, name);
        panic!("the {kind} {name} did not get the webhooks {expected:?}; it is: {actual:#?}")
    })
}

/// The webhook's CA bundle, decoded to PEM.
fn ca_of(webhook: &Value) -> String {
    let encoded = webhook["clientConfig"]["caBundle"]
        .as_str()
        .unwrap_or_else(|| panic!("no caBundle in {webhook}"));
    let pem = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("a base64 caBundle");
    String::from_utf8(pem).expect("a PEM caBundle")
}

fn url_of(webhook: &Value) -> String {
    webhook["clientConfig"]["url"]
        .as_str()
        .unwrap_or_else(|| panic!("no url in {webhook}"))
        .to_string()
}

/// A TLS handshake with the webhook's server, trusting only `ca_pem` and checking the
/// URL's host name: whether the server presents a certificate that CA issued.
fn handshake(url: &str, ca_pem: &str) -> Result<(), String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    let rest = url.strip_prefix("https://").ok_or("not https")?;
    let authority = rest.split('/').next().unwrap_or(rest);
    let (host, port) = authority.rsplit_once(':').ok_or("no port")?;
    let port: u16 = port.parse().map_err(|_| "a bad port")?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        let cert = cert.map_err(|e| e.to_string())?;
        roots.add(cert).map_err(|e| e.to_string())?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
    let mut tls =
        rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let mut tcp = std::net::TcpStream::connect((host, port)).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    while tls.is_handshaking() {
        tls.complete_io(&mut tcp).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// `kubectl apply -f` of a kopfexample named `name` with `spec.field` and these labels.
fn apply(cluster: &Cluster, name: &str, field: &str, labels: Value, args: &[&str]) -> Output {
    let object = json!({
        "apiVersion": "kopf.dev/v1",
        "kind": "KopfExample",
        "metadata": {"name": name, "labels": labels},
        "spec": {"field": field},
    });
    let file = cluster.write_file(&format!("{name}.json"), &object.to_string());
    let mut all = vec!["apply", "-f", file.to_str().unwrap()];
    all.extend_from_slice(args);
    cluster.kubectl(&all)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_refused(output: &Output, message: &str) {
    let err = stderr(output);
    assert!(
        !output.status.success(),
        "accepted, expected {message:?}: {err}"
    );
    assert!(
        err.contains(message),
        "no {message:?} in kubectl's stderr: {err}"
    );
}

fn assert_accepted(output: &Output) -> String {
    let err = stderr(output);
    assert!(output.status.success(), "refused: {err}");
    err
}

const EXAMPLE_VALIDATING: [&str; 4] = [
    "authhook.auto.kopf.dev",
    "validate1.auto.kopf.dev",
    // kopf's id of a handler with a field filter: the function's name, then the field.
    "validate2.spec.field.auto.kopf.dev",
    "validate-subresources.auto.kopf.dev",
];

fn example_17() -> std::path::PathBuf {
    workspace_root().join("examples/17-admission/example.rs")
}

#[test]
fn example_17_is_called_by_kubectl_through_its_managed_configurations() {
    let cluster = start_cluster("admission-example");
    let operator = run_rust(&cluster, &example_17(), &[]);

    // Created at start: one webhook per handler, all with the running server's CA.
    let validating = wait_for_webhooks(&cluster, VALIDATING, "auto.kopf.dev", &EXAMPLE_VALIDATING);
    let mutating = wait_for_webhooks(
        &cluster,
        MUTATING,
        "auto.kopf.dev",
        &["mutate1.auto.kopf.dev"],
    );
    let ca = ca_of(&mutating[0]);
    for hook in validating.iter().chain(&mutating) {
        assert_eq!(ca_of(hook), ca, "one CA for all webhooks: {hook}");
        handshake(&url_of(hook), &ca)
            .unwrap_or_else(|err| panic!("the caBundle does not verify the server: {err}"));
    }
    let validate2 = validating
        .iter()
        .find(|h| h["name"] == "validate2.spec.field.auto.kopf.dev");
    assert!(url_of(validate2.unwrap()).ends_with("/validate2/spec.field"));
    assert_eq!(
        mutating[0]["objectSelector"]["matchExpressions"][0]["key"],
        "somelabel"
    );

    // Denials: kopf's message in kubectl's output, nothing stored.
    let wrong = apply(&cluster, "kex-wrong", "wrong", json!({}), &[]);
    assert_refused(&wrong, "Meh! I don't like it. Change the field.");
    assert!(
        cluster.get_json("kex", "kex-wrong").is_none(),
        "a refused object is stored"
    );
    let lazy = apply(&cluster, "kex-lazy", "not-allowed", json!({}), &[]);
    assert_refused(&lazy, "I'm too lazy anyway. Go away!");
    assert!(
        cluster.get_json("kex", "kex-lazy").is_none(),
        "a refused object is stored"
    );
    // The handler's code reaches the client as the status code.
    let body = json!({
        "apiVersion": "kopf.dev/v1", "kind": "KopfExample",
        "metadata": {"name": "kex-lazy"}, "spec": {"field": "not-allowed"},
    });
    let (code, status) = cluster.block_on(cluster.raw(
        "POST",
        "/apis/kopf.dev/v1/namespaces/default/kopfexamples",
        Some("application/json"),
        &body.to_string(),
    ));
    assert_eq!(code, 555, "{status}");
    assert_eq!(status["code"], 555, "{status}");

    // Dry runs reach the handlers as dry runs: validate1 lets "wrong" through then, the
    // other validating and the mutating handlers are still called; nothing is stored.
    let dry = apply(
        &cluster,
        "kex-dry",
        "wrong",
        json!({"somelabel": "somevalue"}),
        &["--dry-run=server", "-o", "json"],
    );
    assert_accepted(&dry);
    let answered: Value = serde_json::from_slice(&dry.stdout).expect("kubectl's JSON");
    assert_eq!(
        answered["spec"]["injected"], 123,
        "not mutated on a dry run: {answered}"
    );
    assert!(
        cluster.get_json("kex", "kex-dry").is_none(),
        "a dry run stored the object"
    );
    let dry_lazy = apply(
        &cluster,
        "kex-dry",
        "not-allowed",
        json!({}),
        &["--dry-run=server"],
    );
    assert_refused(&dry_lazy, "I'm too lazy anyway. Go away!");

    // Accepted: the mutation is stored (only for the labelled objects), with warnings.
    let good = apply(
        &cluster,
        "kex-good",
        "value",
        json!({"somelabel": "somevalue"}),
        &[],
    );
    let warnings = assert_accepted(&good);
    // The headers are the webhook call's: kube-apiserver's user agent.
    assert!(
        warnings.contains("Warning: Accessing as user-agent: kube-apiserver-admission"),
        "{warnings}"
    );
    assert!(
        warnings.contains("Warning: SSL peer is not identified."),
        "{warnings}"
    );
    let stored = cluster
        .get_json("kex", "kex-good")
        .expect("the accepted object is stored");
    assert_eq!(stored["spec"]["injected"], 123, "not mutated: {stored}");
    // A subresource's write is admitted by the webhook of its subresource.
    let status = |field: &str| {
        let patch = json!({"status": {"field": field}}).to_string();
        cluster.kubectl(&[
            "patch",
            "kex",
            "kex-good",
            "--subresource=status",
            "--type=merge",
            "-p",
            &patch,
        ])
    };
    assert_refused(
        &status("other"),
        "status.field MUST be equal to spec.field!",
    );
    assert_accepted(&status("value"));
    let plain = apply(&cluster, "kex-plain", "value", json!({}), &[]);
    assert_accepted(&plain);
    let stored = cluster
        .get_json("kex", "kex-plain")
        .expect("the accepted object is stored");
    assert!(
        stored["spec"].get("injected").is_none(),
        "mutated without the label: {stored}"
    );

    // A graceful stop leaves no webhook behind (none of the example's is persistent).
    stop(operator);
    assert_eq!(
        webhooks(&cluster, VALIDATING, "auto.kopf.dev"),
        Vec::<Value>::new()
    );
    assert_eq!(
        webhooks(&cluster, MUTATING, "auto.kopf.dev"),
        Vec::<Value>::new()
    );
    assert_accepted(&apply(&cluster, "kex-after", "wrong", json!({}), &[]));
}

#[test]
fn managed_configurations_follow_the_handlers_and_the_ca_of_the_running_operator() {
    let cluster = start_cluster("admission-follow");
    let first = run_rust(&cluster, &example_17(), &[]);
    let before = wait_for_webhooks(&cluster, VALIDATING, "auto.kopf.dev", &EXAMPLE_VALIDATING);
    wait_for_webhooks(
        &cluster,
        MUTATING,
        "auto.kopf.dev",
        &["mutate1.auto.kopf.dev"],
    );
    let old_ca = ca_of(&before[0]);
    stop(first);

    let cadump = cluster.write_file("second-ca.pem", "");
    let cadump_env = cadump.to_str().unwrap();
    let second = run_rust(
        &cluster,
        &operator_file("admission.rs"),
        &[("ADMISSION_CADUMP", cadump_env)],
    );
    let after = wait_for_webhooks(
        &cluster,
        VALIDATING,
        "auto.kopf.dev",
        &["second-opinion.auto.kopf.dev", "updates-only.auto.kopf.dev"],
    );
    assert_eq!(
        webhooks(&cluster, MUTATING, "auto.kopf.dev"),
        Vec::<Value>::new()
    );
    let new_ca = std::fs::read_to_string(&cadump).expect("the dumped CA");
    assert_ne!(new_ca, old_ca, "a new server, a new CA");
    for hook in &after {
        assert_eq!(ca_of(hook), new_ca, "not the running server's CA: {hook}");
        handshake(&url_of(hook), &new_ca).expect("the new CA verifies the new server");
        assert!(
            handshake(&url_of(hook), &old_ca).is_err(),
            "the old CA verifies the new server"
        );
    }
    let second_opinion = after
        .iter()
        .find(|h| h["name"] == "second-opinion.auto.kopf.dev");
    assert_eq!(
        second_opinion.unwrap()["rules"][0]["operations"],
        json!(["CREATE"])
    );
    assert_refused(
        &apply(&cluster, "kex-second", "second", json!({}), &[]),
        "The second operator says no.",
    );
    assert!(cluster.get_json("kex", "kex-second").is_none());
    // The example's handlers are gone: "wrong" passes now.
    assert_accepted(&apply(&cluster, "kex-wrong", "wrong", json!({}), &[]));

    // After a graceful stop, only the persistent webhook stays; with its server gone and
    // failurePolicy Fail, it refuses what it matches (as kube-apiserver would).
    stop(second);
    let left = webhooks(&cluster, VALIDATING, "auto.kopf.dev");
    assert_eq!(
        names(&left),
        BTreeSet::from(["second-opinion.auto.kopf.dev".to_string()])
    );
    let orphaned = apply(&cluster, "kex-orphaned", "value", json!({}), &[]);
    assert_refused(
        &orphaned,
        "failed calling webhook \"second-opinion.auto.kopf.dev\"",
    );
}

#[test]
fn python_kopf_webhooks_are_called_by_the_embedded_server() {
    let cluster = start_cluster("admission-python");
    let cadump = cluster.write_file("python-ca.pem", "");
    let cadump_env = cadump.to_str().unwrap();
    let mut operator = python_kopf_with_env(
        &cluster,
        "admission.py",
        &[("ADMISSION_CADUMP", cadump_env)],
    );
    // Admission handlers alone watch nothing: the configurations say it has started.
    let validating = wait_for_webhooks(
        &cluster,
        VALIDATING,
        "py.kopf.dev",
        &["validate-py.py.kopf.dev"],
    );
    wait_for_webhooks(
        &cluster,
        MUTATING,
        "py.kopf.dev",
        &["mutate-py.py.kopf.dev"],
    );
    // kopf's own self-signed certificate (its own CA) is the caBundle.
    let ca = std::fs::read_to_string(&cadump).expect("the dumped CA");
    assert!(ca.contains("BEGIN CERTIFICATE"), "{ca}");
    assert_eq!(ca_of(&validating[0]), ca);

    let refused = apply(&cluster, "kex-py-no", "python-says-no", json!({}), &[]);
    assert_refused(&refused, "Python kopf refuses it.");
    assert!(
        cluster.get_json("kex", "kex-py-no").is_none(),
        "a refused object is stored"
    );

    let dry = apply(
        &cluster,
        "kex-py-dry",
        "value",
        json!({}),
        &["--dry-run=server"],
    );
    let warnings = assert_accepted(&dry);
    assert!(
        warnings.contains("Warning: Python kopf was here (dryrun=True)."),
        "{warnings}"
    );
    assert!(
        cluster.get_json("kex", "kex-py-dry").is_none(),
        "a dry run stored the object"
    );

    let good = apply(&cluster, "kex-py-yes", "value", json!({}), &[]);
    let warnings = assert_accepted(&good);
    assert!(
        warnings.contains("Warning: Python kopf was here (dryrun=False)."),
        "{warnings}"
    );
    let stored = cluster
        .get_json("kex", "kex-py-yes")
        .expect("the accepted object is stored");
    assert_eq!(
        stored["spec"]["mutated_by"], "python",
        "not mutated: {stored}"
    );

    // Python kopf's cleanup at exit goes through our server too.
    let status = operator.interrupt();
    assert!(
        status.success(),
        "Python kopf exited with {status}:\n{}",
        operator.output()
    );
    assert_eq!(
        webhooks(&cluster, VALIDATING, "py.kopf.dev"),
        Vec::<Value>::new()
    );
    assert_eq!(
        webhooks(&cluster, MUTATING, "py.kopf.dev"),
        Vec::<Value>::new()
    );
}
