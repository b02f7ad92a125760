//! kopf's example 04-events: Kubernetes Events about the handled object, posted in the
//! background (see them with `kubectl get events`).
//!
//! ```sh
//! kopf run examples/04-events/events.rs --verbose --embedded --apply examples/crd.yaml --apply examples/obj.yaml
//! ```

#[kopf::on::create("kopfexamples")]
fn create_fn(body: kopf::Body) {
    // The all-purpose function for the event creation.
    kopf::event(&body, "SomeType", "SomeReason", "Some message");

    // The shortcuts for the conventional events and common cases.
    kopf::info(&body, "SomeReason", "Some message");
    kopf::warn(&body, "SomeReason", "Some message");

    let failure: Result<(), std::io::Error> = Err(std::io::Error::other("Exception text."));
    if let Err(err) = failure {
        kopf::exception(&body, "SomeReason", format!("Some exception: {err}"));
    }
}
