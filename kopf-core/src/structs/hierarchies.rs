//! kopf's hierarchies: owning children by their owner (`adopt`), one aspect at a time
//! (`append_owner_reference`, `remove_owner_reference`, `label`, `harmonize_naming`,
//! `adjust_namespace`), with kopf's options `forced`, `strict` and `nested`.
//!
//! Children (see [`Child`]) are changed in place, before they are created; owners (see
//! [`Owner`]) are only read.

use crate::structs::children::{Child, MetaMut, entry};
use crate::structs::references::{Identity, Owner};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use serde_json::{Map, Value};

/// Why an owner cannot own.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HierarchyError {
    #[error("The owner has no uid for its children to refer to.")]
    NoOwnerUid,
    #[error("Name must be set explicitly: couldn't find it automatically.")]
    NoOwnerName,
}

/// kopf's options of the hierarchy functions: `forced` (overwrite the children's own
/// names, namespaces, labels), `strict` (the owner's name as the name, not as the
/// `generateName` prefix), `nested` (label these sub-objects too, e.g. `spec.template`),
/// and the owner references' `controller` / `blockOwnerDeletion` (both `true` by default).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HierarchyOptions {
    pub forced: bool,
    pub strict: bool,
    pub nested: Vec<String>,
    pub controller: Option<bool>,
    pub block_owner_deletion: Option<bool>,
}

impl Default for HierarchyOptions {
    fn default() -> Self {
        HierarchyOptions {
            forced: false,
            strict: false,
            nested: Vec::new(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }
}

impl HierarchyOptions {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn forced(mut self, forced: bool) -> Self {
        self.forced = forced;
        self
    }
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }
    /// Also label the sub-object at this dotted path (repeatable).
    pub fn nested(mut self, path: impl Into<String>) -> Self {
        self.nested.push(path.into());
        self
    }
    /// `None` leaves the field out of the owner reference.
    pub fn controller(mut self, controller: Option<bool>) -> Self {
        self.controller = controller;
        self
    }
    /// `None` leaves the field out of the owner reference.
    pub fn block_owner_deletion(mut self, block: Option<bool>) -> Self {
        self.block_owner_deletion = block;
        self
    }

    /// The owner reference these options build for the owner.
    pub fn build_owner_reference<M, O: Owner<M> + ?Sized>(&self, owner: &O) -> Value {
        owner
            .identity()
            .owner_reference(self.controller, self.block_owner_deletion)
    }

    /// Owner reference, name (prefix), namespace and labels from the owner, as
    /// [`adopt`] does. Nothing is changed when the owner has no uid or no name.
    pub fn adopt<MC, MO, C, O>(&self, child: &mut C, owner: &O) -> Result<(), HierarchyError>
    where
        C: Child<MC> + ?Sized,
        O: Owner<MO> + ?Sized,
    {
        let owner = owner.identity();
        let name = owner.name.as_deref().ok_or(HierarchyError::NoOwnerName)?;
        self.append(child, &owner)?;
        self.harmonize_naming(child, name);
        self.adjust_namespace(child, owner.namespace.as_deref());
        self.label(child, &owner.labels);
        Ok(())
    }

    /// Appends the owner's reference unless one with its uid is there.
    pub fn append_owner_reference<MC, MO, C, O>(
        &self,
        child: &mut C,
        owner: &O,
    ) -> Result<(), HierarchyError>
    where
        C: Child<MC> + ?Sized,
        O: Owner<MO> + ?Sized,
    {
        self.append(child, &owner.identity())
    }

    fn append<MC, C: Child<MC> + ?Sized>(
        &self,
        child: &mut C,
        owner: &Identity,
    ) -> Result<(), HierarchyError> {
        let uid = owner.uid.as_deref().ok_or(HierarchyError::NoOwnerUid)?;
        let json = owner.owner_reference(self.controller, self.block_owner_deletion);
        let text = |field: &Option<String>| field.clone().unwrap_or_default();
        child.visit(&[], &mut |meta| match meta {
            MetaMut::Json(meta) => {
                let Value::Array(refs) = entry(meta, "ownerReferences", Value::Array(vec![]))
                else {
                    return;
                };
                if !refs
                    .iter()
                    .any(|r| r.get("uid").and_then(Value::as_str) == Some(uid))
                {
                    refs.push(json.clone());
                }
            }
            MetaMut::Typed(meta) => {
                let refs = meta.owner_references.get_or_insert_with(Vec::new);
                if !refs.iter().any(|r| r.uid == uid) {
                    refs.push(OwnerReference {
                        api_version: text(&owner.api_version),
                        kind: text(&owner.kind),
                        name: text(&owner.name),
                        uid: uid.to_string(),
                        controller: self.controller,
                        block_owner_deletion: self.block_owner_deletion,
                    });
                }
            }
        });
        Ok(())
    }

    /// Sets the labels: all of them if forced, else only those the children lack.
    pub fn label<M, C, K, V>(&self, child: &mut C, labels: impl IntoIterator<Item = (K, V)>)
    where
        C: Child<M> + ?Sized,
        K: Into<String>,
        V: Into<String>,
    {
        let labels: Vec<(String, String)> = labels
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let forced = self.forced;
        child.visit(&self.nested, &mut |meta| match meta {
            MetaMut::Json(meta) => {
                let Value::Object(own) = entry(meta, "labels", Value::Object(Map::new())) else {
                    return;
                };
                for (key, value) in &labels {
                    if forced || !own.contains_key(key) {
                        own.insert(key.clone(), Value::String(value.clone()));
                    }
                }
            }
            MetaMut::Typed(meta) => {
                let own = meta.labels.get_or_insert_with(Default::default);
                for (key, value) in &labels {
                    if forced || !own.contains_key(key) {
                        own.insert(key.clone(), value.clone());
                    }
                }
            }
        });
    }

    /// Names children that have neither `name` nor `generateName` (all of them if
    /// forced): `generateName: "{name}-"`, or `name` itself if strict.
    pub fn harmonize_naming<M, C: Child<M> + ?Sized>(&self, child: &mut C, name: &str) {
        let (forced, strict) = (self.forced, self.strict);
        let prefix = format!("{name}-");
        child.visit(&[], &mut |meta| match meta {
            MetaMut::Json(meta) => {
                let noname = !meta.contains_key("name") && !meta.contains_key("generateName");
                if forced || noname {
                    let (set, unset, value) = if strict {
                        ("name", "generateName", name)
                    } else {
                        ("generateName", "name", prefix.as_str())
                    };
                    meta.insert(set.into(), Value::String(value.to_string()));
                    meta.remove(unset);
                }
            }
            MetaMut::Typed(meta) => {
                if forced || (meta.name.is_none() && meta.generate_name.is_none()) {
                    if strict {
                        meta.name = Some(name.to_string());
                        meta.generate_name = None;
                    } else {
                        meta.generate_name = Some(prefix.clone());
                        meta.name = None;
                    }
                }
            }
        });
    }

    /// Sets the namespace of children that have none (of all if forced).
    pub fn adjust_namespace<'a, M, C: Child<M> + ?Sized>(
        &self,
        child: &mut C,
        namespace: impl Into<Option<&'a str>>,
    ) {
        let namespace = namespace.into();
        let forced = self.forced;
        child.visit(&[], &mut |meta| match meta {
            MetaMut::Json(meta) => {
                if forced || meta.get("namespace").is_none_or(Value::is_null) {
                    let value = namespace.map_or(Value::Null, |ns| Value::String(ns.into()));
                    meta.insert("namespace".into(), value);
                }
            }
            MetaMut::Typed(meta) => {
                if forced || meta.namespace.is_none() {
                    meta.namespace = namespace.map(str::to_owned);
                }
            }
        });
    }
}

/// kopf's `adopt`: the owner's reference, the owner's name as the children's name prefix
/// (unless they are named), its namespace (unless they have one) and its labels (those
/// they lack). `HierarchyOptions` offers kopf's `forced`, `strict`, `nested`.
pub fn adopt<MC, MO, C, O>(child: &mut C, owner: &O) -> Result<(), HierarchyError>
where
    C: Child<MC> + ?Sized,
    O: Owner<MO> + ?Sized,
{
    HierarchyOptions::default().adopt(child, owner)
}

/// kopf's `append_owner_reference`: unless the children already refer to the owner's uid.
pub fn append_owner_reference<MC, MO, C, O>(child: &mut C, owner: &O) -> Result<(), HierarchyError>
where
    C: Child<MC> + ?Sized,
    O: Owner<MO> + ?Sized,
{
    HierarchyOptions::default().append_owner_reference(child, owner)
}

/// kopf's `remove_owner_reference`: drops the children's references to the owner's uid.
pub fn remove_owner_reference<MC, MO, C, O>(child: &mut C, owner: &O) -> Result<(), HierarchyError>
where
    C: Child<MC> + ?Sized,
    O: Owner<MO> + ?Sized,
{
    let uid = owner.identity().uid.ok_or(HierarchyError::NoOwnerUid)?;
    child.visit(&[], &mut |meta| match meta {
        MetaMut::Json(meta) => {
            if let Value::Array(refs) = entry(meta, "ownerReferences", Value::Array(vec![])) {
                refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(&uid));
            }
        }
        MetaMut::Typed(meta) => {
            let refs = meta.owner_references.get_or_insert_with(Vec::new);
            refs.retain(|r| r.uid != uid);
        }
    });
    Ok(())
}

/// kopf's `label`: sets the labels the children lack (see [`HierarchyOptions`] for
/// `forced` and `nested`).
pub fn label<M, C, K, V>(child: &mut C, labels: impl IntoIterator<Item = (K, V)>)
where
    C: Child<M> + ?Sized,
    K: Into<String>,
    V: Into<String>,
{
    HierarchyOptions::default().label(child, labels)
}

/// kopf's `harmonize_naming`: `generateName: "{name}-"` for children without a name.
pub fn harmonize_naming<M, C: Child<M> + ?Sized>(child: &mut C, name: &str) {
    HierarchyOptions::default().harmonize_naming(child, name)
}

/// kopf's `adjust_namespace`: this namespace for children without one.
pub fn adjust_namespace<'a, M, C: Child<M> + ?Sized>(
    child: &mut C,
    namespace: impl Into<Option<&'a str>>,
) {
    HierarchyOptions::default().adjust_namespace(child, namespace)
}

#[cfg(test)]
mod tests;
