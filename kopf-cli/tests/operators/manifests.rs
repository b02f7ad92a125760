//! Handlers of three families on three resources, for `kopf manifests`: what each needs
//! differs (a changing handler patches, an event handler only watches, a timer patches).

#[kopf::on::create("kopf.dev", "v1", "kopfexamples")]
fn create_fn() {}

#[kopf::on::event("v1", "pods")]
fn pod_event() {}

#[kopf::timer("configmaps", interval = 60)]
fn tick() {}
