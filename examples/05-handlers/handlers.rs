//! kopf's example 05-handlers: several handlers per cause, run in the order they are
//! declared; an update handler with the old and new essences and their diff; a field
//! handler for `spec.field` only.
//!
//! ```sh
//! kopf run examples/05-handlers/handlers.rs --verbose --embedded --apply examples/crd.yaml --apply examples/obj.yaml
//! ```

#[kopf::on::resume("kopfexamples")]
fn resume_fn_1() {
    println!("RESUMED 1st");
}

#[kopf::on::create("kopfexamples")]
fn create_fn_1() {
    println!("CREATED 1st");
}

#[kopf::on::resume("kopfexamples")]
fn resume_fn_2() {
    println!("RESUMED 2nd");
}

#[kopf::on::create("kopfexamples")]
fn create_fn_2() {
    println!("CREATED 2nd");
}

#[kopf::on::update("kopfexamples")]
fn update_fn(old: kopf::Old, new: kopf::New, diff: kopf::Diff) {
    println!("UPDATED: {old} -> {new}: {diff}");
}

#[kopf::on::delete("kopfexamples")]
fn delete_fn_1() {
    println!("DELETED 1st");
}

#[kopf::on::delete("kopfexamples")]
fn delete_fn_2() {
    println!("DELETED 2nd");
}

#[kopf::on::field("kopfexamples", field = "spec.field")]
fn field_fn(old: kopf::Old, new: kopf::New) {
    println!("FIELD CHANGED: {old} -> {new}");
}
