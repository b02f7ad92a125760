//! The stored `ValidatingWebhookConfiguration`s and `MutatingWebhookConfiguration`s, read
//! into the webhooks the server calls: defaults filled in as kube-apiserver defaults them,
//! so that matching and calling never look at raw JSON.

use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

/// Where the stored configurations live.
pub const VALIDATING_KEY: &str = "admissionregistration.k8s.io/validatingwebhookconfigurations";
pub const MUTATING_KEY: &str = "admissionregistration.k8s.io/mutatingwebhookconfigurations";

/// Which phase a webhook belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Mutating,
    Validating,
}

/// What happens when calling the webhook fails (not when it denies).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailurePolicy {
    Fail,
    Ignore,
}

/// How requests through other versions of a matched resource are treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchPolicy {
    Exact,
    Equivalent,
}

/// One rule: what a webhook wants to see.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Rule {
    pub api_groups: Vec<String>,
    pub api_versions: Vec<String>,
    pub resources: Vec<String>,
    pub operations: Vec<String>,
    /// `*` when absent.
    pub scope: Option<String>,
}

/// The service reference of a `clientConfig`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct ServiceRef {
    pub namespace: String,
    pub name: String,
    pub path: Option<String>,
    pub port: Option<u16>,
}

/// How to reach a webhook.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ClientConfig {
    pub url: Option<String>,
    pub service: Option<ServiceRef>,
    /// Base64 of the PEM certificates that sign the webhook's serving certificate.
    pub ca_bundle: Option<String>,
}

/// The raw webhook entry; every field optional, as stored objects are not validated.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct RawWebhook {
    name: String,
    client_config: ClientConfig,
    rules: Vec<Rule>,
    failure_policy: Option<String>,
    match_policy: Option<String>,
    namespace_selector: Option<Value>,
    object_selector: Option<Value>,
    side_effects: Option<String>,
    timeout_seconds: Option<i64>,
    reinvocation_policy: Option<String>,
}

/// A webhook ready to be matched and called.
#[derive(Clone, Debug)]
pub struct Webhook {
    pub name: String,
    /// The configuration it came from (for logs).
    pub configuration: String,
    pub client: ClientConfig,
    pub rules: Vec<Rule>,
    pub failure_policy: FailurePolicy,
    pub match_policy: MatchPolicy,
    /// A `LabelSelector` object; `None` matches everything.
    pub namespace_selector: Option<Value>,
    pub object_selector: Option<Value>,
    /// `None`/`NoneOnDryRun`: safe to call for dry-run requests.
    pub dry_run_safe: bool,
    pub timeout: Duration,
    /// `reinvocationPolicy: IfNeeded` (mutating only).
    pub reinvoke: bool,
}

/// The default and the ceiling of `timeoutSeconds`.
const DEFAULT_TIMEOUT: i64 = 10;
const MAX_TIMEOUT: i64 = 30;

impl Webhook {
    fn from_raw(raw: RawWebhook, configuration: &str, phase: Phase) -> Self {
        let seconds = raw
            .timeout_seconds
            .unwrap_or(DEFAULT_TIMEOUT)
            .clamp(1, MAX_TIMEOUT);
        Webhook {
            name: raw.name,
            configuration: configuration.to_string(),
            client: raw.client_config,
            rules: raw.rules,
            failure_policy: match raw.failure_policy.as_deref() {
                Some("Ignore") => FailurePolicy::Ignore,
                _ => FailurePolicy::Fail,
            },
            match_policy: match raw.match_policy.as_deref() {
                Some("Exact") => MatchPolicy::Exact,
                _ => MatchPolicy::Equivalent,
            },
            namespace_selector: raw.namespace_selector.filter(|v| !v.is_null()),
            object_selector: raw.object_selector.filter(|v| !v.is_null()),
            dry_run_safe: matches!(raw.side_effects.as_deref(), Some("None" | "NoneOnDryRun")),
            timeout: Duration::from_secs(seconds.unsigned_abs()),
            reinvoke: phase == Phase::Mutating
                && raw.reinvocation_policy.as_deref() == Some("IfNeeded"),
        }
    }
}

/// The webhooks of stored configurations of one phase: configurations by name, then
/// webhooks in their order (the order mutating webhooks are called in). An entry that
/// cannot be read is skipped with a log line: it cannot say what it wants to see.
pub fn webhooks(configurations: &[std::sync::Arc<Value>], phase: Phase) -> Vec<Webhook> {
    let mut sorted: Vec<&Value> = configurations.iter().map(|c| &**c).collect();
    sorted.sort_by_key(|c| {
        c.pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    });
    let mut out = Vec::new();
    for configuration in sorted {
        let name = configuration
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let entries = configuration
            .get("webhooks")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for entry in entries {
            match RawWebhook::deserialize(entry) {
                Ok(raw) => out.push(Webhook::from_raw(raw, name, phase)),
                Err(err) => {
                    tracing::warn!("webhook configuration {name}: an unreadable webhook: {err}")
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    #[test]
    fn defaults_are_kube_apiservers() {
        let configs = vec![
            Arc::new(json!({"metadata": {"name": "b"}, "webhooks": [
                {"name": "b1", "clientConfig": {"url": "https://x"}, "sideEffects": "None",
                 "timeoutSeconds": 99, "failurePolicy": "Ignore", "reinvocationPolicy": "IfNeeded"},
            ]})),
            Arc::new(json!({"metadata": {"name": "a"}, "webhooks": [
                {"name": "a1", "rules": [{"operations": ["CREATE"]}]},
                {"name": 5},
            ]})),
        ];
        let hooks = webhooks(&configs, Phase::Mutating);
        let names: Vec<&str> = hooks.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["a1", "b1"]);
        assert_eq!(hooks[0].failure_policy, FailurePolicy::Fail);
        assert_eq!(hooks[0].match_policy, MatchPolicy::Equivalent);
        assert_eq!(hooks[0].timeout, Duration::from_secs(10));
        assert!(!hooks[0].dry_run_safe && !hooks[0].reinvoke);
        assert_eq!(hooks[1].timeout, Duration::from_secs(30));
        assert_eq!(hooks[1].failure_policy, FailurePolicy::Ignore);
        assert!(hooks[1].dry_run_safe && hooks[1].reinvoke);
        assert_eq!(hooks[1].client.url.as_deref(), Some("https://x"));
    }
}
