//! API-01: HTTPS with a generated CA and a bearer token; plain HTTP only as an explicit,
//! unauthenticated mode. Driven by the kube client and kubectl over the written kubeconfig.

use k8s_openapi::api::core::v1::Namespace;
use kopf_apiserver::{RunningServer, ServerConfig, Transport};
use kopf_test_support::{
    api_code, client_for, client_without_retries, config_from, kubectl_async, scratch_dir,
};
use kube::api::{Api, ListParams};

fn names(list: &kube::core::ObjectList<Namespace>) -> Vec<String> {
    list.items
        .iter()
        .filter_map(|ns| ns.metadata.name.clone())
        .collect()
}

#[tokio::test]
async fn https_with_token_serves_the_kube_client() {
    let server = RunningServer::start(ServerConfig::in_memory())
        .await
        .unwrap();
    assert!(server.url().to_string().starts_with("https://127.0.0.1:"));
    let client = client_for(&server.kubeconfig()).await;
    let list = Api::<Namespace>::all(client)
        .list(&ListParams::default())
        .await
        .unwrap();
    assert!(
        names(&list).contains(&"default".to_string()),
        "{:?}",
        names(&list)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn requests_without_the_token_get_401() {
    let server = RunningServer::start(ServerConfig::in_memory())
        .await
        .unwrap();
    // The same kubeconfig minus the token: the CA is still trusted, so TLS works.
    let mut kubeconfig = kube::config::Kubeconfig::from_yaml(&server.kubeconfig()).unwrap();
    for user in &mut kubeconfig.auth_infos {
        if let Some(info) = user.auth_info.as_mut() {
            info.token = None;
        }
    }
    let mut config = config_from(kubeconfig).await;
    config.default_retry = false;
    let client = kube::Client::try_from(config).unwrap();
    let err = Api::<Namespace>::all(client)
        .list(&ListParams::default())
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), Some(401), "{err:?}");
    let kube::Error::Api(status) = err else {
        unreachable!()
    };
    assert_eq!(status.reason, "Unauthorized");

    // A wrong token is no better.
    let wrong = server.kubeconfig().replace("token: ", "token: x");
    let err = Api::<Namespace>::all(client_without_retries(&wrong).await)
        .list(&ListParams::default())
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), Some(401), "{err:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn kubectl_works_over_the_written_kubeconfig() {
    let server = RunningServer::start(ServerConfig::in_memory())
        .await
        .unwrap();
    let dir = scratch_dir("kubectl-https");
    let path = dir.join("kubeconfig");
    server.write_kubeconfig(&path).unwrap();
    let output = kubectl_async(&path, &dir, &["get", "ns"]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("default"), "{stdout}");
    assert!(stdout.contains("kube-system"), "{stdout}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The kubeconfig holds the token: nobody else may read it.
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "kubeconfig mode {mode:o}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn insecure_http_serves_kubectl_and_kube_without_credentials() {
    let config = ServerConfig {
        transport: Transport::InsecureHttp,
        ..ServerConfig::in_memory()
    };
    let server = RunningServer::start(config).await.unwrap();
    assert!(server.url().to_string().starts_with("http://127.0.0.1:"));
    let yaml = server.kubeconfig();
    assert!(!yaml.contains("token"), "{yaml}");
    let client = client_for(&yaml).await;
    let list = Api::<Namespace>::all(client)
        .list(&ListParams::default())
        .await
        .unwrap();
    assert!(names(&list).contains(&"default".to_string()));

    let dir = scratch_dir("kubectl-http");
    let path = dir.join("kubeconfig");
    server.write_kubeconfig(&path).unwrap();
    let output = kubectl_async(&path, &dir, &["get", "ns", "default", "-o", "name"]).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "namespace/default"
    );
    server.shutdown().await;
}
