//! The write verbs as requests reach them: straight to the store when no webhook is
//! configured (one locked step, as always), else through admission in three steps, as
//! kube-apiserver does: a dry run under the lock shows what would be stored; the webhooks
//! see it without the lock; the admitted object is stored under the lock if the stored
//! object has not changed meanwhile (otherwise the three steps run again).

use crate::admission::attributes::{Attributes, Gvn, Operation};
use crate::admission::config::{MUTATING_KEY, VALIDATING_KEY};
use crate::admission::{self, Webhooks};
use crate::ops::{self, NAMESPACE_KEY, WriteOpts};
use crate::registry::Resource;
use crate::scale;
use crate::shared::Shared;
use crate::status::ApiError;
use crate::store::State;
use serde_json::{Value, json};
use std::sync::Arc;

/// How often a write is previewed again when its object changed while webhooks ran.
const ATTEMPTS: usize = 5;

/// Where a write goes.
pub struct Target<'a> {
    /// The resource as requested (what webhooks match and see).
    pub res: &'a Arc<Resource>,
    /// The resource written to (core Events for `events.k8s.io`).
    pub store: &'a Arc<Resource>,
    /// The namespace from the URL (`""` when cluster-scoped).
    pub namespace: &'a str,
    pub sub: Option<&'a str>,
}

/// What a write would do.
struct Preview {
    /// The stored object it changes (`None` for creations): it must still be there,
    /// unchanged, when the admitted object is stored.
    stored: Option<Arc<Value>>,
    /// `oldObject` and `object` for the webhooks.
    old: Option<Value>,
    new: Option<Value>,
}

/// Webhook configurations are never admitted by webhooks (nothing could be fixed then).
fn exempt(res: &Resource) -> bool {
    format!("{}/{}", res.group, res.plural) == VALIDATING_KEY
        || format!("{}/{}", res.group, res.plural) == MUTATING_KEY
}

/// The configured webhooks, read on every write: two map lookups when there are none.
fn webhooks(shared: &Shared, res: &Resource) -> Webhooks {
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

fn meta<'a>(object: &'a Value, field: &str) -> &'a str {
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
        object: preview.new.as_ref().map(|o| opts.present(o)),
        old_object: preview.old.as_ref().map(|o| opts.present(o)),
        namespace_labels,
        other_versions,
        dry_run: opts.dry_run,
        options: options.clone(),
    }
}

/// A write through admission; `commit` stores the admitted object (`None` for deletions).
async fn admitted<T>(
    shared: &Shared,
    target: &Target<'_>,
    webhooks: &Webhooks,
    opts: &WriteOpts,
    options: Value,
    mut preview: impl FnMut(&mut State) -> Result<Preview, ApiError>,
    mut commit: impl FnMut(&mut State, Option<Value>) -> Result<T, ApiError>,
) -> Result<(T, Vec<String>), ApiError> {
    for _ in 0..ATTEMPTS {
        let (stored, mut attrs) = {
            let mut state = shared.lock();
            let preview = preview(&mut state)?;
            let attrs = attributes(&state, target, &preview, opts, &options);
            (preview.stored, attrs)
        };
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
    let res = target.res;
    Err(ApiError::conflict(
        &res.qualified(),
        &res.group,
        &res.plural,
        "",
    ))
}

fn preview_opts(opts: &WriteOpts) -> WriteOpts {
    WriteOpts {
        dry_run: true,
        ..opts.clone()
    }
}

/// The admitted object, to be stored over the previewed one.
fn over(object: Option<Value>, stored: &Value) -> Result<Value, ApiError> {
    let mut object = object.ok_or_else(|| ApiError::internal("admission lost the object"))?;
    if object.is_object() {
        object["metadata"]["resourceVersion"] = json!(meta(stored, "resourceVersion"));
    }
    Ok(object)
}

fn options_of(opts: &WriteOpts) -> Value {
    let mut options = json!({});
    if opts.dry_run {
        options["dryRun"] = json!(["All"]);
    }
    if let Some(manager) = &opts.field_manager {
        options["fieldManager"] = json!(manager);
    }
    options
}

/// POST.
pub async fn create(
    shared: &Shared,
    target: &Target<'_>,
    body: Value,
    opts: &WriteOpts,
) -> Result<(Value, Vec<String>), ApiError> {
    let (store, ns) = (target.store, target.namespace);
    let webhooks = webhooks(shared, target.res);
    if webhooks.is_empty() {
        let object = shared
            .write(|s| ops::create(s, store, ns, body, opts))
            .await?;
        return Ok((object, Vec::new()));
    }
    let dry = preview_opts(opts);
    let keep = WriteOpts {
        keep_identity: true,
        ..opts.clone()
    };
    let preview = |state: &mut State| {
        let new = ops::create(state, store, ns, body.clone(), &dry)?;
        Ok(Preview {
            stored: None,
            old: None,
            new: Some(new),
        })
    };
    let commit = |state: &mut State, object: Option<Value>| {
        let object = object.ok_or_else(|| ApiError::internal("admission lost the object"))?;
        ops::create(state, store, ns, object, &keep)
    };
    admitted(
        shared,
        target,
        &webhooks,
        opts,
        options_of(opts),
        preview,
        commit,
    )
    .await
}

/// The stored object a write by name changes, or 404.
fn stored(state: &State, target: &Target<'_>, name: &str) -> Result<Arc<Value>, ApiError> {
    let ns = if target.store.namespaced {
        target.namespace
    } else {
        ""
    };
    state
        .get(&target.store.storage_key(), ns, name)
        .ok_or_else(|| {
            let res = target.res;
            ApiError::not_found(&res.qualified(), &res.group, &res.plural, name)
        })
}

/// A change by name: a whole object (PUT) or a patch (PATCH, with its content type).
pub enum Change<'a> {
    Put(Value),
    Patch(&'a str, &'a [u8]),
}

/// PUT (of the object or its status) and PATCH. Returns 201 when an apply patch created
/// the object.
pub async fn update(
    shared: &Shared,
    target: &Target<'_>,
    name: &str,
    change: Change<'_>,
    opts: &WriteOpts,
) -> Result<(u16, Value, Vec<String>), ApiError> {
    let (store, ns, sub) = (target.store, target.namespace, target.sub);
    let status = sub.filter(|s| *s == "status");
    let patch = matches!(change, Change::Patch(..));
    let direct = |state: &mut State, opts: &WriteOpts, change: &Change<'_>| match change {
        Change::Patch(ct, body) => ops::patch(state, store, ns, name, sub, ct, body, opts),
        Change::Put(body) => {
            ops::update(state, store, ns, name, status, body.clone(), opts).map(|v| (200, v))
        }
    };
    let webhooks = webhooks(shared, target.res);
    if webhooks.is_empty() {
        let (code, object) = shared
            .write(|s| match change {
                Change::Put(body) => {
                    ops::update(s, store, ns, name, status, body, opts).map(|v| (200, v))
                }
                change => direct(s, opts, &change),
            })
            .await?;
        return Ok((code, object, Vec::new()));
    }
    let dry = preview_opts(opts);
    let keep = WriteOpts {
        keep_identity: true,
        ..opts.clone()
    };
    let preview = |state: &mut State| {
        let stored = state.get(
            &store.storage_key(),
            if store.namespaced { ns } else { "" },
            name,
        );
        let (_, new) = direct(state, &dry, &change)?;
        Ok(Preview {
            old: stored.as_deref().cloned(),
            stored,
            new: Some(new),
        })
    };
    let commit = |state: &mut State, object: Option<Value>| match self::stored(state, target, name)
    {
        // An apply patch that creates.
        Err(_) if patch => {
            let object = object.ok_or_else(|| ApiError::internal("admission lost the object"))?;
            ops::create(state, store, ns, object, &keep).map(|v| (201, v))
        }
        Err(err) => Err(err),
        Ok(old) => {
            ops::update(state, store, ns, name, status, over(object, &old)?, opts).map(|v| (200, v))
        }
    };
    let ((code, object), warnings) = admitted(
        shared,
        target,
        &webhooks,
        opts,
        options_of(opts),
        preview,
        commit,
    )
    .await?;
    Ok((code, object, warnings))
}

/// DELETE of one object.
pub async fn delete(
    shared: &Shared,
    target: &Target<'_>,
    name: &str,
    options: &Value,
    dry_run: bool,
) -> Result<(Value, Vec<String>), ApiError> {
    let (store, ns) = (target.store, target.namespace);
    let webhooks = webhooks(shared, target.res);
    if webhooks.is_empty() {
        let result = shared
            .write(|s| ops::delete(s, store, ns, name, options, dry_run))
            .await?;
        return Ok((result, Vec::new()));
    }
    let opts = WriteOpts {
        dry_run,
        ..WriteOpts::default()
    };
    let preview = |state: &mut State| {
        let stored = self::stored(state, target, name)?;
        Ok(Preview {
            old: Some((*stored).clone()),
            stored: Some(stored),
            new: None,
        })
    };
    let commit =
        |state: &mut State, _: Option<Value>| ops::delete(state, store, ns, name, options, dry_run);
    let mut options = options.clone();
    if dry_run && options.is_object() {
        options["dryRun"] = json!(["All"]);
    }
    admitted(shared, target, &webhooks, &opts, options, preview, commit).await
}

/// PUT and PATCH of `…/scale`: webhooks see `autoscaling/v1` Scales.
pub async fn scale(
    shared: &Shared,
    target: &Target<'_>,
    name: &str,
    patch: Option<&str>,
    body: &[u8],
    opts: &WriteOpts,
) -> Result<(Value, Vec<String>), ApiError> {
    let (store, ns) = (target.store, target.namespace);
    let webhooks = webhooks(shared, target.res);
    if webhooks.is_empty() {
        let result = shared
            .write(|s| scale::write(s, store, ns, name, patch, body, opts))
            .await?;
        return Ok((result, Vec::new()));
    }
    let dry = preview_opts(opts);
    let preview = |state: &mut State| {
        let stored = self::stored(state, target, name)?;
        let old = scale::get(state, store, ns, name)?;
        let new = scale::write(state, store, ns, name, patch, body, &dry)?;
        Ok(Preview {
            stored: Some(stored),
            old: Some(old),
            new: Some(new),
        })
    };
    let commit = |state: &mut State, object: Option<Value>| {
        let old = self::stored(state, target, name)?;
        let bytes = serde_json::to_vec(&over(object, &old)?)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        scale::write(state, store, ns, name, None, &bytes, opts)
    };
    admitted(
        shared,
        target,
        &webhooks,
        opts,
        options_of(opts),
        preview,
        commit,
    )
    .await
}
