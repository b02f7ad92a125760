//! The parity operator for kopf-rs: the same handlers as parity.py.

use kopf::serde_json::{Value, json};

#[kopf::on::create("ephemeralvolumeclaims")]
async fn create_fn(spec: kopf::Spec) -> kopf::Result<Value> {
    Ok(json!({"message": "created", "size": spec.get("size")}))
}

#[kopf::on::update("ephemeralvolumeclaims")]
async fn update_fn(diff: kopf::Diff, logger: kopf::Logger) -> kopf::Result<()> {
    logger.info(format!("update_fn got the diff: {diff}"));
    Ok(())
}

#[kopf::on::field("ephemeralvolumeclaims", field = "spec.size")]
async fn size_fn(old: kopf::Old, new: kopf::New) -> kopf::Result<Value> {
    Ok(json!({"old": *old, "new": *new}))
}

#[kopf::on::delete("ephemeralvolumeclaims")]
async fn delete_fn() -> kopf::Result<()> {
    Ok(())
}
