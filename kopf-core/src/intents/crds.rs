//! The CRDs of the typed custom resources that handlers select (`#[kopf::on::create(MyKind)]`
//! where `MyKind: CustomResourceExt`), collected at link time, so that `kopf manifests` can
//! deploy them with the operator.

use serde_json::Value;
use std::marker::PhantomData;

/// Every CRD-rendering function the handler attributes emitted; `None` for resources that
/// are not custom resources (built-ins, or types without a CRD).
#[linkme::distributed_slice]
pub static KOPF_CRDS: [fn() -> Option<Value>];

/// Asks a resource type for its CRD without requiring it to have one: `(&&CrdProbe::<K>::new()).crd_json()`
/// picks [`CrdOfCustomResource`] for custom resources, else [`CrdOfAnyResource`].
pub struct CrdProbe<K>(PhantomData<K>);

impl<K> CrdProbe<K> {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        CrdProbe(PhantomData)
    }
}

pub trait CrdOfCustomResource {
    fn crd_json(&self) -> Option<Value>;
}

impl<K: kube::core::CustomResourceExt> CrdOfCustomResource for &CrdProbe<K> {
    fn crd_json(&self) -> Option<Value> {
        serde_json::to_value(K::crd()).ok()
    }
}

pub trait CrdOfAnyResource {
    fn crd_json(&self) -> Option<Value>;
}

impl<K> CrdOfAnyResource for CrdProbe<K> {
    fn crd_json(&self) -> Option<Value> {
        None
    }
}

/// The CRDs of the linked handlers' typed resources, once each, by name.
pub fn linked_crds() -> Vec<Value> {
    let mut crds: Vec<Value> = KOPF_CRDS.iter().filter_map(|crd| crd()).collect();
    crds.sort_by(|a, b| {
        a["metadata"]["name"]
            .to_string()
            .cmp(&b["metadata"]["name"].to_string())
    });
    crds.dedup_by(|a, b| a["metadata"]["name"] == b["metadata"]["name"]);
    crds
}
