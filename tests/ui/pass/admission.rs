// Admission handlers with every option and every argument they can take.
#[kopf::on::validate(
    "kopf.dev", "v1", "kopfexamples",
    id = "check",
    operations = ["CREATE", "UPDATE"],
    subresource = "status",
    persistent = true,
    side_effects = true,
    ignore_failures = true,
    labels = {"app": kopf::PRESENT},
    annotations = {"skip": kopf::ABSENT},
    when = |body: &kopf::Body| body.name().is_some(),
    param = 1,
)]
#[allow(clippy::too_many_arguments)]
async fn check_fn(
    operation: kopf::Operation,
    dryrun: kopf::DryRun,
    warnings: kopf::Warnings,
    user: kopf::UserInfo,
    headers: kopf::Headers,
    subresource: kopf::Subresource,
    old: kopf::Old,
    new: kopf::New,
    diff: kopf::Diff,
    spec: kopf::Spec,
    patch: kopf::Patch,
) -> kopf::Result<()> {
    let _ = (operation, dryrun, user, headers, subresource, old, new, diff, spec, patch);
    warnings.push("careful");
    Err(kopf::AdmissionError::new("no").code(403))?
}

#[kopf::on::mutate("pods", operation = "CREATE")]
fn defaults(patch: kopf::Patch, logger: kopf::Logger) {
    patch.set("metadata.labels.mutated", kopf::serde_json::json!("yes"));
    logger.info("mutated");
}

fn main() {}
