//! The benchmark's operator for kopf-rs: the same handlers as bench_operator.py.

use kopf::serde_json::{Value, json};

#[kopf::on::create("kopfexamples")]
async fn create_fn() -> kopf::Result<Value> {
    Ok(json!({"message": "created"}))
}

#[kopf::on::field("kopfexamples", field = "spec.field")]
async fn field_fn(_old: kopf::Old, _new: kopf::New) -> kopf::Result<()> {
    Ok(())
}

#[kopf::on::delete("kopfexamples")]
async fn delete_fn() -> kopf::Result<()> {
    Ok(())
}
