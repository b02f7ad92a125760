//! kopf's example 08-events: raw watch events, the initial listing included. A failing
//! event handler is logged and ignored; it stops nothing.
//!
//! ```sh
//! kopf run examples/08-events/events.rs --verbose --embedded --apply examples/crd.yaml --apply examples/obj.yaml
//! ```

#[kopf::on::event("kopf.dev", "v1", "kopfexamples")]
fn event_fn_with_error() -> kopf::Result<()> {
    Err(kopf::Error::msg("Oops!"))
}

#[kopf::on::event("kopf.dev", "v1", "kopfexamples")]
fn normal_event_fn(event: kopf::Event) {
    println!("Event received: {}", event.to_json());
}
