//! The operator of kopf's walkthrough, "Starting the operator": it does nothing useful
//! yet, only shows how an operator starts and what it does with existing objects.
//!
//! Run it against the embedded cluster (from the repository's root):
//!
//! ```text
//! kopf run examples/ephemeral/ephemeral.rs --verbose --embedded \
//!     --apply examples/ephemeral/crd.yaml --apply examples/ephemeral/obj.yaml
//! ```

#[kopf::on::create("ephemeralvolumeclaims")]
async fn create_fn(body: kopf::Body) -> kopf::Result<()> {
    println!("A handler is called with body: {body}");
    Ok(())
}
