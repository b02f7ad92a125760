//! Request handling: authentication, faults, routing, discovery, reads, and the write verbs.

use crate::aggregated;
use crate::glue::{self, FieldSelector, LabelSelector};
use crate::ops::{self, WriteOpts};
use crate::rbac::{self, rules::Attributes, rules::User};
use crate::registry::{Resource, VERBS};
use crate::responses::{
    RespBody, error_response, full, json_response, value_response, with_warnings,
};
use crate::reviews;
use crate::scale;
use crate::shared::{RecordedRequest, Shared};
use crate::status::ApiError;
use crate::tables;
use crate::watch::{self, WatchParams, fix_api_version};
use crate::writes;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

/// Percent-decodes a query component (`+` is a space).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() + 1 && i + 2 <= bytes.len().saturating_sub(1) => {
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(high), Some(low)) => {
                        out.push((high * 16 + low) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The parsed query string.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(text: &str) -> Self {
        Query(
            text.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (decode(k), decode(v)),
                    None => (decode(p), String::new()),
                })
                .collect(),
        )
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1" | "True"))
    }

    fn write_opts(&self) -> WriteOpts {
        WriteOpts {
            dry_run: self.get("dryRun").is_some_and(|v| v == "All"),
            field_manager: self.get("fieldManager").map(str::to_string),
            force: self.get("force").map(|v| v == "true"),
            strict: self.get("fieldValidation") == Some("Strict"),
            view: None,
            keep_identity: false,
            manager: None,
            subresource: None,
        }
    }
}

/// The entry point for every request.
pub async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<RespBody>, Infallible> {
    Ok(match handle_inner(shared, request).await {
        Ok(response) => response,
        Err(err) => error_response(&err),
    })
}

async fn handle_inner(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<RespBody>, ApiError> {
    let (parts, body) = request.into_parts();
    let given = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let caller = rbac::authenticate(shared.token.as_deref(), &shared.tokens, given)?;
    let as_user = parts
        .headers
        .get("impersonate-user")
        .and_then(|v| v.to_str().ok());
    let as_groups: Vec<String> = parts
        .headers
        .get_all("impersonate-group")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    let user = if as_user.is_some() || !as_groups.is_empty() {
        let state = shared.lock();
        rbac::impersonate(&state, shared.config.rbac, caller, as_user, &as_groups)?
    } else {
        caller
    };
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    if let Some(failure) = shared.faults.before_request(&method, &path) {
        let mut err = if failure.code == 429 {
            ApiError::new(
                429,
                "TooManyRequests",
                "the server has received too many requests and has asked us to try again later",
            )
        } else {
            ApiError::new(
                failure.code,
                "InternalError",
                "an error on the server (\"injected\") has prevented the request from succeeding",
            )
        };
        err.retry_after = failure.retry_after;
        return Err(
            err.with_details(json!({"retryAfterSeconds": failure.retry_after.unwrap_or(0)}))
        );
    }
    let latency = shared.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let query_text = parts.uri.query().unwrap_or("").to_string();
    let content_type = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = match Limited::new(body, shared.config.max_body_bytes)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(err) => {
            if err
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                return Err(ApiError::too_large("the request body is too large"));
            }
            return Err(ApiError::bad_request(format!(
                "cannot read the request body: {err}"
            )));
        }
    };
    if shared.recording() {
        shared.record(RecordedRequest {
            method: method.clone(),
            path: path.clone(),
            query: query_text.clone(),
            content_type: content_type.clone(),
            body: String::from_utf8_lossy(&body).into_owned(),
        });
    }
    let query = Query::parse(&query_text);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let accept = parts
        .headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    // kube-apiserver's default field manager: the User-Agent up to its first `/`.
    let agent = parts
        .headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split('/').next())
        .map(str::to_string);
    let req = Req {
        shared: &shared,
        method: &method,
        agent,
        query: &query,
        content_type: &content_type,
        accept: &accept,
        body,
        user,
    };
    let response = route(&req, &segments).await;
    // Whatever was read may include writes not yet on disk: answer once they are (a
    // watch waits by itself, event by event).
    if !query.flag("watch") {
        shared.settled().await;
    }
    response
}

struct Req<'a> {
    shared: &'a Arc<Shared>,
    method: &'a str,
    query: &'a Query,
    /// The User-Agent's name: the field manager of writes that name none.
    agent: Option<String>,
    content_type: &'a str,
    /// The `Accept` header: kubectl asks for Tables there.
    accept: &'a str,
    body: Bytes,
    user: User,
}

impl Req<'_> {
    /// The write options of the query, with the field manager of `managedFields`.
    fn write_opts(&self) -> WriteOpts {
        let mut opts = self.query.write_opts();
        opts.manager = opts.field_manager.clone().or_else(|| self.agent.clone());
        opts
    }
}

async fn route(req: &Req<'_>, segments: &[&str]) -> Result<Response<RespBody>, ApiError> {
    match segments {
        ["version"] => Ok(value_response(200, &version())),
        ["healthz" | "livez" | "readyz", ..] => {
            let mut response = Response::new(full("ok"));
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/plain"),
            );
            Ok(response)
        }
        ["api" | "apis"] if aggregated::wanted(req.accept).is_some() => {
            let version = aggregated::wanted(req.accept).unwrap_or("v2");
            let core = segments == ["api"];
            let document = aggregated::document(&req.shared.lock().registry, core, version);
            let mut response = value_response(200, &document);
            if let Ok(value) = http::HeaderValue::from_str(&aggregated::content_type(version)) {
                response
                    .headers_mut()
                    .insert(http::header::CONTENT_TYPE, value);
            }
            Ok(response)
        }
        ["api"] => Ok(value_response(200, &api_versions(req.shared))),
        ["apis"] => Ok(value_response(200, &api_groups(req.shared))),
        ["apis", group] => api_group(req.shared, group).map(|v| value_response(200, &v)),
        ["api", "v1"] => resource_list(req.shared, "", "v1").map(|v| value_response(200, &v)),
        ["apis", group, version] => {
            resource_list(req.shared, group, version).map(|v| value_response(200, &v))
        }
        ["openapi", "v3", rest @ ..] => {
            crate::openapi_routes::serve(req.shared, rest, req.query.get("hash"))
        }
        ["api", "v1", rest @ ..] => resource_route(req, "", "v1", rest).await,
        ["apis", group, version, rest @ ..] => resource_route(req, group, version, rest).await,
        _ => Err(ApiError::not_found_generic()),
    }
}

fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "emulationMajor": "1",
        "emulationMinor": "32",
        "gitVersion": "v1.32.0-kopf",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.23.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

fn api_versions(shared: &Shared) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": shared.addr.to_string()}],
    })
}

fn group_json(group: &str, versions: &[String]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    json!({"name": group, "versions": versions, "preferredVersion": versions.first().cloned().unwrap_or(json!({}))})
}

fn api_groups(shared: &Shared) -> Value {
    let groups = shared.lock().registry.groups();
    let groups: Vec<Value> = groups.iter().map(|(g, vs)| group_json(g, vs)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn api_group(shared: &Shared, group: &str) -> Result<Value, ApiError> {
    let groups = shared.lock().registry.groups();
    let (name, versions) = groups
        .iter()
        .find(|(g, _)| g == group)
        .ok_or_else(ApiError::not_found_generic)?;
    let mut value = group_json(name, versions);
    value["kind"] = json!("APIGroup");
    value["apiVersion"] = json!("v1");
    Ok(value)
}

fn resource_list(shared: &Shared, group: &str, version: &str) -> Result<Value, ApiError> {
    let resources = shared.lock().registry.in_group_version(group, version);
    if resources.is_empty() {
        return Err(ApiError::not_found_generic());
    }
    let mut rows = Vec::new();
    for r in &resources {
        let mut row = json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": if reviews::is_review(r) { &["create"][..] } else { &VERBS[..] },
        });
        if !r.short_names.is_empty() {
            row["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            row["categories"] = json!(r.categories);
        }
        rows.push(row);
        if r.status {
            rows.push(json!({
                "name": format!("{}/status", r.plural),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
        if r.scale.is_some() {
            rows.push(json!({
                "name": format!("{}/scale", r.plural),
                "singularName": "",
                "namespaced": r.namespaced,
                "group": "autoscaling",
                "version": "v1",
                "kind": "Scale",
                "verbs": ["get", "patch", "update"],
            }));
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Ok(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": rows}),
    )
}

/// `…/scale`: GET, PUT and PATCH of the object's Scale.
async fn scale_route(req: &Req<'_>, target: &Target) -> Result<Response<RespBody>, ApiError> {
    let shared = req.shared;
    let res = target.resource.clone();
    let namespace = target.namespace.clone().unwrap_or_default();
    let name = target
        .name
        .clone()
        .ok_or_else(ApiError::method_not_allowed)?;
    match req.method {
        "GET" => {
            shared.count("get");
            let scale = scale::get(&shared.lock(), &res, &namespace, &name)?;
            if tables::wanted(req.accept) {
                let table = tables::scale_table(&scale, req.query.get("includeObject"));
                return Ok(value_response(200, &table));
            }
            Ok(value_response(200, &scale))
        }
        "PUT" | "PATCH" => {
            shared.count(if req.method == "PUT" {
                "update"
            } else {
                "patch"
            });
            let (write_res, opts) = writer(shared, &res, req.write_opts())?;
            let patch = (req.method == "PATCH").then_some(req.content_type);
            let target = writes::Target {
                res: &res,
                store: &write_res,
                namespace: &namespace,
                sub: Some("scale"),
            };
            let (scale, warnings) =
                writes::scale(shared, &target, &name, patch, &req.body, &opts).await?;
            Ok(with_warnings(value_response(200, &scale), &warnings))
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// Where a resource request points.
struct Target {
    resource: Arc<Resource>,
    /// From the URL; `None` for cluster-scoped resources and all-namespace collections.
    namespace: Option<String>,
    name: Option<String>,
    sub: Option<String>,
}

impl Target {
    /// Where a write of this request goes (`store`: the resource written to).
    fn writing<'a>(&'a self, store: &'a Arc<Resource>) -> writes::Target<'a> {
        writes::Target {
            res: &self.resource,
            store,
            namespace: self.namespace.as_deref().unwrap_or(""),
            sub: self.sub.as_deref(),
        }
    }
}

fn resolve(shared: &Shared, group: &str, version: &str, rest: &[&str]) -> Result<Target, ApiError> {
    let namespace_sub = group.is_empty()
        && rest.len() == 3
        && rest[0] == "namespaces"
        && matches!(rest[2], "status" | "finalize");
    let (namespace, rest) = if rest.len() >= 3 && rest[0] == "namespaces" && !namespace_sub {
        (Some(rest[1].to_string()), &rest[2..])
    } else {
        (None, rest)
    };
    let (plural, name, sub) = match rest {
        [plural] => (*plural, None, None),
        [plural, name] => (*plural, Some(name.to_string()), None),
        [plural, name, sub] => (*plural, Some(name.to_string()), Some(sub.to_string())),
        _ => return Err(ApiError::not_found_generic()),
    };
    let resource = shared
        .lock()
        .registry
        .find(group, version, plural)
        .ok_or_else(ApiError::not_found_generic)?;
    if namespace.is_some() && !resource.namespaced {
        return Err(ApiError::not_found_generic());
    }
    if resource.namespaced && namespace.is_none() && name.is_some() {
        return Err(ApiError::not_found_generic());
    }
    match sub.as_deref() {
        None => {}
        Some("status") if resource.status => {}
        Some("scale") if resource.scale.is_some() => {}
        Some("finalize") if resource.plural == "namespaces" => {}
        Some("token") if resource.plural == "serviceaccounts" && resource.group.is_empty() => {}
        Some(_) => return Err(ApiError::not_found_generic()),
    }
    Ok(Target {
        resource,
        namespace,
        name,
        sub,
    })
}

async fn resource_route(
    req: &Req<'_>,
    group: &str,
    version: &str,
    rest: &[&str],
) -> Result<Response<RespBody>, ApiError> {
    let target = resolve(req.shared, group, version, rest)?;
    let shared = req.shared;
    let res = target.resource.clone();
    let namespace = target.namespace.clone().unwrap_or_default();
    // Everyone may ask what they themselves may do (kube's `system:basic-user`).
    if !res.plural.starts_with("selfsubject") {
        let attrs = attributes(req, &target);
        rbac::authorize(&shared.lock(), shared.config.rbac, &req.user, &attrs)?;
    }
    match (target.sub.as_deref(), target.name.as_deref()) {
        (Some("scale"), _) => return scale_route(req, &target).await,
        (Some("token"), Some(name)) if req.method == "POST" => {
            shared.count("create");
            let body = parse_body(req)?;
            let token =
                rbac::tokens::request(&shared.lock(), &shared.tokens, &namespace, name, body)?;
            return Ok(value_response(201, &token));
        }
        (Some("token"), _) => return Err(ApiError::method_not_allowed()),
        _ => {}
    }
    match (req.method, target.name.clone()) {
        ("GET", None) => {
            if req.query.flag("watch") {
                shared.count("watch");
                watch_response(req, &target)
            } else {
                shared.count("list");
                list(req, &target)
            }
        }
        ("GET", Some(name)) => {
            shared.count("get");
            let object = shared.lock().get(&res.storage_key(), &namespace, &name);
            match object {
                Some(object) if tables::wanted(req.accept) => {
                    let object = fix_api_version(&res, object);
                    let metadata =
                        json!({"resourceVersion": object["metadata"]["resourceVersion"]});
                    let table =
                        tables::table(&res, &[&*object], metadata, req.query.get("includeObject"));
                    Ok(value_response(200, &table))
                }
                Some(object) => Ok(value_response(200, &fix_api_version(&res, object))),
                None => Err(ApiError::not_found(
                    &res.qualified(),
                    &res.group,
                    &res.plural,
                    &name,
                )),
            }
        }
        ("POST", None) => {
            shared.count("create");
            if res.namespaced && target.namespace.is_none() {
                return Err(ApiError::method_not_allowed());
            }
            let body = parse_body(req)?;
            if reviews::is_review(&res) {
                let state = shared.lock();
                let can = |user: &User, attrs: &Attributes| {
                    rbac::allows(&state, shared.config.rbac, user, attrs)
                };
                let rules = |namespace: &str| {
                    let enforced = shared.config.rbac && req.user.is_restricted();
                    enforced.then(|| rbac::rules_of(&state, &req.user, namespace))
                };
                let answer = reviews::answer(&res, body, &req.user, can, rules);
                return Ok(value_response(201, &answer));
            }
            check_strict(req, &res, &body)?;
            let (write_res, opts) = writer(shared, &res, req.write_opts())?;
            let body = opts.store(body);
            let target = target.writing(&write_res);
            let (object, warnings) = writes::create(shared, &target, body, &opts).await?;
            Ok(with_warnings(
                value_response(201, &opts.present(&object)),
                &warnings,
            ))
        }
        ("PUT", Some(name)) => {
            shared.count("update");
            let body = parse_body(req)?;
            check_strict(req, &res, &body)?;
            let (write_res, opts) = writer(shared, &res, req.write_opts())?;
            let body = opts.store(body);
            let target = target.writing(&write_res);
            let change = writes::Change::Put(body);
            let (_, object, warnings) =
                writes::update(shared, &target, &name, change, &opts).await?;
            Ok(with_warnings(
                value_response(200, &opts.present(&object)),
                &warnings,
            ))
        }
        ("PATCH", Some(name)) => {
            shared.count("patch");
            if req
                .content_type
                .starts_with("application/vnd.kubernetes.protobuf")
            {
                return Err(unsupported_protobuf());
            }
            let (write_res, opts) = writer(shared, &res, req.write_opts())?;
            let target = target.writing(&write_res);
            let change = writes::Change::Patch(req.content_type, &req.body);
            let (code, object, warnings) =
                writes::update(shared, &target, &name, change, &opts).await?;
            Ok(with_warnings(
                value_response(code, &opts.present(&object)),
                &warnings,
            ))
        }
        ("DELETE", Some(name)) => {
            shared.count("delete");
            let options: Value = if req.body.is_empty() {
                json!({})
            } else {
                serde_json::from_slice(&req.body)
                    .map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions: {e}")))?
            };
            let dry_run = req.query.get("dryRun") == Some("All")
                || options
                    .get("dryRun")
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.iter().any(|v| v == "All"));
            let (write_res, opts) = writer(shared, &res, req.write_opts())?;
            let target = target.writing(&write_res);
            let (result, warnings) =
                writes::delete(shared, &target, &name, &options, dry_run).await?;
            let result = if result.get("kind").and_then(Value::as_str) == Some("Status") {
                std::borrow::Cow::Borrowed(&result)
            } else {
                opts.present(&result)
            };
            Ok(with_warnings(value_response(200, &result), &warnings))
        }
        ("DELETE", None) => {
            shared.count("delete");
            delete_collection(req, &target).await
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// The authorizer's attributes of a resource request.
fn attributes(req: &Req<'_>, target: &Target) -> Attributes {
    Attributes {
        verb: Attributes::verb(req.method, target.name.is_some(), req.query.flag("watch")),
        group: target.resource.group.clone(),
        resource: target.resource.plural.clone(),
        subresource: target.sub.clone().unwrap_or_default(),
        namespace: target.namespace.clone().unwrap_or_default(),
        name: target.name.clone().unwrap_or_default(),
    }
}

/// The resource writes go through, with the client's view of it (API-116: `events.k8s.io/v1`
/// Events are written as core Events).
fn writer(
    shared: &Shared,
    res: &Arc<Resource>,
    mut opts: WriteOpts,
) -> Result<(Arc<Resource>, WriteOpts), ApiError> {
    if !res.is_events_v1() {
        return Ok((res.clone(), opts));
    }
    let core = shared
        .lock()
        .registry
        .find("", "v1", "events")
        .ok_or_else(ApiError::not_found_generic)?;
    opts.view = Some(ops::View {
        present: crate::events::from_core,
        store: crate::events::to_core,
    });
    Ok((core, opts))
}

fn unsupported_protobuf() -> ApiError {
    ApiError::unsupported_media_type(
        "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml",
    )
    .with_details(json!({}))
}

/// JSON (or YAML) request bodies; protobuf is refused with 415 (API-04).
fn parse_body(req: &Req<'_>) -> Result<Value, ApiError> {
    let ct = req.content_type.split(';').next().unwrap_or("").trim();
    if ct.starts_with("application/vnd.kubernetes.protobuf") {
        return crate::protobuf::decode(&req.body).map_err(|_| unsupported_protobuf());
    }
    if ct == "application/yaml" {
        return serde_yaml_ng::from_slice(&req.body)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")));
    }
    serde_json::from_slice(&req.body)
        .map_err(|e| ApiError::bad_request(format!("error decoding the request body: {e}")))
}

/// `fieldValidation=Strict`: unknown fields are a 400 (API-22).
fn check_strict(req: &Req<'_>, res: &Resource, body: &Value) -> Result<(), ApiError> {
    if !req.query.write_opts().strict {
        return Ok(());
    }
    let Some(schema) = &res.schema else {
        return Ok(());
    };
    match crate::algo::schema::unknown_fields(body, schema).first() {
        Some(field) => Err(ApiError::bad_request(format!(
            "strict decoding error: unknown field \"{field}\""
        ))),
        None => Ok(()),
    }
}

fn selectors(req: &Req<'_>, res: &Resource) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let labels = LabelSelector::parse(req.query.get("labelSelector").unwrap_or(""))
        .map_err(ApiError::bad_request)?;
    let fields =
        FieldSelector::parse(&field_selector_text(req, res)).map_err(ApiError::bad_request)?;
    let supported = glue::supported_fields(&res.kind);
    for field in fields.fields() {
        if field != "metadata.name"
            && field != "metadata.namespace"
            && !supported.contains(&field.as_str())
        {
            return Err(ApiError::bad_request(format!(
                "field label not supported: {field}"
            )));
        }
    }
    Ok((labels, fields))
}

/// The field selector, with `events.k8s.io/v1` names mapped to the stored core names.
fn field_selector_text(req: &Req<'_>, res: &Resource) -> String {
    let text = req.query.get("fieldSelector").unwrap_or("");
    if !res.is_events_v1() {
        return text.to_string();
    }
    text.split(',')
        .map(|part| {
            let at = part.find(['=', '!']).unwrap_or(part.len());
            format!(
                "{}{}",
                crate::events::core_field(part[..at].trim()),
                &part[at..]
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn matches_all(labels: &LabelSelector, fields: &FieldSelector, object: &Value) -> bool {
    labels.matches(object) && fields.matches(object)
}

/// The continue token: the list's version and the last key served.
fn encode_continue(rv: u64, namespace: &str, name: &str) -> String {
    use base64::Engine;
    let raw = json!({"rv": rv, "ns": namespace, "name": name}).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_continue(token: &str) -> Result<(u64, String, String), ApiError> {
    use base64::Engine;
    let bad = || ApiError::bad_request("continue key is not valid: malformed token");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())?;
    let value: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    let rv = value.get("rv").and_then(Value::as_u64).ok_or_else(bad)?;
    let ns = value
        .get("ns")
        .and_then(Value::as_str)
        .ok_or_else(bad)?
        .to_string();
    let name = value
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(bad)?
        .to_string();
    Ok((rv, ns, name))
}

fn list(req: &Req<'_>, target: &Target) -> Result<Response<RespBody>, ApiError> {
    let res = &target.resource;
    let (labels, fields) = selectors(req, res)?;
    let limit = match req.query.get("limit") {
        Some(text) if !text.is_empty() => text
            .parse::<usize>()
            .map_err(|_| ApiError::bad_request("invalid limit"))?,
        _ => 0,
    };
    let after = match req.query.get("continue") {
        Some(token) if !token.is_empty() => Some(decode_continue(token)?),
        _ => None,
    };
    let (items, rv, floor) = {
        let state = req.shared.lock();
        (
            state.list(&res.storage_key(), target.namespace.as_deref()),
            state.rv,
            state.floor,
        )
    };
    if let Some((token_rv, _, _)) = &after
        && *token_rv < floor
    {
        return Err(ApiError::gone(
            "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
        ));
    }
    let list_rv = after.as_ref().map(|(rv, _, _)| *rv).unwrap_or(rv);
    let mut selected = Vec::new();
    let mut more = false;
    for item in items {
        let ns = item
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("");
        let name = item
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        if let Some((_, after_ns, after_name)) = &after
            && (ns, name) <= (after_ns.as_str(), after_name.as_str())
        {
            continue;
        }
        if !matches_all(&labels, &fields, &item) {
            continue;
        }
        if limit > 0 && selected.len() >= limit {
            more = true;
            break;
        }
        selected.push(item);
    }
    let mut metadata = json!({"resourceVersion": list_rv.to_string()});
    if more && let Some(last) = selected.last() {
        let ns = last
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("");
        let name = last
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        metadata["continue"] = json!(encode_continue(list_rv, ns, name));
    }
    if tables::wanted(req.accept) {
        let objects: Vec<_> = selected
            .into_iter()
            .map(|o| fix_api_version(res, o))
            .collect();
        let refs: Vec<&Value> = objects.iter().map(|o| &**o).collect();
        let table = tables::table(res, &refs, metadata, req.query.get("includeObject"));
        return Ok(value_response(200, &table));
    }
    // Serialised by hand so that items are written straight from the store.
    let mut out = Vec::with_capacity(256 + selected.len() * 512);
    out.extend_from_slice(b"{\"kind\":");
    let _ = serde_json::to_writer(&mut out, &res.list_kind);
    out.extend_from_slice(b",\"apiVersion\":");
    let _ = serde_json::to_writer(&mut out, &res.api_version());
    out.extend_from_slice(b",\"metadata\":");
    let _ = serde_json::to_writer(&mut out, &metadata);
    out.extend_from_slice(b",\"items\":[");
    for (i, item) in selected.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let _ = serde_json::to_writer(&mut out, &*fix_api_version(res, item));
    }
    out.extend_from_slice(b"]}");
    Ok(json_response(200, out))
}

fn watch_response(req: &Req<'_>, target: &Target) -> Result<Response<RespBody>, ApiError> {
    let res = &target.resource;
    let (labels, fields) = selectors(req, res)?;
    let resource_version = match req.query.get("resourceVersion") {
        None | Some("") | Some("0") => None,
        Some(text) => Some(
            text.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {text}")))?,
        ),
    };
    let send_initial_events = req.query.flag("sendInitialEvents");
    let bookmarks = req.query.flag("allowWatchBookmarks");
    if req.query.get("sendInitialEvents").is_some() {
        let ok = req.query.get("resourceVersionMatch") == Some("NotOlderThan")
            && (bookmarks || !send_initial_events);
        if !ok {
            return Err(ApiError::invalid_message(
                "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan and allowWatchBookmarks",
            ));
        }
    }
    let timeout = match req.query.get("timeoutSeconds") {
        Some(text) if !text.is_empty() => {
            let seconds = text
                .parse::<u64>()
                .map_err(|_| ApiError::bad_request("invalid timeoutSeconds"))?;
            // Clamped: the deadline must stay representable.
            Some(Duration::from_secs(seconds.min(7 * 24 * 3600)))
        }
        _ => None,
    };
    let params = WatchParams {
        resource: res.clone(),
        namespace: target.namespace.clone(),
        labels,
        fields,
        resource_version,
        send_initial_events,
        bookmarks,
        timeout,
        table: tables::wanted(req.accept).then(|| watch::TableWatch {
            include_object: req.query.get("includeObject").map(str::to_string),
            renderer: tables::Renderer::new(res),
        }),
    };
    let body = watch::start(req.shared.clone(), params);
    let mut response = Response::new(BodyExt::boxed(body));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-cache, private"),
    );
    Ok(response)
}

/// `DELETE` on a collection: every matching object, as individual deletions.
async fn delete_collection(req: &Req<'_>, target: &Target) -> Result<Response<RespBody>, ApiError> {
    let res = target.resource.clone();
    let (labels, fields) = selectors(req, &res)?;
    let namespace = target.namespace.clone();
    let dry_run = req.query.get("dryRun") == Some("All");
    let select = |item: &Value| matches_all(&labels, &fields, item);
    let (deleted, warnings) =
        writes::delete_collection(req.shared, &res, namespace.as_deref(), select, dry_run).await?;
    let list = json!({"kind": res.list_kind, "apiVersion": res.api_version(), "metadata": {}, "items": deleted});
    Ok(with_warnings(value_response(200, &list), &warnings))
}
