//! Objects as others refer to them: owners of children (`ownerReferences`) and the objects
//! events are about (`involvedObject`). kopf's `build_owner_reference` and
//! `build_object_reference`, for JSON bodies and typed Kubernetes objects alike.

use crate::structs::body::Body;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Marks the implementations for JSON objects (`serde_json::Value`, [`Body`]).
///
/// The traits [`Owner`] and `Child` (of the hierarchies) take a marker type
/// parameter only so that JSON values and every `kube::Resource` can both implement them;
/// it is always inferred and never named by callers.
pub struct AsJson;
/// Marks the implementations for any `kube::Resource` (typed k8s-openapi objects, custom
/// resources, `DynamicObject`), read and written through their `ObjectMeta`.
pub struct AsResource;

/// What kopf reads of an object to refer to it: its type, identity and labels.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub uid: Option<String>,
    pub namespace: Option<String>,
    pub labels: BTreeMap<String, String>,
}

impl Identity {
    /// Reads a JSON object: `apiVersion`, `kind`, and `metadata.{name,uid,namespace,labels}`.
    pub fn of_json(object: &Value) -> Identity {
        let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_owned);
        let meta = object.get("metadata");
        let field = |key: &str| text(meta.and_then(|m| m.get(key)));
        let labels = meta
            .and_then(|m| m.get("labels"))
            .and_then(Value::as_object)
            .map(|labels| {
                labels
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        Identity {
            api_version: text(object.get("apiVersion")),
            kind: text(object.get("kind")),
            name: field("name"),
            uid: field("uid"),
            namespace: field("namespace"),
            labels,
        }
    }

    /// kopf's owner reference: `controller`, `blockOwnerDeletion`, `apiVersion`, `kind`,
    /// `name`, `uid`, in this order, leaving out what is `None`.
    pub fn owner_reference(
        &self,
        controller: Option<bool>,
        block_owner_deletion: Option<bool>,
    ) -> Value {
        let mut reference = Map::new();
        let flags = [
            ("controller", controller),
            ("blockOwnerDeletion", block_owner_deletion),
        ];
        for (key, flag) in flags {
            if let Some(flag) = flag {
                reference.insert(key.into(), Value::Bool(flag));
            }
        }
        for (key, value) in self.type_and_identity() {
            if let Some(value) = value {
                reference.insert(key.into(), Value::String(value.clone()));
            }
        }
        Value::Object(reference)
    }

    /// kopf's object reference for events: `apiVersion`, `kind`, `name`, `uid`,
    /// `namespace`, leaving out what is absent or empty (e.g. the namespace of a
    /// cluster-scoped object).
    pub fn object_reference(&self) -> Value {
        let namespace = ("namespace", &self.namespace);
        let mut reference = Map::new();
        for (key, value) in self.type_and_identity().into_iter().chain([namespace]) {
            if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
                reference.insert(key.into(), Value::String(value.clone()));
            }
        }
        Value::Object(reference)
    }

    fn type_and_identity(&self) -> [(&'static str, &Option<String>); 4] {
        [
            ("apiVersion", &self.api_version),
            ("kind", &self.kind),
            ("name", &self.name),
            ("uid", &self.uid),
        ]
    }
}

/// An object others can refer to: an owner of children, or the object an event is about.
/// Implemented for the handlers' [`Body`], `serde_json::Value`, and any `kube::Resource`
/// that serializes (typed k8s-openapi objects, custom resources, `DynamicObject`).
pub trait Owner<M> {
    /// Its type, identity and labels.
    fn identity(&self) -> Identity;
}

impl Owner<AsJson> for Value {
    fn identity(&self) -> Identity {
        Identity::of_json(self)
    }
}

impl Owner<AsJson> for Body {
    fn identity(&self) -> Identity {
        Identity::of_json(self.raw())
    }
}

impl<K: kube::Resource + serde::Serialize> Owner<AsResource> for K {
    /// The metadata as it is; the type (`apiVersion`, `kind`) as it serializes, which
    /// covers typed objects (their constants) and `DynamicObject` (its `types`) alike.
    fn identity(&self) -> Identity {
        let meta = self.meta();
        let typed = serde_json::to_value(self).unwrap_or(Value::Null);
        let text = |key: &str| typed.get(key).and_then(Value::as_str).map(str::to_owned);
        Identity {
            api_version: text("apiVersion"),
            kind: text("kind"),
            name: meta.name.clone(),
            uid: meta.uid.clone(),
            namespace: meta.namespace.clone(),
            labels: meta.labels.clone().unwrap_or_default(),
        }
    }
}

/// kopf's `build_owner_reference`: `{controller: true, blockOwnerDeletion: true,
/// apiVersion, kind, name, uid}` for the owner (absent fields left out).
pub fn build_owner_reference<M, O: Owner<M> + ?Sized>(owner: &O) -> Value {
    owner.identity().owner_reference(Some(true), Some(true))
}

/// kopf's `build_object_reference`: `{apiVersion, kind, name, uid, namespace}` of the
/// object (absent or empty fields left out), as events refer to it.
pub fn build_object_reference<M, O: Owner<M> + ?Sized>(object: &O) -> Value {
    object.identity().object_reference()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Pod;
    use kube::api::{DynamicObject, ObjectMeta};
    use serde_json::json;

    fn owner() -> Value {
        json!({"apiVersion": "kopf.dev/v1", "kind": "KopfExample",
               "metadata": {"name": "kex", "uid": "u1", "namespace": "ns1",
                            "labels": {"a": "1"}}})
    }

    #[test]
    fn owner_references_are_kopfs_in_kopfs_key_order() {
        let reference = build_owner_reference(&owner());
        assert_eq!(
            serde_json::to_string(&reference).unwrap(),
            r#"{"controller":true,"blockOwnerDeletion":true,"apiVersion":"kopf.dev/v1","kind":"KopfExample","name":"kex","uid":"u1"}"#
        );
        let bare = Identity::of_json(&json!({"metadata": {"uid": "u2"}}));
        assert_eq!(
            bare.owner_reference(None, Some(false)),
            json!({"blockOwnerDeletion": false, "uid": "u2"})
        );
    }

    #[test]
    fn object_references_leave_out_absent_and_empty_fields() {
        assert_eq!(
            build_object_reference(&Body::new(owner())),
            json!({"apiVersion": "kopf.dev/v1", "kind": "KopfExample", "name": "kex", "uid": "u1", "namespace": "ns1"})
        );
        let cluster =
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n", "namespace": ""}});
        assert_eq!(
            build_object_reference(&cluster),
            json!({"apiVersion": "v1", "kind": "Node", "name": "n"})
        );
    }

    #[test]
    fn typed_and_dynamic_objects_are_read_through_their_metadata_and_type() {
        let pod = Pod {
            metadata: ObjectMeta {
                name: Some("p".into()),
                uid: Some("u3".into()),
                namespace: Some("ns".into()),
                labels: Some([("x".to_string(), "y".to_string())].into()),
                ..ObjectMeta::default()
            },
            ..Pod::default()
        };
        let identity = pod.identity();
        assert_eq!(identity.api_version.as_deref(), Some("v1"));
        assert_eq!(identity.kind.as_deref(), Some("Pod"));
        assert_eq!(identity.labels.get("x").map(String::as_str), Some("y"));
        let dynamic: DynamicObject = serde_json::from_value(owner()).unwrap();
        assert_eq!(dynamic.identity(), Identity::of_json(&owner()));
        let odd = json!({"metadata": {"labels": {"a": "1", "odd": 5}}});
        assert_eq!(
            Identity::of_json(&odd).labels.len(),
            1,
            "non-string labels are skipped"
        );
    }
}
