//! kopf's example 17-admission: validating and mutating webhooks served by the operator,
//! with the webhook configurations it manages itself (`auto.kopf.dev`).
//!
//! The webhook server listens on 127.0.0.1 on a free port with a generated certificate,
//! so the API server must run on this machine:
//!
//! ```sh
//! kopf run examples/17-admission/example.rs --verbose --embedded --apply examples/crd.yaml
//! ```
//!
//! kopf's other servers and tunnels (K3d, Minikube, Docker Desktop, ngrok) are not ported;
//! a `kopf::WebhookServer` with `certificate(…)`, `host(…)` and `port(…)` covers the rest.
//! Nor is kopf's `sslpeer`: the server does not ask the API server for a client certificate.

#[kopf::on::startup]
fn config(settings: kopf::OperatorSettings) {
    settings.update(|s| {
        // Plain and simple local endpoint with an auto-generated certificate:
        s.admission.server = Some(kopf::WebhookServer::new());

        // Plain and simple local endpoint with provided certificate (e.g. openssl):
        s.admission.server = Some(
            kopf::WebhookServer::new()
                .certificate("cert.pem", "key.pem")
                .port(1234),
        );

        // The final configuration (overrides the previous values): strictly local.
        s.admission.server = Some(kopf::WebhookServer::auto());
        s.admission.managed = Some("auto.kopf.dev".into());
    });
}

#[kopf::on::validate("kex")]
fn authhook(headers: kopf::Headers, warnings: kopf::Warnings) {
    let user_agent = headers
        .get("user-agent")
        .map(String::as_str)
        .unwrap_or("(unidentified)");
    warnings.push(format!("Accessing as user-agent: {user_agent}"));
    warnings.push("SSL peer is not identified.");
}

#[kopf::on::validate("kex")]
fn validate1(spec: kopf::Spec, dryrun: kopf::DryRun) -> kopf::Result<()> {
    if !*dryrun && spec["field"] == "wrong" {
        return Err(kopf::AdmissionError::new("Meh! I don't like it. Change the field.").into());
    }
    Ok(())
}

#[kopf::on::validate("kex", field = "spec.field", value = "not-allowed")]
fn validate2() -> kopf::Result<()> {
    Err(kopf::AdmissionError::new("I'm too lazy anyway. Go away!")
        .code(555)
        .into())
}

#[kopf::on::validate("kex", subresource = "*")]
fn validate_subresources(
    spec: kopf::Spec,
    status: kopf::Status,
    subresource: kopf::Subresource,
    warnings: kopf::Warnings,
) -> kopf::Result<()> {
    let (wanted, actual) = (&spec["field"], &status["field"]);
    match subresource.as_deref() {
        Some("status") if actual != wanted => {
            Err(kopf::AdmissionError::new("status.field MUST be equal to spec.field!").into())
        }
        None if actual != wanted => {
            warnings.push(format!(
                "Also update status.field to match spec.field: {wanted} != {actual}"
            ));
            Ok(())
        }
        _ => Ok(()),
    }
}

#[kopf::on::mutate("kex", labels = {"somelabel": "somevalue"})]
fn mutate1(patch: kopf::Patch) {
    patch.set("spec.injected", kopf::serde_json::json!(123));
}
