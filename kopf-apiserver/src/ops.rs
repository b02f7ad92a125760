//! The write operations: create, update, patch, delete, and what follows a removal
//! (CRD instances, namespace contents, garbage collection by ownerReferences).

use crate::glue;
use crate::registry::Resource;
use crate::status::{ApiError, success_status};
use crate::store::State;
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use std::sync::Arc;

pub const CRD_KEY: &str = "apiextensions.k8s.io/customresourcedefinitions";
pub const NAMESPACE_KEY: &str = "/namespaces";

/// Query options shared by all writes.
#[derive(Clone, Debug, Default)]
pub struct WriteOpts {
    pub dry_run: bool,
    pub field_manager: Option<String>,
    pub force: Option<bool>,
    /// `fieldValidation=Strict`.
    pub strict: bool,
    /// How clients see stored objects, when that differs (events.k8s.io Events).
    pub view: Option<View>,
    /// The object was previewed and admitted by webhooks: a create keeps the uid and
    /// creationTimestamp they saw.
    pub keep_identity: bool,
    /// Who writes, for `managedFields` (`Update` entries): the `fieldManager` parameter,
    /// else the client's User-Agent up to its first `/`, as kube-apiserver names them.
    /// `None`: not tracked (server-side apply tracks its own `Apply` entries).
    pub manager: Option<String>,
    /// The subresource written through (`status`, `scale`): its `Update` entry is its own.
    pub subresource: Option<&'static str>,
}

/// A pair of conversions between the stored shape and the shape a client patches.
#[derive(Clone, Copy, Debug)]
pub struct View {
    pub present: fn(&Value) -> Value,
    pub store: fn(&Value) -> Value,
}

impl WriteOpts {
    /// The object as the client's resource shows it: borrowed when no view translates it
    /// (no copy of the object, `managedFields` and all, on every response).
    pub fn present<'v>(&self, stored: &'v Value) -> Cow<'v, Value> {
        match self.view {
            Some(view) => Cow::Owned((view.present)(stored)),
            None => Cow::Borrowed(stored),
        }
    }

    pub fn store(&self, presented: Value) -> Value {
        match self.view {
            Some(view) => (view.store)(&presented),
            None => presented,
        }
    }
}

/// Now, RFC 3339 with seconds and `Z`; formatted once a second per thread (every tracked
/// write stamps its `managedFields` entry).
pub fn now() -> String {
    thread_local! {
        static LAST: std::cell::RefCell<(i64, String)> = const { std::cell::RefCell::new((0, String::new())) };
    }
    let now = jiff::Timestamp::now();
    LAST.with_borrow_mut(|(second, text)| {
        if *second != now.as_second() || text.is_empty() {
            *second = now.as_second();
            *text = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        }
        text.clone()
    })
}

fn meta_str<'a>(object: &'a Value, field: &str) -> &'a str {
    object
        .get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn meta_mut(object: &mut Value) -> &mut Map<String, Value> {
    if !object.get("metadata").is_some_and(Value::is_object) {
        object["metadata"] = Value::Object(Map::new());
    }
    match object.get_mut("metadata") {
        Some(Value::Object(meta)) => meta,
        // Just ensured above.
        _ => unreachable!("metadata is an object"),
    }
}

fn finalizers(object: &Value) -> Vec<String> {
    object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn is_deleting(object: &Value) -> bool {
    object
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

/// Drops unknown, null and empty metadata fields (API-38).
fn sanitize_metadata(object: &mut Value) {
    let meta = meta_mut(object);
    meta.retain(|key, value| {
        if !crate::algo::schema::OBJECT_META_FIELDS.contains(&key.as_str()) || value.is_null() {
            return false;
        }
        match key.as_str() {
            // kubectl's protobuf bodies carry every string, empty ones too.
            "generateName" => value.as_str().is_some_and(|g| !g.is_empty()),
            "labels" | "annotations" => value.as_object().is_some_and(|m| !m.is_empty()),
            "finalizers" | "ownerReferences" | "managedFields" => {
                value.as_array().is_some_and(|a| !a.is_empty())
            }
            _ => true,
        }
    });
}

/// A namespace is labelled with its name (`kubernetes.io/metadata.name`), whatever the
/// writer sent, as kube-apiserver does since 1.21.
fn label_namespace(res: &Resource, object: &mut Value) {
    if !(res.group.is_empty() && res.plural == "namespaces") {
        return;
    }
    let name = meta_str(object, "name").to_string();
    let meta = meta_mut(object);
    if !meta.get("labels").is_some_and(Value::is_object) {
        meta.insert("labels".into(), json!({}));
    }
    if let Some(Value::Object(labels)) = meta.get_mut("labels") {
        labels.insert("kubernetes.io/metadata.name".into(), json!(name));
    }
}

/// Names: DNS subdomains (API-37).
fn validate_name(res: &Resource, object: &Value) -> Result<(), ApiError> {
    let name = meta_str(object, "name");
    let valid = name.len() <= 253
        && !name.is_empty()
        && name.split('.').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        });
    if valid {
        Ok(())
    } else {
        Err(ApiError::invalid(
            &res.kind,
            &res.group,
            name,
            &[(
                "metadata.name".into(),
                format!(
                    "Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
                ),
            )],
        ))
    }
}

/// Prunes and defaults a custom object by its schema (API-111, API-112).
fn apply_schema(res: &Resource, object: &mut Value) {
    if let Some(schema) = &res.schema {
        crate::algo::schema::prune(object, schema);
        crate::algo::schema::drop_nulls(object, schema);
        crate::algo::schema::apply_defaults(object, schema);
    }
}

/// Every object's labels and annotations, and a custom object's values against its
/// schema (API-128); an update is refused only for the values it changed.
fn validate_values(res: &Resource, old: Option<&Value>, object: &Value) -> Result<(), ApiError> {
    let metadata = object.get("metadata").unwrap_or(&Value::Null);
    let mut errors: Vec<_> = crate::algo::names::validate_metadata(metadata, res.namespaced)
        .into_iter()
        .filter(|e| {
            e.field.starts_with("metadata.labels") || e.field.starts_with("metadata.annotations")
        })
        .collect();
    if let Some(schema) = &res.schema {
        let found = crate::algo::validation::validate(object, schema);
        errors.extend(match old {
            Some(old) => crate::algo::validation::ratchet(found, old, object),
            None => found,
        });
    }
    if errors.is_empty() {
        return Ok(());
    }
    Err(ApiError::invalid_fields(
        &res.kind,
        &res.group,
        meta_str(object, "name"),
        &errors,
    ))
}

/// Whether two maps are equal but for the `skipped` keys.
fn equal_except(a: &Map<String, Value>, b: &Map<String, Value>, skipped: &[&str]) -> bool {
    let kept = |key: &String| !skipped.contains(&key.as_str());
    let size = |m: &Map<String, Value>| m.keys().filter(|k| kept(k)).count();
    size(a) == size(b) && a.iter().all(|(k, v)| !kept(k) || b.get(k) == Some(v))
}

/// Whether the part of an object whose change bumps `generation` (API-92) is the same in
/// both: all but metadata, type and (with a status subresource) status. Compared in
/// place: writes are frequent, objects' copies are not free.
fn same_spec_part(res: &Resource, a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return a == b;
    };
    let skipped: &[&str] = if res.status {
        &["metadata", "apiVersion", "kind", "status"]
    } else {
        &["metadata", "apiVersion", "kind"]
    };
    equal_except(a, b, skipped)
}

/// Whether two objects are equal but for their `managedFields` (a write that changes
/// nothing else is not stored).
fn equal_but_managed_fields(a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return a == b;
    };
    if !equal_except(a, b, &["metadata"]) {
        return false;
    }
    match (a.get("metadata"), b.get("metadata")) {
        (Some(Value::Object(ma)), Some(Value::Object(mb))) => {
            equal_except(ma, mb, &["managedFields"])
        }
        (ma, mb) => ma == mb,
    }
}

fn namespace_check(
    state: &State,
    res: &Resource,
    namespace: &str,
    name: &str,
) -> Result<(), ApiError> {
    if !res.namespaced {
        return Ok(());
    }
    match state.get(NAMESPACE_KEY, "", namespace) {
        None => Err(ApiError::not_found("namespaces", "", "namespaces", namespace)),
        Some(ns) if is_deleting(&ns) => Err(ApiError::forbidden(format!(
            "{} \"{}\" is forbidden: unable to create new content in namespace {namespace} because it is being terminated",
            res.qualified(),
            name,
        ))
        .with_details(json!({"name": name, "group": res.group, "kind": res.plural}))),
        Some(_) => Ok(()),
    }
}

const GENERATE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn generate_suffix() -> String {
    (0..5)
        .map(|_| GENERATE_ALPHABET[rand::random_range(0..GENERATE_ALPHABET.len())] as char)
        .collect()
}

/// POST (API-30..37).
pub fn create(
    state: &mut State,
    res: &Resource,
    namespace: &str,
    mut body: Value,
    opts: &WriteOpts,
) -> Result<Arc<Value>, ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    body["apiVersion"] = json!(res.api_version());
    body["kind"] = json!(res.kind);
    let meta = meta_mut(&mut body);
    if res.namespaced {
        match meta.get("namespace").and_then(Value::as_str) {
            Some(ns) if !ns.is_empty() && ns != namespace => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            _ => {}
        }
        meta.insert("namespace".into(), json!(namespace));
    } else {
        meta.remove("namespace");
    }
    if meta
        .get("resourceVersion")
        .and_then(Value::as_str)
        .is_some_and(|rv| !rv.is_empty())
    {
        return Err(ApiError::bad_request(
            "resourceVersion should not be set on objects to be created",
        ));
    }
    meta.remove("resourceVersion");
    let name = meta
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let name = if name.is_empty() {
        let prefix = meta
            .get("generateName")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if prefix.is_empty() {
            return Err(ApiError::invalid(
                &res.kind,
                &res.group,
                "",
                &[(
                    "metadata.name".into(),
                    "Required value: name or generateName is required".into(),
                )],
            ));
        }
        let prefix: String = prefix.chars().take(58).collect();
        let mut name = format!("{prefix}{}", generate_suffix());
        while state.get(&res.storage_key(), namespace, &name).is_some() {
            name = format!("{prefix}{}", generate_suffix());
        }
        name
    } else {
        name
    };
    meta.insert("name".into(), json!(name));
    let previewed = opts.keep_identity && meta.get("uid").is_some_and(Value::is_string);
    if !previewed {
        meta.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
        meta.insert("creationTimestamp".into(), json!(now()));
    }
    meta.insert("generation".into(), json!(1));
    meta.remove("deletionTimestamp");
    meta.remove("deletionGracePeriodSeconds");
    validate_name(res, &body)?;
    namespace_check(state, res, namespace, &name)?;
    if res.status
        && let Some(map) = body.as_object_mut()
    {
        map.remove("status");
    }
    sanitize_metadata(&mut body);
    label_namespace(res, &mut body);
    apply_schema(res, &mut body);
    crate::defaults::apply(res, &mut body);
    crate::typed::check(res, &body)?;
    validate_values(res, None, &body)?;
    track(res, None, &mut body, opts);
    crate::defaults::allocate(state, res, &mut body);
    let ns_key = if res.namespaced { namespace } else { "" };
    if state.get(&res.storage_key(), ns_key, &name).is_some() {
        return Err(ApiError::already_exists(
            &res.qualified(),
            &res.group,
            &res.plural,
            &name,
        ));
    }
    let key = res.storage_key();
    if key == "/secrets"
        && body
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
    {
        body["type"] = json!("Opaque");
    }
    if key == "/services" {
        body["status"] = json!({"loadBalancer": {}});
    }
    if key == NAMESPACE_KEY {
        body["status"] = json!({"phase": "Active"});
        body["spec"] = json!({"finalizers": ["kubernetes"]});
    }
    if key == CRD_KEY {
        return create_crd(state, res, body, opts).map(Arc::new);
    }
    if opts.dry_run {
        return Ok(Arc::new(body));
    }
    Ok(state.put(&key, ns_key, &name, body, "ADDED"))
}

fn crd_invalid(res: &Resource, name: &str, message: String) -> ApiError {
    let (field, msg) = message
        .split_once(": ")
        .map(|(f, m)| (f.to_string(), m.to_string()))
        .unwrap_or(("spec".into(), message));
    ApiError::invalid(&res.kind, &res.group, name, &[(field, msg)])
}

/// Every version's schema of a CRD is structural (API-131), all errors reported at once.
fn structural_schemas(res: &Resource, name: &str, crd: &Value) -> Result<(), ApiError> {
    let versions = crd.pointer("/spec/versions").and_then(Value::as_array);
    let errors: Vec<_> = versions
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, v)| Some((i, v.pointer("/schema/openAPIV3Schema")?)))
        .flat_map(|(i, schema)| {
            let path = format!("spec.versions[{i}].schema.openAPIV3Schema");
            crate::algo::validation::structural_errors(schema, &path)
        })
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    Err(ApiError::invalid_fields(
        &res.kind, &res.group, name, &errors,
    ))
}

/// A CRD: validated, registered before its ADDED event, then Established (API-110, API-14).
fn create_crd(
    state: &mut State,
    res: &Resource,
    mut body: Value,
    opts: &WriteOpts,
) -> Result<Value, ApiError> {
    let name = meta_str(&body, "name").to_string();
    structural_schemas(res, &name, &body)?;
    let defs = crate::registry::crd_resources(&body).map_err(|m| crd_invalid(res, &name, m))?;
    let Some(first) = defs.first() else {
        return Err(crd_invalid(
            res,
            &name,
            "spec.versions: Invalid value: must have at least one served version".into(),
        ));
    };
    let expected = format!("{}.{}", first.plural, first.group);
    if name != expected {
        return Err(crd_invalid(
            res,
            &name,
            format!(
                "metadata.name: Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"
            ),
        ));
    }
    let names = body.pointer("/spec/names").cloned().unwrap_or(json!({}));
    let mut accepted = names.clone();
    if accepted.get("singular").is_none() {
        accepted["singular"] = json!(first.singular);
    }
    if accepted.get("listKind").is_none() {
        accepted["listKind"] = json!(first.list_kind);
    }
    let stamp = now();
    body["status"] = json!({
        "acceptedNames": accepted,
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "lastTransitionTime": stamp, "reason": "NoConflicts", "message": "no conflicts found"},
        ],
        "storedVersions": body.pointer("/spec/versions").and_then(Value::as_array).map(|vs| {
            vs.iter().filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true)).filter_map(|v| v.get("name").cloned()).collect::<Vec<_>>()
        }).unwrap_or_default(),
    });
    if opts.dry_run {
        return Ok(body);
    }
    state
        .registry
        .register_crd(&body)
        .map_err(|m| crd_invalid(res, &name, m))?;
    let stored = state.put(CRD_KEY, "", &name, body, "ADDED");
    let mut established = (*stored).clone();
    if let Some(conditions) = established
        .pointer_mut("/status/conditions")
        .and_then(Value::as_array_mut)
    {
        conditions.push(json!({"type": "Established", "status": "True", "lastTransitionTime": stamp, "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"}));
    }
    state.put(CRD_KEY, "", &name, established, "MODIFIED");
    Ok((*stored).clone())
}

fn rv_precondition(res: &Resource, old: &Value, rv: Option<&str>) -> Result<(), ApiError> {
    match rv {
        Some(rv) if !rv.is_empty() && rv != meta_str(old, "resourceVersion") => {
            Err(ApiError::conflict(
                &res.qualified(),
                &res.group,
                &res.plural,
                meta_str(old, "name"),
            ))
        }
        _ => Ok(()),
    }
}

/// PUT (API-70..73), on the main resource or `/status`.
pub fn update(
    state: &mut State,
    res: &Resource,
    namespace: &str,
    name: &str,
    sub: Option<&str>,
    body: Value,
    opts: &WriteOpts,
) -> Result<Arc<Value>, ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    let body_name = meta_str(&body, "name");
    if !body_name.is_empty() && body_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    if res.namespaced {
        let body_ns = meta_str(&body, "namespace");
        if !body_ns.is_empty() && body_ns != namespace {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
    }
    let Some(old) = state.get(&res.storage_key(), namespace, name) else {
        return Err(ApiError::not_found(
            &res.qualified(),
            &res.group,
            &res.plural,
            name,
        ));
    };
    let rv = meta_str(&body, "resourceVersion").to_string();
    if rv.is_empty() && !res.unconditional_update() {
        return Err(ApiError::invalid(
            &res.kind,
            &res.group,
            name,
            &[(
                "metadata.resourceVersion".into(),
                "Invalid value: 0x0: must be specified for an update".into(),
            )],
        ));
    }
    rv_precondition(res, &old, Some(&rv))?;
    let new = split_status(res, &old, body, sub);
    finish_update(state, res, &old, new, opts)
}

/// Keeps the stored status on main-resource writes, and only the status on `/status` writes (API-90).
fn split_status(res: &Resource, old: &Value, mut new: Value, sub: Option<&str>) -> Value {
    if !res.status {
        return new;
    }
    if sub == Some("status") {
        let mut result = old.clone();
        match new.get_mut("status").map(Value::take) {
            Some(status) if !status.is_null() => result["status"] = status,
            _ => {
                if let Some(map) = result.as_object_mut() {
                    map.remove("status");
                }
            }
        }
        result
    } else {
        match old.get("status") {
            Some(status) => new["status"] = status.clone(),
            None => {
                if let Some(map) = new.as_object_mut() {
                    map.remove("status");
                }
            }
        }
        new
    }
}

/// The common tail of PUT and PATCH: system fields, generation, no-op detection, storage,
/// and removal when the last finalizer of a deleted object goes (API-41, 73, 92, 101..103).
fn finish_update(
    state: &mut State,
    res: &Resource,
    old: &Arc<Value>,
    new: Value,
    opts: &WriteOpts,
) -> Result<Arc<Value>, ApiError> {
    match updated(res, old, new, opts)? {
        None => Ok(old.clone()),
        Some(new) if opts.dry_run => Ok(Arc::new(new)),
        Some(new) => store_update(state, res, old, new),
    }
}

/// The object an update of `old` stores (`None`: nothing but `managedFields` would change,
/// nothing is stored). A function of its arguments alone, so that it can run before the
/// write takes the lock (see [`prepare_patch`]).
fn updated(
    res: &Resource,
    old: &Arc<Value>,
    mut new: Value,
    opts: &WriteOpts,
) -> Result<Option<Value>, ApiError> {
    if !new.is_object() {
        return Err(ApiError::bad_request(
            "the resulting object is not a JSON object",
        ));
    }
    let name = meta_str(old, "name").to_string();
    new["apiVersion"] = json!(res.api_version());
    new["kind"] = json!(res.kind);
    let new_uid = meta_str(&new, "uid").to_string();
    if !new_uid.is_empty() && new_uid != meta_str(old, "uid") {
        return Err(ApiError::invalid(
            &res.kind,
            &res.group,
            &name,
            &[(
                "metadata.uid".into(),
                format!("Invalid value: \"{new_uid}\": field is immutable"),
            )],
        ));
    }
    let old_deleting = is_deleting(old);
    if !old_deleting && is_deleting(&new) {
        return Err(ApiError::invalid(
            &res.kind,
            &res.group,
            &name,
            &[(
                "metadata.deletionTimestamp".into(),
                "Invalid value: \"set\": field is immutable; may only be set by the server".into(),
            )],
        ));
    }
    if old_deleting {
        let before = finalizers(old);
        let added: Vec<String> = finalizers(&new)
            .into_iter()
            .filter(|f| !before.contains(f))
            .collect();
        if !added.is_empty() {
            let list = added
                .iter()
                .map(|f| format!("{f:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(ApiError::invalid(
                &res.kind,
                &res.group,
                &name,
                &[(
                    "metadata.finalizers".into(),
                    format!(
                        "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{{{list}}}"
                    ),
                )],
            ));
        }
    }
    // Only the kept fields are copied (not the whole metadata, managedFields and all).
    let old_meta = old.get("metadata");
    {
        let meta = meta_mut(&mut new);
        for field in [
            "uid",
            "creationTimestamp",
            "name",
            "namespace",
            "generation",
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ] {
            match old_meta.and_then(|m| m.get(field)) {
                Some(value) => {
                    meta.insert(field.into(), value.clone());
                }
                None => {
                    meta.remove(field);
                }
            }
        }
    }
    sanitize_metadata(&mut new);
    label_namespace(res, &mut new);
    apply_schema(res, &mut new);
    crate::defaults::apply(res, &mut new);
    crate::defaults::keep_allocated(res, old, &mut new);
    crate::typed::check(res, &new)?;
    validate_values(res, Some(old), &new)?;
    if !same_spec_part(res, &new, old) {
        let generation = old
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            + 1;
        meta_mut(&mut new).insert("generation".into(), json!(generation));
    }
    track(res, Some(old), &mut new, opts);
    if equal_but_managed_fields(&new, old) {
        return Ok(None);
    }
    Ok(Some(new))
}

/// Stores an update made by [`updated`].
fn store_update(
    state: &mut State,
    res: &Resource,
    old: &Arc<Value>,
    mut new: Value,
) -> Result<Arc<Value>, ApiError> {
    // A service that became a NodePort one (or lost its IP) gets what it lacks.
    crate::defaults::allocate(state, res, &mut new);
    let name = meta_str(old, "name").to_string();
    let namespace = meta_str(old, "namespace").to_string();
    let old_deleting = is_deleting(old);
    let key = res.storage_key();
    if key == CRD_KEY {
        structural_schemas(res, &name, &new)?;
        if let Err(message) = state.registry.register_crd(&new) {
            return Err(crd_invalid(res, &name, message));
        }
    }
    // Removing the last finalizer of a deleting object deletes it in the same write, as real
    // servers do: one DELETED event (with the last stored state), no MODIFIED before it.
    if old_deleting
        && finalizers(&new).is_empty()
        && let Some(last) = state.remove(&key, &namespace, &name)
    {
        let mut result = new;
        if let Some(version) = last.pointer("/metadata/resourceVersion").cloned() {
            meta_mut(&mut result).insert("resourceVersion".into(), version);
        }
        cascade(state, vec![(key, last)]);
        return Ok(Arc::new(result));
    }
    Ok(state.put(&key, &namespace, &name, new, "MODIFIED"))
}

/// The body of a merge/strategic/apply patch, parsed.
fn parse_json_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))
}

pub const CR_PATCH_TYPES: &str = "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml";
const BUILTIN_PATCH_TYPES: &str = "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json";

/// The media type of a `Content-Type`, lowercased, without parameters.
fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// PATCH (API-80..87); returns the HTTP code (201 when apply creates) and the object. With
/// a patch `prepared` before the lock, its work is used when the object is still the
/// version it read.
#[allow(clippy::too_many_arguments)]
pub fn patch(
    state: &mut State,
    res: &Resource,
    namespace: &str,
    name: &str,
    sub: Option<&str>,
    content_type: &str,
    body: &[u8],
    opts: &WriteOpts,
    prepared: Option<PreparedPatch>,
) -> Result<(u16, Arc<Value>), ApiError> {
    let ct = media_type(content_type);
    let is_apply = ct == "application/apply-patch+yaml";
    match ct.as_str() {
        "application/merge-patch+json"
        | "application/json-patch+json"
        | "application/apply-patch+yaml" => {}
        "application/strategic-merge-patch+json" if res.strategic_allowed() => {}
        _ => {
            let message = if res.strategic_allowed() {
                BUILTIN_PATCH_TYPES
            } else {
                CR_PATCH_TYPES
            };
            return Err(ApiError::unsupported_media_type(message).with_details(json!({})));
        }
    }
    if opts.force.is_some() && !is_apply {
        return Err(ApiError::invalid_message(
            "force: Forbidden: may not be specified for non-apply patch",
        ));
    }
    if is_apply && opts.field_manager.as_deref().unwrap_or("").is_empty() {
        return Err(ApiError::invalid_message(
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
        ));
    }
    let ns_key = if res.namespaced { namespace } else { "" };
    let old = state.get(&res.storage_key(), ns_key, name);
    if let (Some(prepared), Some(current)) = (prepared, &old)
        && Arc::ptr_eq(current, &prepared.old)
    {
        return prepared.store(state, res, opts);
    }
    if is_apply {
        let applied: Value = serde_yaml_ng::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
        if !applied.is_object() {
            return Err(ApiError::bad_request(
                "the applied configuration must be an object",
            ));
        }
        let Some(old) = old else {
            if sub.is_some() {
                return Err(ApiError::not_found(
                    &res.qualified(),
                    &res.group,
                    &res.plural,
                    name,
                ));
            }
            let applied = ssa(res, None, &applied, opts)?;
            let mut body = opts.store(applied);
            meta_mut(&mut body).insert("name".into(), json!(name));
            let opts = &WriteOpts {
                manager: None,
                ..opts.clone()
            };
            return create(state, res, ns_key, body, opts).map(|v| (201, v));
        };
        rv_precondition(
            res,
            &old,
            applied
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str),
        )?;
        let patched = ssa(res, Some(&*opts.present(&old)), &applied, opts)?;
        let new = split_status(res, &old, opts.store(patched), sub);
        let opts = &WriteOpts {
            manager: None,
            ..opts.clone()
        };
        return finish_update(state, res, &old, new, opts).map(|v| (200, v));
    }
    let Some(old) = old else {
        return Err(ApiError::not_found(
            &res.qualified(),
            &res.group,
            &res.plural,
            name,
        ));
    };
    let new = patched(res, &old, name, sub, &ct, body, opts)?;
    finish_update(state, res, &old, new, opts).map(|v| (200, v))
}

/// A JSON, merge or strategic merge patch of `old`, as the object to update it with.
fn patched(
    res: &Resource,
    old: &Value,
    name: &str,
    sub: Option<&str>,
    ct: &str,
    body: &[u8],
    opts: &WriteOpts,
) -> Result<Value, ApiError> {
    let patched = match ct {
        "application/json-patch+json" => {
            let ops = parse_json_body(body)?;
            match glue::json_patch(&opts.present(old), &ops) {
                Ok(patched) => opts.store(patched),
                Err(glue::JsonPatchError::Malformed(message)) => {
                    return Err(ApiError::bad_request(message));
                }
                Err(glue::JsonPatchError::TooMany) => {
                    return Err(ApiError::too_large(
                        "The allowed maximum operations in a JSON patch is 10000",
                    ));
                }
                Err(glue::JsonPatchError::Failed(reason)) => {
                    tracing::debug!("a JSON patch of {name} failed: {reason}");
                    return Err(ApiError::invalid_message(
                        "the server rejected our request due to an error in our request",
                    ));
                }
            }
        }
        _ => {
            let patch = parse_json_body(body)?;
            if !patch.is_object() {
                return Err(ApiError::bad_request("the patch must be a JSON object"));
            }
            rv_precondition(
                res,
                old,
                patch
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str),
            )?;
            let mut patched = opts.present(old).into_owned();
            if ct == "application/strategic-merge-patch+json" {
                glue::strategic_merge(&mut patched, &patch, &res.kind)
                    .map_err(ApiError::invalid_message)?;
            } else {
                glue::merge_patch(&mut patched, &patch);
            }
            opts.store(patched)
        }
    };
    if !patched.is_object() {
        return Err(ApiError::invalid_message(
            "the server rejected our request due to an error in our request",
        ));
    }
    let patched_name = meta_str(&patched, "name");
    if patched_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({patched_name}) does not match the name on the URL ({name})"
        )));
    }
    Ok(split_status(res, old, patched, sub))
}

/// A patch worked out before its write takes the lock, from the version it read: parsing,
/// patching, validation and `managedFields` need no lock, and under it only a check that
/// the object is still that version and the store remain (PATCHes of different objects
/// then wait for each other only that long).
pub struct PreparedPatch {
    old: Arc<Value>,
    new: Option<Value>,
}

/// Prepares a JSON, merge or strategic merge patch of `old` (`None` for an apply patch, or
/// when it fails: the write then does it all under the lock, errors included).
#[allow(clippy::too_many_arguments)]
pub fn prepare_patch(
    res: &Resource,
    old: Arc<Value>,
    name: &str,
    sub: Option<&str>,
    content_type: &str,
    body: &[u8],
    opts: &WriteOpts,
) -> Option<PreparedPatch> {
    let ct = media_type(content_type);
    let plain = match ct.as_str() {
        "application/merge-patch+json" | "application/json-patch+json" => true,
        "application/strategic-merge-patch+json" => res.strategic_allowed(),
        _ => false,
    };
    if !plain || opts.force.is_some() || !matches!(sub, None | Some("status")) {
        return None;
    }
    let new = patched(res, &old, name, sub, &ct, body, opts).ok()?;
    let new = updated(res, &old, new, opts).ok()?;
    Some(PreparedPatch { old, new })
}

impl PreparedPatch {
    /// Stores (or, in a dry run, only answers) what was prepared; the caller has checked
    /// that the object is still the version it was prepared from.
    fn store(
        self,
        state: &mut State,
        res: &Resource,
        opts: &WriteOpts,
    ) -> Result<(u16, Arc<Value>), ApiError> {
        match self.new {
            None => Ok((200, self.old)),
            Some(new) if opts.dry_run => Ok((200, Arc::new(new))),
            Some(new) => store_update(state, res, &self.old, new).map(|v| (200, v)),
        }
    }
}

/// DELETE (API-100, 104, 105, 114).
/// Namespaces kube-apiserver's lifecycle admission never lets go (API-129).
const IMMORTAL_NAMESPACES: [&str; 3] = ["default", "kube-system", "kube-public"];

pub fn delete(
    state: &mut State,
    res: &Resource,
    namespace: &str,
    name: &str,
    options: &Value,
    dry_run: bool,
) -> Result<Value, ApiError> {
    let key = res.storage_key();
    let ns_key = if res.namespaced { namespace } else { "" };
    let Some(old) = state.get(&key, ns_key, name) else {
        return Err(ApiError::not_found(
            &res.qualified(),
            &res.group,
            &res.plural,
            name,
        ));
    };
    if res.group.is_empty() && res.plural == "namespaces" && IMMORTAL_NAMESPACES.contains(&name) {
        return Err(ApiError::forbidden(format!(
            "namespaces \"{name}\" is forbidden: this namespace may not be deleted"
        ))
        .with_details(json!({"name": name, "kind": "namespaces"})));
    }
    if let Some(uid) = options
        .pointer("/preconditions/uid")
        .and_then(Value::as_str)
        && uid != meta_str(&old, "uid")
    {
        return Err(ApiError::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                res.qualified(),
                meta_str(&old, "uid")
            ),
        )
        .with_details(json!({"name": name, "group": res.group, "kind": res.plural})));
    }
    if let Some(rv) = options
        .pointer("/preconditions/resourceVersion")
        .and_then(Value::as_str)
        && rv != meta_str(&old, "resourceVersion")
    {
        return Err(ApiError::conflict(
            &res.qualified(),
            &res.group,
            &res.plural,
            name,
        ));
    }
    if key == NAMESPACE_KEY {
        if dry_run {
            return Ok((*old).clone());
        }
        return Ok(delete_namespace(state, &old, name));
    }
    if !finalizers(&old).is_empty() {
        if is_deleting(&old) || dry_run {
            return Ok((*old).clone());
        }
        let stored = state.put(&key, ns_key, name, mark_deleting(&old), "MODIFIED");
        return Ok((*stored).clone());
    }
    let uid = meta_str(&old, "uid").to_string();
    let orphan = options.get("propagationPolicy").and_then(Value::as_str) == Some("Orphan")
        || options.get("orphanDependents").and_then(Value::as_bool) == Some(true);
    if !dry_run {
        if orphan {
            orphan_dependents(state, &uid);
        }
        if let Some(last) = state.remove(&key, ns_key, name) {
            cascade(state, vec![(key, last)]);
        }
    }
    Ok(success_status(name, &res.group, &res.plural, &uid))
}

/// `propagationPolicy: Orphan`: dependents lose their reference to the owner and stay.
fn orphan_dependents(state: &mut State, owner_uid: &str) {
    if !state.has_owner_references {
        return;
    }
    let mut changes = Vec::new();
    for (key, map) in &state.objects {
        for ((ns, name), object) in map {
            let Some(refs) = object
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
            else {
                continue;
            };
            if !refs
                .iter()
                .any(|r| r.get("uid").and_then(Value::as_str) == Some(owner_uid))
            {
                continue;
            }
            let kept: Vec<Value> = refs
                .iter()
                .filter(|r| r.get("uid").and_then(Value::as_str) != Some(owner_uid))
                .cloned()
                .collect();
            let mut new = (**object).clone();
            let meta = meta_mut(&mut new);
            if kept.is_empty() {
                meta.remove("ownerReferences");
            } else {
                meta.insert("ownerReferences".into(), Value::Array(kept));
            }
            changes.push((key.clone(), ns.clone(), name.clone(), new));
        }
    }
    for (key, ns, name, new) in changes {
        state.put(&key, &ns, &name, new, "MODIFIED");
    }
}

/// The object with `deletionTimestamp` set and generation bumped (API-92, API-100).
fn mark_deleting(old: &Value) -> Value {
    let mut new = old.clone();
    let generation = old
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(0)
        + 1;
    let meta = meta_mut(&mut new);
    meta.insert("deletionTimestamp".into(), json!(now()));
    meta.insert("deletionGracePeriodSeconds".into(), json!(0));
    meta.insert("generation".into(), json!(generation));
    new
}

/// Namespace deletion plays the namespace controller: Terminating, contents deleted, then gone.
fn delete_namespace(state: &mut State, old: &Arc<Value>, name: &str) -> Value {
    let mut current = (**old).clone();
    if !is_deleting(old) {
        let mut new = mark_deleting(old);
        new["status"] = json!({"phase": "Terminating"});
        current = (*state.put(NAMESPACE_KEY, "", name, new, "MODIFIED")).clone();
    }
    let mut work = Vec::new();
    let keys: Vec<String> = state
        .objects
        .keys()
        .filter(|k| k.as_str() != NAMESPACE_KEY)
        .cloned()
        .collect();
    for key in keys {
        for object in state.list(&key, Some(name)) {
            let obj_name = meta_str(&object, "name").to_string();
            if finalizers(&object).is_empty() {
                if let Some(last) = state.remove(&key, name, &obj_name) {
                    work.push((key.clone(), last));
                }
            } else if !is_deleting(&object) {
                state.put(&key, name, &obj_name, mark_deleting(&object), "MODIFIED");
            }
        }
    }
    cascade(state, work);
    finish_namespace(state, name);
    current
}

/// Removes a terminating namespace once nothing is left in it.
fn finish_namespace(state: &mut State, namespace: &str) {
    let Some(ns) = state.get(NAMESPACE_KEY, "", namespace) else {
        return;
    };
    if !is_deleting(&ns) {
        return;
    }
    let empty = state
        .objects
        .iter()
        .filter(|(k, _)| k.as_str() != NAMESPACE_KEY)
        .all(|(_, map)| !map.keys().any(|(ns, _)| ns == namespace));
    if empty {
        state.remove(NAMESPACE_KEY, "", namespace);
    }
}

/// What follows removals: a CRD's objects go with it (API-113), a terminating namespace goes
/// when empty, and dependents whose owners are all gone are deleted (background GC).
pub fn cascade(state: &mut State, mut work: Vec<(String, Arc<Value>)>) {
    loop {
        while let Some((key, object)) = work.pop() {
            if key == CRD_KEY {
                let group = object
                    .pointer("/spec/group")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let plural = object
                    .pointer("/spec/names/plural")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let cr_key = format!("{group}/{plural}");
                state.registry.unregister_crd(&group, &plural);
                for cr in state.list(&cr_key, None) {
                    let (ns, n) = (
                        meta_str(&cr, "namespace").to_string(),
                        meta_str(&cr, "name").to_string(),
                    );
                    if let Some(last) = state.remove(&cr_key, &ns, &n) {
                        work.push((cr_key.clone(), last));
                    }
                }
            }
            let namespace = meta_str(&object, "namespace").to_string();
            if !namespace.is_empty() && key != NAMESPACE_KEY {
                finish_namespace(state, &namespace);
            }
        }
        // Garbage collection by ownerReferences (only once anything has owners).
        if !state.has_owner_references {
            return;
        }
        let uids = state.all_uids();
        let mut orphans = Vec::new();
        for (key, map) in &state.objects {
            for ((ns, name), object) in map {
                let owners: Vec<&str> = object
                    .pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|o| o.get("uid").and_then(Value::as_str))
                            .collect()
                    })
                    .unwrap_or_default();
                if owners.is_empty() || owners.iter().any(|u| uids.contains(*u)) {
                    continue;
                }
                if finalizers(object).is_empty() || !is_deleting(object) {
                    orphans.push((key.clone(), ns.clone(), name.clone(), object.clone()));
                }
            }
        }
        if orphans.is_empty() {
            return;
        }
        for (key, ns, name, object) in orphans {
            if finalizers(&object).is_empty() {
                if let Some(last) = state.remove(&key, &ns, &name) {
                    work.push((key, last));
                }
            } else {
                state.put(&key, &ns, &name, mark_deleting(&object), "MODIFIED");
            }
        }
    }
}

/// Server-side apply: the applied configuration merged in with its manager's ownership in
/// `managedFields`; a field another manager owns with another value is a 409 conflict
/// (kube-apiserver's message and causes), unless forced.
fn ssa(
    res: &Resource,
    live: Option<&Value>,
    applied: &Value,
    opts: &WriteOpts,
) -> Result<Value, ApiError> {
    let now = now();
    let request = crate::algo::apply::ApplyRequest {
        live,
        applied,
        manager: opts.field_manager.as_deref().unwrap_or_default(),
        force: opts.force == Some(true),
        api_version: &res.api_version(),
        now: &now,
        lists: list_types(res),
    };
    crate::algo::apply::server_side_apply(&request).map_err(|conflicts| {
        let causes: Vec<Value> = conflicts
            .conflicts
            .iter()
            .map(|c| json!({"type": "FieldManagerConflict", "message": format!("conflict with {:?}", c.manager), "field": c.field}))
            .collect();
        ApiError::new(409, "Conflict", conflicts.to_string()).with_details(json!({"causes": causes}))
    })
}

/// Records the writer's `Update` entry in `managedFields` for the fields it changed.
fn track(res: &Resource, old: Option<&Value>, new: &mut Value, opts: &WriteOpts) {
    if let Some(manager) = opts.manager.as_deref().filter(|m| !m.is_empty()) {
        let version = res.api_version();
        let writer = crate::algo::apply::Writer {
            manager,
            subresource: opts.subresource.unwrap_or_default(),
        };
        crate::algo::apply::track_update_by(old, new, writer, &version, &now(), list_types(res));
    }
}

/// How the resource's lists are owned: as its CRD's schema says, or as the built-in kinds' are.
fn list_types(res: &Resource) -> crate::algo::list_types::ListTypes<'_> {
    use crate::algo::list_types::ListTypes;
    if res.custom {
        ListTypes::Schema(res.schema.as_ref())
    } else {
        ListTypes::BuiltIn
    }
}
