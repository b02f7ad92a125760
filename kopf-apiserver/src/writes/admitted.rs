//! A write through admission, in three steps as kube-apiserver takes them: a dry run
//! under the store's lock shows what would be stored; the webhooks see it without the
//! lock; the admitted object is stored under the lock if the stored object has not changed
//! meanwhile (otherwise the three steps run again).

use super::Target;
use crate::admission::attributes::{Attributes, Gvn, Operation};
use crate::admission::config::{MUTATING_KEY, VALIDATING_KEY};
use crate::admission::{self, Webhooks};
use crate::ops::{NAMESPACE_KEY, WriteOpts};
use crate::registry::Resource;
use crate::shared::Shared;
use crate::status::ApiError;
use crate::store::State;
use serde_json::Value;
use std::sync::Arc;

/// How often a write is previewed again when its object changed while webhooks ran.
const ATTEMPTS: usize = 5;

/// What a write would do.
pub struct Preview {
    /// The stored object it changes (`None` for creations): it must still be there,
    /// unchanged, when the admitted object is stored.
    pub stored: Option<Arc<Value>>,
    /// `oldObject` and `object` for the webhooks.
    pub old: Option<Value>,
    pub new: Option<Value>,
}

/// Webhook configurations are never admitted by webhooks (nothing could be fixed then).
fn exempt(res: &Resource) -> bool {
    let key = |k: &str| k.split_once('/') == Some((res.group.as_str(), res.plural.as_str()));
    key(VALIDATING_KEY) || key(MUTATING_KEY)
}

/// The configured webhooks, read on every write: two map lookups when there are none.
/// Not cached: reading a few configurations costs microseconds next to the milliseconds
/// of a call, and a configuration changed a moment ago is always the one applied.
pub fn webhooks(shared: &Shared, res: &Resource) -> Webhooks {
    if exempt(res) {
        return Webhooks::default();
    }
    let state = shared.lock();
    let (mutating, validating) = (
        state.list(MUTATING_KEY, None),
        state.list(VALIDATING_KEY, None),
    );
    if mutating.is_empty() && validating.is_empty() {
        return Webhooks::default();
    }
    drop(state);
    Webhooks::read(&mutating, &validating)
}

/// A `metadata` string field, `""` when absent.
pub fn meta<'a>(object: &'a Value, field: &str) -> &'a str {
    object
        .pointer(&format!("/metadata/{field}"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The admission attributes of a preview, with what only the store knows.
fn attributes(
    state: &State,
    target: &Target<'_>,
    preview: &Preview,
    opts: &WriteOpts,
    options: &Value,
) -> Attributes {
    let res = target.res;
    let operation = match (&preview.stored, &preview.new) {
        (None, _) => Operation::Create,
        (Some(_), None) => Operation::Delete,
        (Some(_), Some(_)) => Operation::Update,
    };
    let gvn = |name: &str| Gvn {
        group: res.group.clone(),
        version: res.version.clone(),
        name: name.to_string(),
    };
    let kind = if target.sub == Some("scale") {
        Gvn {
            group: "autoscaling".into(),
            version: "v1".into(),
            name: "Scale".into(),
        }
    } else {
        gvn(&res.kind)
    };
    let named = preview.new.as_ref().or(preview.old.as_ref());
    let other_versions = state
        .registry
        .groups()
        .into_iter()
        .filter(|(group, _)| *group == res.group)
        .flat_map(|(_, versions)| versions)
        .filter(|v| *v != res.version && state.registry.find(&res.group, v, &res.plural).is_some())
        .collect();
    let namespace_labels = res.namespaced.then(|| {
        state
            .get(NAMESPACE_KEY, "", target.namespace)
            .and_then(|ns| {
                ns.pointer("/metadata/labels")
                    .and_then(Value::as_object)
                    .cloned()
            })
            .unwrap_or_default()
    });
    Attributes {
        resource: gvn(&res.plural),
        sub_resource: target.sub.unwrap_or("").to_string(),
        kind,
        namespaced: res.namespaced,
        namespace: if res.namespaced {
            target.namespace.to_string()
        } else {
            String::new()
        },
        name: named.map(|o| meta(o, "name")).unwrap_or("").to_string(),
        operation,
        object: preview.new.as_ref().map(|o| opts.present(o).into_owned()),
        old_object: preview.old.as_ref().map(|o| opts.present(o).into_owned()),
        namespace_labels,
        other_versions,
        dry_run: opts.dry_run,
        options: options.clone(),
    }
}

/// A write through admission; `commit` stores the admitted object (`None` for deletions).
pub async fn admitted<T>(
    shared: &Shared,
    target: &Target<'_>,
    webhooks: &Webhooks,
    opts: &WriteOpts,
    options: Value,
    mut preview: impl FnMut(&mut State) -> Result<Preview, ApiError>,
    mut commit: impl FnMut(&mut State, Option<Value>) -> Result<T, ApiError>,
) -> Result<(T, Vec<String>), ApiError> {
    let mut attempted_name = String::new();
    for _ in 0..ATTEMPTS {
        let (stored, mut attrs) = {
            let mut state = shared.lock();
            let preview = preview(&mut state)?;
            let attrs = attributes(&state, target, &preview, opts, &options);
            (preview.stored, attrs)
        };
        attempted_name.clone_from(&attrs.name);
        let warnings = admission::admit(webhooks, &mut attrs).await?;
        let object = attrs.object.take().map(|o| opts.store(o));
        let key = target.store.storage_key();
        let result = shared
            .write(|state| {
                if let Some(stored) = &stored {
                    let now = state.get(&key, meta(stored, "namespace"), meta(stored, "name"));
                    let same = now.is_some_and(|now| {
                        meta(&now, "resourceVersion") == meta(stored, "resourceVersion")
                    });
                    if !same {
                        return Ok(None);
                    }
                }
                commit(state, object.clone()).map(Some)
            })
            .await;
        match result {
            Ok(Some(value)) => return Ok((value, warnings)),
            Ok(None) => continue,
            Err(err) => return Err(err.with_warnings(warnings)),
        }
    }
    // Changed under every attempt: the client retries, as after any conflict.
    let res = target.res;
    Err(ApiError::conflict(
        &res.qualified(),
        &res.group,
        &res.plural,
        &attempted_name,
    ))
}
