//! Children of owners, as kopf's hierarchies change them: JSON values (an object, or an
//! array of them), any `kube::Resource` that (de)serializes (typed k8s-openapi objects,
//! custom resources, `DynamicObject`), or a `Vec`, slice or array of either — all reached
//! through their metadata.

use crate::structs::references::{AsJson, AsResource};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Map, Value};
use std::marker::PhantomData;

/// Marks the implementations for collections of children (inferred, never named).
pub struct AsEach<M>(PhantomData<M>);

/// The metadata of one child: a JSON object's `metadata`, or a typed object's `ObjectMeta`.
pub enum MetaMut<'a> {
    Json(&'a mut Map<String, Value>),
    Typed(&'a mut ObjectMeta),
}

/// A child object (or several) to adopt: see the module's documentation for what is one.
pub trait Child<M> {
    /// Calls `visit` with the metadata of each object this is, and with that of each of
    /// their sub-objects at the dotted `nested` paths (kopf's `nested=`, for labels), where
    /// those exist and are objects.
    fn visit(&mut self, nested: &[String], visit: &mut dyn FnMut(MetaMut<'_>));
}

impl Child<AsJson> for Value {
    fn visit(&mut self, nested: &[String], visit: &mut dyn FnMut(MetaMut<'_>)) {
        if let Value::Array(items) = self {
            for item in items {
                item.visit(nested, visit);
            }
            return;
        }
        if let Some(meta) = metadata_of(self) {
            visit(MetaMut::Json(meta));
        }
        visit_nested(self, nested, visit);
    }
}

impl<K> Child<AsResource> for K
where
    K: kube::Resource + serde::Serialize + serde::de::DeserializeOwned,
{
    /// Nested sub-objects are reached through the object's JSON form, then read back.
    fn visit(&mut self, nested: &[String], visit: &mut dyn FnMut(MetaMut<'_>)) {
        visit(MetaMut::Typed(self.meta_mut()));
        if nested.is_empty() {
            return;
        }
        let Ok(mut value) = serde_json::to_value(&*self) else {
            return;
        };
        visit_nested(&mut value, nested, visit);
        match serde_json::from_value(value) {
            Ok(updated) => *self = updated,
            Err(err) => {
                tracing::warn!(target: "kopf._kits.hierarchies", "Nested objects cannot be changed: {err}")
            }
        }
    }
}

impl<M, C: Child<M>> Child<AsEach<M>> for [C] {
    fn visit(&mut self, nested: &[String], visit: &mut dyn FnMut(MetaMut<'_>)) {
        for child in self {
            child.visit(nested, visit);
        }
    }
}

impl<M, C: Child<M>> Child<AsEach<M>> for Vec<C> {
    fn visit(&mut self, nested: &[String], visit: &mut dyn FnMut(MetaMut<'_>)) {
        self.as_mut_slice().visit(nested, visit);
    }
}

impl<M, C: Child<M>, const N: usize> Child<AsEach<M>> for [C; N] {
    fn visit(&mut self, nested: &[String], visit: &mut dyn FnMut(MetaMut<'_>)) {
        self.as_mut_slice().visit(nested, visit);
    }
}

/// The object's `metadata`, created if absent (kopf's `setdefault`); `None` for non-objects.
fn metadata_of(object: &mut Value) -> Option<&mut Map<String, Value>> {
    let meta = object
        .as_object_mut()?
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    meta.as_object_mut()
}

fn visit_nested(object: &mut Value, nested: &[String], visit: &mut dyn FnMut(MetaMut<'_>)) {
    for path in nested {
        let sub = path
            .split('.')
            .try_fold(&mut *object, |value, key| value.get_mut(key));
        if let Some(meta) = sub.and_then(metadata_of) {
            visit(MetaMut::Json(meta));
        }
    }
}

/// A list or map under `key` in JSON metadata, created (or replaced if not one) as needed.
pub(crate) fn entry<'m>(
    meta: &'m mut Map<String, Value>,
    key: &str,
    empty: Value,
) -> &'m mut Value {
    let value = meta.entry(key).or_insert_with(|| empty.clone());
    if std::mem::discriminant(value) != std::mem::discriminant(&empty) {
        *value = empty;
    }
    value
}
