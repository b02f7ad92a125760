//! The `/scale` subresource (autoscaling/v1 `Scale`), as kube-apiserver serves it for CRDs
//! that declare `subresources.scale` and for deployments, replica sets and stateful sets:
//! read from, and written into, the object's replicas; `kubectl scale` works.

use crate::glue;
use crate::ops::{self, WriteOpts};
use crate::registry::{Resource, ScalePaths};
use crate::status::ApiError;
use crate::store::State;
use serde_json::{Map, Value, json};

/// `.spec.replicas` → `/spec/replicas`.
fn pointer(path: &str) -> String {
    path.trim_start_matches('.')
        .split('.')
        .fold(String::new(), |mut out, key| {
            out.push('/');
            out.push_str(key);
            out
        })
}

/// `matchLabels` (and `matchExpressions` with `In`) as a selector string: `app=web`.
fn selector_string(selector: &Value) -> String {
    let mut parts: Vec<String> = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    for expression in selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = expression["key"].as_str().unwrap_or_default();
        let values: Vec<&str> = expression["values"]
            .as_array()
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        match expression["operator"].as_str() {
            Some("In") => parts.push(format!("{key} in ({})", values.join(","))),
            Some("NotIn") => parts.push(format!("{key} notin ({})", values.join(","))),
            Some("Exists") => parts.push(key.to_string()),
            Some("DoesNotExist") => parts.push(format!("!{key}")),
            _ => {}
        }
    }
    parts.join(",")
}

/// The object's Scale.
pub fn to_scale(paths: &ScalePaths, object: &Value) -> Value {
    let meta = &object["metadata"];
    let mut metadata = Map::new();
    for key in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(value) = meta.get(key) {
            metadata.insert(key.into(), value.clone());
        }
    }
    let replicas = |path: &str| {
        object
            .pointer(&pointer(path))
            .and_then(Value::as_i64)
            .unwrap_or(0)
    };
    let mut status = json!({"replicas": replicas(&paths.status_replicas)});
    let selector = match &paths.label_selector {
        Some(path) => object
            .pointer(&pointer(path))
            .and_then(Value::as_str)
            .map(str::to_string),
        None => object.pointer("/spec/selector").map(selector_string),
    };
    if let Some(selector) = selector.filter(|s| !s.is_empty()) {
        status["selector"] = json!(selector);
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": metadata,
        "spec": {"replicas": replicas(&paths.spec_replicas)},
        "status": status,
    })
}

fn not_found(res: &Resource, name: &str) -> ApiError {
    ApiError::not_found(&res.qualified(), &res.group, &res.plural, name)
}

/// GET `…/scale`.
pub fn get(state: &State, res: &Resource, namespace: &str, name: &str) -> Result<Value, ApiError> {
    let paths = res.scale.as_ref().ok_or_else(ApiError::not_found_generic)?;
    let object = state
        .get(&res.storage_key(), namespace, name)
        .ok_or_else(|| not_found(res, name))?;
    Ok(to_scale(paths, &object))
}

/// PUT (`patch` is `None`: `body` is the whole Scale) or PATCH (`patch` is the content
/// type) of `…/scale`: the new Scale's `spec.replicas` goes into the object.
pub fn write(
    state: &mut State,
    res: &Resource,
    namespace: &str,
    name: &str,
    patch: Option<&str>,
    body: &[u8],
    opts: &WriteOpts,
) -> Result<Value, ApiError> {
    let paths = res.scale.as_ref().ok_or_else(ApiError::not_found_generic)?;
    let object = state
        .get(&res.storage_key(), namespace, name)
        .ok_or_else(|| not_found(res, name))?;
    let current = to_scale(paths, &object);
    let parse = |bytes: &[u8]| -> Result<Value, ApiError> {
        serde_json::from_slice(bytes)
            .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))
    };
    let scale = match patch.map(|ct| ct.split(';').next().unwrap_or("").trim()) {
        None => parse(body)?,
        Some("application/json-patch+json") => glue::json_patch(&current, &parse(body)?)
            .map_err(|_| ApiError::invalid_message("the JSON patch of the scale failed"))?,
        Some(
            "application/merge-patch+json"
            | "application/strategic-merge-patch+json"
            | "application/apply-patch+yaml",
        ) => {
            let mut scale = current.clone();
            let changes: Value = serde_yaml_ng::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?;
            glue::merge_patch(&mut scale, &changes);
            scale
        }
        Some(other) => {
            return Err(ApiError::unsupported_media_type(format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml ({other})"
            )));
        }
    };
    let Some(replicas) = scale.pointer("/spec/replicas").and_then(Value::as_i64) else {
        return Err(ApiError::invalid_message(format!(
            "Scale.autoscaling \"{name}\" is invalid: spec.replicas: Required value"
        )));
    };
    if replicas < 0 {
        return Err(ApiError::invalid_message(format!(
            "Scale.autoscaling \"{name}\" is invalid: spec.replicas: Invalid value: {replicas}: must be greater than or equal to 0"
        )));
    }
    let mut updated = opts.present(&object).into_owned();
    if let Some(version) = scale
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
    {
        updated["metadata"]["resourceVersion"] = json!(version);
    }
    let target = pointer(&paths.spec_replicas);
    let mut patch = json!({});
    set(&mut patch, &target, json!(replicas));
    glue::merge_patch(&mut updated, &patch);
    let stored = ops::update(state, res, namespace, name, None, opts.store(updated), opts)?;
    Ok(to_scale(paths, &stored))
}

/// Sets a value at a JSON pointer, creating the objects on the way.
fn set(root: &mut Value, pointer: &str, value: Value) {
    let keys: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    let mut here = root;
    for key in &keys[..keys.len().saturating_sub(1)] {
        if !here.get(*key).is_some_and(Value::is_object) {
            here[*key] = json!({});
        }
        here = &mut here[*key];
    }
    if let Some(last) = keys.last() {
        here[*last] = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_show_replicas_and_selectors() {
        let deployment = json!({
            "metadata": {"name": "web", "namespace": "default", "resourceVersion": "7"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}},
            "status": {"replicas": 2},
        });
        let scale = to_scale(&ScalePaths::builtin(), &deployment);
        assert_eq!(scale["spec"]["replicas"], 3);
        assert_eq!(
            scale["status"],
            json!({"replicas": 2, "selector": "app=web"})
        );
        assert_eq!(scale["metadata"]["resourceVersion"], "7");
        let crd_paths = ScalePaths::of_crd(&json!({
            "specReplicasPath": ".spec.size", "statusReplicasPath": ".status.size",
            "labelSelectorPath": ".status.selector"}))
        .unwrap();
        let gizmo =
            json!({"metadata": {"name": "g"}, "spec": {"size": 5}, "status": {"selector": "a=b"}});
        let scale = to_scale(&crd_paths, &gizmo);
        assert_eq!(
            (
                scale["spec"]["replicas"].clone(),
                scale["status"]["replicas"].clone()
            ),
            (json!(5), json!(0))
        );
        assert_eq!(scale["status"]["selector"], "a=b");
    }
}
