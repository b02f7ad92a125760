//! kube clients built from a kubeconfig exactly as a user's client would read it, plus the
//! one accessor tests need on kube errors.

/// A kube config from a parsed kubeconfig.
pub async fn config_from(kubeconfig: kube::config::Kubeconfig) -> kube::Config {
    kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
        .await
        .expect("kube accepts the kubeconfig")
}

/// A kube config from kubeconfig YAML.
pub async fn config_for(kubeconfig_yaml: &str) -> kube::Config {
    let kubeconfig =
        kube::config::Kubeconfig::from_yaml(kubeconfig_yaml).expect("the kubeconfig parses");
    config_from(kubeconfig).await
}

/// A kube client from kubeconfig YAML.
pub async fn client_for(kubeconfig_yaml: &str) -> kube::Client {
    kube::Client::try_from(config_for(kubeconfig_yaml).await).expect("a kube client")
}

/// A kube client that does not retry 429/5xx itself, so that injected failures are seen.
pub async fn client_without_retries(kubeconfig_yaml: &str) -> kube::Client {
    let mut config = config_for(kubeconfig_yaml).await;
    config.default_retry = false;
    kube::Client::try_from(config).expect("a kube client")
}

/// The HTTP status code of a kube error, if it is an API error.
pub fn api_code(err: &kube::Error) -> Option<u16> {
    match err {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}
