//! The write verbs as requests reach them: straight to the store when no webhook is
//! configured (one locked step, as always), else through admission (`admitted`).

mod admitted;

use crate::ops::{self, WriteOpts};
use crate::registry::Resource;
use crate::scale;
use crate::shared::Shared;
use crate::status::ApiError;
use crate::store::State;
use admitted::{Preview, admitted, meta, webhooks};
use serde_json::{Value, json};
use std::sync::Arc;

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
) -> Result<(Arc<Value>, Vec<String>), ApiError> {
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
            new: Some(Arc::unwrap_or_clone(new)),
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

/// The options of a tracked write through `status` or `scale`: its writer's `Update`
/// entry names the subresource, as kube-apiserver's do.
fn through_subresource(target: &Target<'_>, opts: &WriteOpts) -> Option<WriteOpts> {
    let subresource = match target.sub {
        Some("status") => "status",
        Some("scale") => "scale",
        _ => return None,
    };
    opts.manager.as_ref()?;
    Some(WriteOpts {
        subresource: Some(subresource),
        ..opts.clone()
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
) -> Result<(u16, Arc<Value>, Vec<String>), ApiError> {
    let through = through_subresource(target, opts);
    let opts = through.as_ref().unwrap_or(opts);
    let (store, ns, sub) = (target.store, target.namespace, target.sub);
    let status = sub.filter(|s| *s == "status");
    let patch = matches!(change, Change::Patch(..));
    let direct = |state: &mut State, opts: &WriteOpts, change: &Change<'_>| match change {
        Change::Patch(ct, body) => ops::patch(state, store, ns, name, sub, ct, body, opts, None),
        Change::Put(body) => {
            ops::update(state, store, ns, name, status, body.clone(), opts).map(|v| (200, v))
        }
    };
    let webhooks = webhooks(shared, target.res);
    if webhooks.is_empty() {
        // A patch is worked out before the lock, on the version read now (see `PreparedPatch`).
        let (code, object) = match change {
            Change::Put(body) => shared
                .write(|s| ops::update(s, store, ns, name, status, body, opts))
                .await
                .map(|v| (200, v))?,
            Change::Patch(ct, body) => {
                let old = self::stored(&shared.lock(), target, name).ok();
                let prepared =
                    old.and_then(|old| ops::prepare_patch(store, old, name, sub, ct, body, opts));
                shared
                    .write(|s| ops::patch(s, store, ns, name, sub, ct, body, opts, prepared))
                    .await?
            }
        };
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
            new: Some(Arc::unwrap_or_clone(new)),
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

/// DELETE of a collection: each object `select` picks is deleted as by its own DELETE.
/// Without webhooks, all in one step (those that cannot be deleted are left out); with
/// webhooks, each is admitted on its own, and the first refusal ends the request.
pub async fn delete_collection(
    shared: &Shared,
    res: &Arc<Resource>,
    namespace: Option<&str>,
    select: impl Fn(&Value) -> bool,
    dry_run: bool,
) -> Result<(Vec<Value>, Vec<String>), ApiError> {
    let key = res.storage_key();
    let webhooks = webhooks(shared, res);
    if webhooks.is_empty() {
        let deleted = shared
            .write(|state| {
                let mut deleted = Vec::new();
                for item in state
                    .list(&key, namespace)
                    .into_iter()
                    .filter(|i| select(i))
                {
                    let (ns, name) = (meta(&item, "namespace"), meta(&item, "name"));
                    if ops::delete(state, res, ns, name, &json!({}), dry_run).is_ok() {
                        deleted.push((*item).clone());
                    }
                }
                Ok(deleted)
            })
            .await?;
        return Ok((deleted, Vec::new()));
    }
    let items: Vec<Arc<Value>> = shared.lock().list(&key, namespace);
    let (mut deleted, mut warnings) = (Vec::new(), Vec::new());
    for item in items.into_iter().filter(|i| select(i)) {
        let target = Target {
            res,
            store: res,
            namespace: meta(&item, "namespace"),
            sub: None,
        };
        match delete(shared, &target, meta(&item, "name"), &json!({}), dry_run).await {
            Ok((_, more)) => {
                warnings.extend(more);
                deleted.push((*item).clone());
            }
            // Gone meanwhile: as if it had not been listed.
            Err(err) if err.code == 404 => {}
            Err(err) => {
                warnings.extend(err.warnings.iter().cloned());
                return Err(err.with_warnings(warnings));
            }
        }
    }
    Ok((deleted, warnings))
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
    let through = through_subresource(target, opts);
    let opts = through.as_ref().unwrap_or(opts);
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
