//! The kubeconfig a running server writes for its clients.

/// A kubeconfig (YAML) with one cluster, user and context named `kopf-embedded`.
/// `ca_pem` becomes `certificate-authority-data`; `token` becomes `users[].user.token`.
pub fn render(server_url: &str, ca_pem: Option<&str>, token: Option<&str>) -> String {
    use base64::Engine;
    let mut cluster = format!("    server: {server_url}\n");
    if let Some(ca) = ca_pem {
        let data = base64::engine::general_purpose::STANDARD.encode(ca);
        cluster.push_str(&format!("    certificate-authority-data: {data}\n"));
    }
    let user = match token {
        Some(token) => format!("    token: {token}\n"),
        None => "    {}\n".to_string(),
    };
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: kopf-embedded\n  cluster:\n{cluster}users:\n- name: kopf-embedded\n  user:\n{user}contexts:\n- name: kopf-embedded\n  context:\n    cluster: kopf-embedded\n    user: kopf-embedded\n    namespace: default\ncurrent-context: kopf-embedded\n"
    )
}

/// Writes a kubeconfig readable by the owner only (it carries the bearer token), replacing
/// any previous file atomically; creates the parent directory.
pub fn write(path: &std::path::Path, yaml: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    file.write_all(yaml.as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use serde_yaml_ng::Value;

    const CA: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    fn field<'a>(value: &'a Value, path: &[&str]) -> &'a Value {
        path.iter().fold(value, |v, key| &v[*key])
    }

    #[test]
    fn https_variant_parses_back() {
        let text = render("https://127.0.0.1:6443", Some(CA), Some("abc123"));
        let doc: Value = serde_yaml_ng::from_str(&text).unwrap();
        assert_eq!(doc["kind"], "Config");
        assert_eq!(doc["current-context"], "kopf-embedded");
        let cluster = field(&doc, &["clusters"])[0].clone();
        assert_eq!(cluster["name"], "kopf-embedded");
        assert_eq!(cluster["cluster"]["server"], "https://127.0.0.1:6443");
        let data = cluster["cluster"]["certificate-authority-data"]
            .as_str()
            .unwrap();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap();
        assert_eq!(decoded, CA.as_bytes());
        assert_eq!(field(&doc, &["users"])[0]["user"]["token"], "abc123");
        let context = &field(&doc, &["contexts"])[0]["context"];
        assert_eq!(context["cluster"], "kopf-embedded");
        assert_eq!(context["user"], "kopf-embedded");
        assert_eq!(context["namespace"], "default");
    }

    #[test]
    fn written_file_is_private_and_complete() {
        let dir =
            std::env::temp_dir().join(format!("kopf-kubeconfig-test-{}", uuid::Uuid::new_v4()));
        let path = dir.join("nested").join("kubeconfig");
        let text = render("https://127.0.0.1:1", Some(CA), Some("t"));
        write(&path, &text).unwrap();
        write(&path, &text).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn http_variant_has_no_credentials() {
        let text = render("http://127.0.0.1:8080", None, None);
        let doc: Value = serde_yaml_ng::from_str(&text).unwrap();
        let cluster = &doc["clusters"][0]["cluster"];
        assert_eq!(cluster["server"], "http://127.0.0.1:8080");
        assert!(cluster.get("certificate-authority-data").is_none());
        let user = doc["users"][0]["user"].as_mapping().unwrap();
        assert!(user.is_empty());
    }

    #[test]
    fn kube_client_accepts_both_variants() {
        for text in [
            render("https://127.0.0.1:6443", Some(CA), Some("abc123")),
            render("http://127.0.0.1:8080", None, None),
        ] {
            let config = kube::config::Kubeconfig::from_yaml(&text).unwrap();
            assert_eq!(config.current_context.as_deref(), Some("kopf-embedded"));
            assert_eq!(config.clusters.len(), 1);
            assert_eq!(config.auth_infos.len(), 1);
        }
        let config = kube::config::Kubeconfig::from_yaml(&render(
            "https://127.0.0.1:6443",
            Some(CA),
            Some("abc123"),
        ))
        .unwrap();
        let auth = config.auth_infos[0].auth_info.as_ref().unwrap();
        assert!(auth.token.is_some());
        let cluster = config.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(cluster.server.as_deref(), Some("https://127.0.0.1:6443"));
        assert!(cluster.certificate_authority_data.is_some());
    }
}
