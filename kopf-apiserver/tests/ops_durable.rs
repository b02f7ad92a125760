//! Durable storage end to end: objects and the resourceVersion counter survive a restart
//! of the server on the same data directory, and the kubeconfig stays valid.

use k8s_openapi::api::core::v1::ConfigMap;
use kopf_apiserver::{RunningServer, ServerConfig};
use kopf_test_support::{client_for, scratch_dir};
use kube::api::{Api, ListParams, PostParams};
use std::collections::BTreeMap;

fn config_map(name: &str, value: &str) -> ConfigMap {
    ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        data: Some(BTreeMap::from([("value".to_string(), value.to_string())])),
        ..Default::default()
    }
}

fn rv(meta: &kube::api::ObjectMeta) -> u64 {
    meta.resource_version.as_deref().unwrap().parse().unwrap()
}

#[tokio::test]
async fn objects_and_the_counter_survive_a_restart() {
    let dir = scratch_dir("durable");
    let data = dir.join("data");

    let server = RunningServer::start(ServerConfig::durable(&data))
        .await
        .unwrap();
    let first_kubeconfig = server.kubeconfig();
    let api = Api::<ConfigMap>::namespaced(client_for(&first_kubeconfig).await, "default");
    let mut last_rv = 0;
    for i in 0..20 {
        let created = api
            .create(
                &PostParams::default(),
                &config_map(&format!("cm-{i}"), &i.to_string()),
            )
            .await
            .unwrap();
        last_rv = last_rv.max(rv(&created.metadata));
    }
    api.delete("cm-0", &Default::default()).await.unwrap();
    let before = api.list(&ListParams::default()).await.unwrap();
    let list_rv: u64 = before
        .metadata
        .resource_version
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    assert!(list_rv > last_rv, "the delete bumped the counter");
    server.shutdown().await;

    let server = RunningServer::start(ServerConfig::durable(&data))
        .await
        .unwrap();
    // Same CA and token: the kubeconfig written before the restart still works (the
    // port may differ, so only the credentials are compared).
    let second_kubeconfig = server.kubeconfig();
    let credentials = |yaml: &str| {
        yaml.lines()
            .filter(|l| l.contains("certificate-authority-data") || l.contains("token"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        credentials(&first_kubeconfig),
        credentials(&second_kubeconfig)
    );

    let api = Api::<ConfigMap>::namespaced(client_for(&second_kubeconfig).await, "default");
    let after = api.list(&ListParams::default()).await.unwrap();
    let names = |list: &kube::core::ObjectList<ConfigMap>| {
        list.items
            .iter()
            .map(|cm| {
                (
                    cm.metadata.name.clone().unwrap(),
                    cm.metadata.resource_version.clone(),
                    cm.data.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&after), names(&before));
    assert!(
        after
            .items
            .iter()
            .all(|cm| cm.metadata.name.as_deref() != Some("cm-0"))
    );
    let after_rv: u64 = after
        .metadata
        .resource_version
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        after_rv >= list_rv,
        "the counter went back: {after_rv} < {list_rv}"
    );

    // New writes continue above every version handed out before the restart.
    let created = api
        .create(&PostParams::default(), &config_map("after-restart", "x"))
        .await
        .unwrap();
    assert!(rv(&created.metadata) > list_rv);
    server.shutdown().await;
}
