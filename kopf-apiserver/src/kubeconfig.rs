//! The kubeconfig a running server writes for its clients. OWNER: helper "apiserver-ops".

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
