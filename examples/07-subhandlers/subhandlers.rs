//! kopf's example 07-subhandlers: a creation handler registers one sub-handler per item of
//! `spec.items` (ids `create_fn/item1`, `create_fn/item2`); the framework runs them after
//! it, tracks each one's progress and retries on the object, and finishes `create_fn` only
//! once all of them are done.
//!
//! ```sh
//! kopf run examples/07-subhandlers/subhandlers.rs --verbose --embedded --apply examples/crd.yaml --apply examples/obj.yaml
//! ```

#[kopf::on::create("kopfexamples")]
fn create_fn(spec: kopf::Spec, subhandlers: kopf::SubHandlers) {
    for item in spec["items"].as_array().into_iter().flatten() {
        let item = item.as_str().unwrap_or_default().to_string();
        subhandlers.register(item.clone(), move || async move {
            println!("=== Handling creation for {item}. ===");
        });
    }
}
