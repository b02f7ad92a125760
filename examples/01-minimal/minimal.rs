//! kopf's example 01-minimal: one creation handler; what it returns becomes the object's
//! `status.create_fn`.
//!
//! ```sh
//! kopf run examples/01-minimal/minimal.rs --verbose --embedded --apply examples/crd.yaml --apply examples/obj.yaml
//! ```

#[kopf::on::create("kopfexamples")]
fn create_fn(spec: kopf::Spec) -> kopf::Result<kopf::serde_json::Value> {
    println!("And here we are! Creating: {spec}");
    Ok(kopf::serde_json::json!({"message": "hello world"})) // will be the new status
}
