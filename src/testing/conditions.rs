//! Conditions on objects for [`Running::wait_for`](super::Running::wait_for): closures over
//! the object, so that they combine with the test's own (`|o| has_finalizer(F)(o) && …`).

use kube::{Resource, ResourceExt};

/// The finalizer kopf puts on objects whose handlers need one (unless
/// `settings.persistence.finalizer` says otherwise).
pub const DEFAULT_FINALIZER: &str = kopf_core::settings::persistence::DEFAULT_FINALIZER;

/// The annotation where kopf keeps the last handled state (the diff-base), by default: it is
/// there once the object's creation (or resumption) has been handled.
pub const LAST_HANDLED: &str = "kopf.zalando.org/last-handled-configuration";

/// The object has this annotation.
pub fn has_annotation<K: Resource>(key: &str) -> impl Fn(&K) -> bool + use<K> {
    let key = key.to_string();
    move |object| object.annotations().contains_key(&key)
}

/// The object has this label.
pub fn has_label<K: Resource>(key: &str) -> impl Fn(&K) -> bool + use<K> {
    let key = key.to_string();
    move |object| object.labels().contains_key(&key)
}

/// The object has this finalizer ([`DEFAULT_FINALIZER`] for kopf's own).
pub fn has_finalizer<K: Resource>(name: &str) -> impl Fn(&K) -> bool + use<K> {
    let name = name.to_string();
    move |object| object.finalizers().contains(&name)
}

/// The object has no finalizer at all.
pub fn has_no_finalizers<K: Resource>() -> impl Fn(&K) -> bool {
    |object: &K| object.finalizers().is_empty()
}

/// kopf's log prefix of an object: `namespace/name`, or `name` when cluster-scoped.
pub(crate) fn prefix_of<K: Resource>(object: &K) -> String {
    match object.namespace() {
        Some(namespace) => format!("{namespace}/{}", object.name_any()),
        None => object.name_any(),
    }
}
