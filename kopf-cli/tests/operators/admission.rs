//! Another handler set under example 17's managed name (`auto.kopf.dev`), for the test that
//! the managed configurations follow the handlers of whichever operator runs: one
//! persistent validating webhook (left in place at exit), one that is not, no mutating
//! ones. The CA is dumped where `ADMISSION_CADUMP` says, for the test to compare.

#[kopf::on::startup]
fn config(settings: kopf::OperatorSettings) {
    settings.update(|s| {
        let mut server = kopf::WebhookServer::auto();
        if let Ok(path) = std::env::var("ADMISSION_CADUMP") {
            server = server.cadump(path);
        }
        s.admission.server = Some(server);
        s.admission.managed = Some("auto.kopf.dev".into());
    });
}

#[kopf::on::validate("kex", operations = ["CREATE"], persistent = true)]
fn second_opinion(spec: kopf::Spec) -> kopf::Result<()> {
    if spec["field"] == "second" {
        return Err(kopf::AdmissionError::new("The second operator says no.").into());
    }
    Ok(())
}

#[kopf::on::validate("kex", id = "updates_only", operations = ["UPDATE"])]
fn updates_only(warnings: kopf::Warnings) {
    warnings.push("Updated under the second operator.");
}
