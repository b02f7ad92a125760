//! kopf's managed webhook configurations (`settings.admission.managed = NAME`): a
//! `ValidatingWebhookConfiguration` and a `MutatingWebhookConfiguration` named NAME, each
//! with one webhook per handler of its kind — created when absent, their webhooks
//! replaced at start, and reduced to the persistent handlers' at exit, so that nothing
//! calls an operator that is gone.

use crate::intents::families::{Admission, WebhookType};
use crate::intents::filters::MetaFilter;
use crate::intents::handlers::Handler;
use crate::structs::resource::Resource;
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use std::sync::Arc;

const TARGET: &str = "kopf._core.engines.admission";

/// kopf's `timeoutSeconds`: the most Kubernetes permits.
const TIMEOUT_SECONDS: u32 = 30;

/// What a webhook configuration object could not be made into.
#[derive(Debug, thiserror::Error)]
#[error("cannot configure the {reason} webhook {name}: {source}")]
pub struct ConfigurationError {
    pub reason: &'static str,
    pub name: String,
    pub source: kube::Error,
}

/// kopf's webhook name: the id with `/` as `.` and `_` as `-`, any other character not
/// allowed in a DNS subdomain as its UTF-8 hex, then `.{suffix}`.
pub fn normalize_name(id: &str, suffix: &str) -> String {
    let mut name = String::new();
    for c in id.replace('/', ".").replace('_', "-").chars() {
        if c.is_alphanumeric() || c == '.' || c == '-' || c == '_' {
            name.push(c);
        } else {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                name.push_str(&format!("{byte:02x}"));
            }
        }
    }
    if suffix.is_empty() {
        name
    } else {
        format!("{name}.{suffix}")
    }
}

/// Python's `urllib.parse.quote(id)`: all but letters, digits, `_.-~` and `/` escaped.
fn quote(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The client config with the handler id appended to the URL (or the service's path).
fn inject_handler_id(client_config: &Value, id: &str) -> Value {
    let mut config = client_config.clone();
    let url_id = quote(id);
    if let Some(url) = config.get("url").and_then(Value::as_str) {
        config["url"] = json!(format!("{}/{url_id}", url.trim_end_matches('/')));
    }
    if let Some(service) = config.get_mut("service").and_then(Value::as_object_mut) {
        let path = service.get("path").and_then(Value::as_str).unwrap_or("");
        let path = format!("{path}/{url_id}");
        service.insert("path".into(), json!(path));
    }
    config
}

/// The handler's label filters as an `objectSelector` (callbacks cannot be expressed).
fn labels_selector(labels: &[(String, MetaFilter)]) -> Value {
    let exprs: Vec<Value> = labels
        .iter()
        .filter_map(|(key, filter)| match filter {
            MetaFilter::Present => Some(json!({"key": key, "operator": "Exists"})),
            MetaFilter::Absent => Some(json!({"key": key, "operator": "DoesNotExist"})),
            MetaFilter::Equals(value) => {
                Some(json!({"key": key, "operator": "In", "values": [value]}))
            }
            MetaFilter::Callback(_) | MetaFilter::Check(_) => None,
        })
        .collect();
    if exprs.is_empty() {
        Value::Null
    } else {
        json!({"matchExpressions": exprs})
    }
}

/// kopf's `build_webhooks`: one webhook per handler (only the persistent ones when asked),
/// with rules for every served resource its selector names.
pub fn build_webhooks(
    handlers: &[Arc<Handler<Admission>>],
    resources: &[Resource],
    name_suffix: &str,
    client_config: &Value,
    persistent_only: bool,
) -> Vec<Value> {
    handlers
        .iter()
        .filter(|h| !persistent_only || h.options.persistent)
        .map(|handler| {
            let options = &handler.options;
            let operations: Vec<&str> = if options.operations.is_empty() {
                vec!["*"]
            } else {
                options.operations.iter().map(|op| op.as_str()).collect()
            };
            let rules: Vec<Value> = resources
                .iter()
                .filter(|r| handler.selector.matches(r))
                .map(|r| {
                    let plural = match &options.subresource {
                        Some(sub) => format!("{}/{sub}", r.plural),
                        None => r.plural.clone(),
                    };
                    json!({
                        "apiGroups": [r.group],
                        "apiVersions": [r.version],
                        "resources": [plural],
                        "operations": operations,
                        "scope": "*",
                    })
                })
                .collect();
            json!({
                "name": normalize_name(&handler.id, name_suffix),
                "sideEffects": if options.side_effects { "NoneOnDryRun" } else { "None" },
                "failurePolicy": if options.ignore_failures { "Ignore" } else { "Fail" },
                "matchPolicy": "Equivalent",
                "rules": rules,
                "objectSelector": labels_selector(&handler.filters.labels),
                "clientConfig": inject_handler_id(client_config, &handler.id),
                "timeoutSeconds": TIMEOUT_SECONDS,
                "admissionReviewVersions": ["v1", "v1beta1"],
            })
        })
        .collect()
}

/// Creates the configuration object of `reason` named `name` when absent (a conflict
/// means it exists), then replaces its webhooks.
pub async fn apply(
    client: &kube::Client,
    reason: WebhookType,
    name: &str,
    webhooks: Vec<Value>,
) -> Result<(), ConfigurationError> {
    let fail = |source| ConfigurationError {
        reason: reason.as_str(),
        name: name.to_string(),
        source,
    };
    let metadata = ObjectMeta {
        name: Some(name.to_string()),
        ..ObjectMeta::default()
    };
    let patch = Patch::Merge(json!({"webhooks": webhooks}));
    let params = PatchParams::default();
    match reason {
        WebhookType::Validating => {
            let api: Api<ValidatingWebhookConfiguration> = Api::all(client.clone());
            let object = ValidatingWebhookConfiguration {
                metadata,
                ..Default::default()
            };
            create_if_absent(api.create(&PostParams::default(), &object).await).map_err(fail)?;
            api.patch(name, &params, &patch).await.map_err(fail)?;
        }
        WebhookType::Mutating => {
            let api: Api<MutatingWebhookConfiguration> = Api::all(client.clone());
            let object = MutatingWebhookConfiguration {
                metadata,
                ..Default::default()
            };
            create_if_absent(api.create(&PostParams::default(), &object).await).map_err(fail)?;
            api.patch(name, &params, &patch).await.map_err(fail)?;
        }
    }
    Ok(())
}

/// Try-or-fail rather than check-and-do, as kopf: fewer RBAC verbs needed.
fn create_if_absent<K>(result: Result<K, kube::Error>) -> Result<(), kube::Error> {
    match result {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 403 => {
            tracing::error!(target: TARGET, "Not enough RBAC permissions to create the webhook configuration.");
            Err(kube::Error::Api(status))
        }
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intents::families::{AdmissionOptions, HandlerKind};
    use crate::structs::reviews::Operation;
    use std::borrow::Cow;

    fn kopfexamples() -> Resource {
        Resource {
            group: "kopf.dev".into(),
            version: "v1".into(),
            plural: "kopfexamples".into(),
            kind: "KopfExample".into(),
            singular: "kopfexample".into(),
            short_names: vec!["kex".into()],
            categories: vec![],
            namespaced: true,
            has_status_subresource: true,
            verbs: vec![],
        }
    }

    #[test]
    fn webhooks_have_rules_per_resource_and_subresource_and_persistence_is_kept() {
        let status = Handler::<Admission>::new(HandlerKind::Validate, "kex", || async {})
            .with_id("status_check")
            .with_options(AdmissionOptions {
                operations: Cow::Borrowed(&[Operation::Update]),
                subresource: Some(Cow::Borrowed("status")),
                persistent: true,
                ..AdmissionOptions::default()
            });
        let pods = Handler::<Admission>::new(HandlerKind::Validate, "pods", || async {});
        let handlers = vec![Arc::new(status), Arc::new(pods)];
        let config = json!({"url": "https://h:1"});
        let all = build_webhooks(&handlers, &[kopfexamples()], "x.dev", &config, false);
        assert_eq!(all.len(), 2);
        assert_eq!(
            all[0]["rules"],
            json!([{"apiGroups": ["kopf.dev"], "apiVersions": ["v1"],
                    "resources": ["kopfexamples/status"], "operations": ["UPDATE"], "scope": "*"}])
        );
        assert_eq!(all[0]["clientConfig"]["url"], "https://h:1/status_check");
        assert_eq!(all[1]["rules"], json!([]), "pods are not served");
        let kept = build_webhooks(&handlers, &[kopfexamples()], "x.dev", &config, true);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0]["name"], "status-check.x.dev");
    }

    #[test]
    fn names_and_urls_are_kopfs() {
        assert_eq!(
            normalize_name("check_fn", "ops.example.com"),
            "check-fn.ops.example.com"
        );
        assert_eq!(normalize_name("a/b c", ""), "a.b20c");
        assert_eq!(quote("a/b c"), "a/b%20c");
        let config = json!({"url": "https://localhost:9443/", "caBundle": "Q0E="});
        assert_eq!(
            inject_handler_id(&config, "check_fn")["url"],
            "https://localhost:9443/check_fn"
        );
        assert_eq!(
            labels_selector(&[
                ("a".into(), MetaFilter::Present),
                ("b".into(), MetaFilter::Equals("1".into())),
                ("c".into(), MetaFilter::callback(|_| true)),
            ]),
            json!({"matchExpressions": [
                {"key": "a", "operator": "Exists"},
                {"key": "b", "operator": "In", "values": ["1"]},
            ]})
        );
        assert_eq!(labels_selector(&[]), Value::Null);
    }
}
