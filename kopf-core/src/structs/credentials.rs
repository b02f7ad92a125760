//! What a login handler returns: kopf's `ConnectionInfo`, and the kube configuration it
//! comes to.

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// How to reach and authenticate to the cluster (kopf's `kopf.ConnectionInfo`). When
/// several login handlers return one, the highest `priority` wins.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectionInfo {
    /// `https://host:port`.
    pub server: String,
    /// The CA's PEM file, or its PEM text in `ca_data`.
    pub ca_path: Option<String>,
    pub ca_data: Option<String>,
    /// Do not verify the server's certificate.
    pub insecure: Option<bool>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// A bearer token.
    pub token: Option<String>,
    /// The client certificate and key, as PEM files or PEM texts.
    pub certificate_path: Option<String>,
    pub certificate_data: Option<String>,
    pub private_key_path: Option<String>,
    pub private_key_data: Option<String>,
    /// The namespace of Events about cluster-scoped objects.
    pub default_namespace: Option<String>,
    pub priority: i64,
    /// When the credentials stop working: the login handlers run again then.
    pub expiration: Option<jiff::Timestamp>,
}

/// The connection info cannot be turned into a client configuration.
#[derive(Debug, thiserror::Error)]
#[error("the login handlers' connection info is not usable: {0}")]
pub struct LoginError(pub String);

impl ConnectionInfo {
    /// Connects to `server` with a bearer `token`.
    pub fn with_token(server: impl Into<String>, token: impl Into<String>) -> Self {
        ConnectionInfo {
            server: server.into(),
            token: Some(token.into()),
            ..ConnectionInfo::default()
        }
    }

    /// The same connection, expiring after `lifetime` from now.
    pub fn expiring_in(self, lifetime: std::time::Duration) -> Self {
        let lifetime =
            jiff::SignedDuration::try_from(lifetime).unwrap_or(jiff::SignedDuration::MAX);
        ConnectionInfo {
            expiration: jiff::Timestamp::now().checked_add(lifetime).ok(),
            ..self
        }
    }

    /// The connection of the current context of the kubeconfig (`KUBECONFIG`, else
    /// `~/.kube/config`): kopf's `login_via_client`, for login handlers that only add to it.
    pub fn from_kubeconfig() -> Result<Self, LoginError> {
        let kubeconfig = kube::config::Kubeconfig::read().map_err(|e| LoginError(e.to_string()))?;
        let document = serde_json::to_value(&kubeconfig).map_err(|e| LoginError(e.to_string()))?;
        let named = |list: &str, name: Option<&str>, field: &str| -> Value {
            document[list]
                .as_array()
                .into_iter()
                .flatten()
                .find(|item| item["name"].as_str() == name)
                .map(|item| item[field].clone())
                .unwrap_or(Value::Null)
        };
        let current = document["current-context"].as_str();
        let context = named("contexts", current, "context");
        let cluster = named("clusters", context["cluster"].as_str(), "cluster");
        let user = named("users", context["user"].as_str(), "user");
        let text = |value: &Value, key: &str| value[key].as_str().map(str::to_string);
        let decoded = |value: &Value, key: &str| -> Result<Option<String>, LoginError> {
            let Some(data) = value[key].as_str() else {
                return Ok(None);
            };
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .map_err(|e| LoginError(format!("{key} is not base64: {e}")))?;
            Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
        };
        let server = text(&cluster, "server").ok_or_else(|| {
            LoginError("the kubeconfig's current context has no cluster server".into())
        })?;
        Ok(ConnectionInfo {
            server,
            ca_path: text(&cluster, "certificate-authority"),
            ca_data: decoded(&cluster, "certificate-authority-data")?,
            insecure: cluster["insecure-skip-tls-verify"].as_bool(),
            username: text(&user, "username"),
            password: text(&user, "password"),
            token: text(&user, "token"),
            certificate_path: text(&user, "client-certificate"),
            certificate_data: decoded(&user, "client-certificate-data")?,
            private_key_path: text(&user, "client-key"),
            private_key_data: decoded(&user, "client-key-data")?,
            default_namespace: text(&context, "namespace"),
            ..ConnectionInfo::default()
        })
    }

    /// The in-memory kubeconfig of this connection: kube reads files and PEM data itself.
    fn kubeconfig(&self) -> Value {
        let pem = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
        let mut cluster = Map::new();
        cluster.insert("server".into(), json!(self.server));
        let entries = [
            ("certificate-authority", self.ca_path.clone()),
            (
                "certificate-authority-data",
                self.ca_data.as_deref().map(pem),
            ),
        ];
        for (key, value) in entries {
            if let Some(value) = value {
                cluster.insert(key.into(), json!(value));
            }
        }
        if let Some(insecure) = self.insecure {
            cluster.insert("insecure-skip-tls-verify".into(), json!(insecure));
        }
        let mut user = Map::new();
        let entries = [
            ("username", self.username.clone()),
            ("password", self.password.clone()),
            ("token", self.token.clone()),
            ("client-certificate", self.certificate_path.clone()),
            (
                "client-certificate-data",
                self.certificate_data.as_deref().map(pem),
            ),
            ("client-key", self.private_key_path.clone()),
            ("client-key-data", self.private_key_data.as_deref().map(pem)),
        ];
        for (key, value) in entries {
            if let Some(value) = value {
                user.insert(key.into(), json!(value));
            }
        }
        let mut context = Map::new();
        context.insert("cluster".into(), json!("login"));
        context.insert("user".into(), json!("login"));
        if let Some(namespace) = &self.default_namespace {
            context.insert("namespace".into(), json!(namespace));
        }
        json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "login", "cluster": cluster}],
            "users": [{"name": "login", "user": user}],
            "contexts": [{"name": "login", "context": context}],
            "current-context": "login",
        })
    }

    /// The kube configuration of this connection.
    pub async fn to_config(&self) -> Result<kube::Config, LoginError> {
        let kubeconfig: kube::config::Kubeconfig =
            serde_json::from_value(self.kubeconfig()).map_err(|e| LoginError(e.to_string()))?;
        let options = kube::config::KubeConfigOptions::default();
        kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| LoginError(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_token_login_becomes_a_kube_config() {
        let info = ConnectionInfo {
            default_namespace: Some("ns1".into()),
            ..ConnectionInfo::with_token("https://127.0.0.1:6443", "secret")
        };
        let config = info.to_config().await.expect("a usable config");
        assert_eq!(config.cluster_url.to_string(), "https://127.0.0.1:6443/");
        assert_eq!(config.default_namespace, "ns1");
        let back: ConnectionInfo =
            serde_json::from_value(serde_json::to_value(&info).unwrap()).unwrap();
        assert_eq!(back, info);
    }
}
