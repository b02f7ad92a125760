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
