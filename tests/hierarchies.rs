//! kopf's hierarchies against the embedded API server: children adopted by a kopfexample
//! are created where and as the owner says, and garbage-collected when it is deleted.

use k8s_openapi::api::core::v1::{ConfigMap, Container, Pod, PodSpec};
use kopf_test_support::{TestServer, create_crd, kex, poll_until};
use kube::api::{Api, DeleteParams, DynamicObject, ObjectMeta, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{Value, json};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

fn examples(ts: &TestServer) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("kopf.dev", "v1", "KopfExample");
    Api::namespaced_with(ts.client.clone(), "default", &ApiResource::from_gvk(&gvk))
}

async fn owner(ts: &TestServer, name: &str) -> Value {
    kex(
        ts,
        json!({"apiVersion": "kopf.dev/v1", "kind": "KopfExample",
               "metadata": {"name": name, "labels": {"family": name}}, "spec": {}}),
    )
    .await
}

/// Deletes the owner and waits until every named object is gone.
async fn delete_and_wait_for_collection<K>(
    ts: &TestServer,
    owner: &str,
    children: &[(Api<K>, String)],
) where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    examples(ts)
        .delete(owner, &DeleteParams::default())
        .await
        .unwrap();
    for (api, name) in children {
        let gone = poll_until(DEADLINE, || async {
            api.get_opt(name).await.unwrap().is_none().then_some(())
        });
        assert!(gone.await.is_some(), "{name} was not garbage-collected");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_adopted_typed_pod_is_created_after_its_owner_and_collected_with_it() {
    let ts = kopf_test_support::start().await;
    create_crd(&ts).await;
    let owner = owner(&ts, "parent").await;

    let mut pod = Pod {
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "main".into(),
                image: Some("busybox".into()),
                ..Container::default()
            }],
            ..PodSpec::default()
        }),
        ..Pod::default()
    };
    kopf::adopt(&mut pod, &owner).unwrap();
    assert_eq!(pod.metadata.namespace.as_deref(), Some("default"));

    let pods: Api<Pod> = Api::namespaced(ts.client.clone(), "default");
    let created = pods.create(&PostParams::default(), &pod).await.unwrap();
    let name = created.metadata.name.clone().unwrap();
    assert!(name.starts_with("parent-"), "{name}");
    assert_eq!(created.metadata.labels.unwrap()["family"], "parent");
    let refs = serde_json::to_value(created.metadata.owner_references.unwrap()).unwrap();
    assert_eq!(
        refs,
        json!([{"apiVersion": "kopf.dev/v1", "blockOwnerDeletion": true, "controller": true,
                "kind": "KopfExample", "name": "parent", "uid": owner["metadata"]["uid"]}])
    );

    delete_and_wait_for_collection(&ts, "parent", &[(pods, name)]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopted_json_and_dynamic_children_are_collected_with_their_owner() {
    let ts = kopf_test_support::start().await;
    create_crd(&ts).await;
    owner(&ts, "dynamic-parent").await;
    // The owner as a handler would not see it: read back as a DynamicObject.
    let owner = examples(&ts).get("dynamic-parent").await.unwrap();

    let mut json_child = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"from": "json"}});
    kopf::adopt(&mut json_child, &owner).unwrap();
    let mut dynamic_child: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "dynamic-child"}, "data": {"from": "dynamic"},
    }))
    .unwrap();
    kopf::adopt(&mut dynamic_child, &owner).unwrap();
    assert_eq!(
        dynamic_child.metadata.name.as_deref(),
        Some("dynamic-child")
    );

    let maps: Api<ConfigMap> = Api::namespaced(ts.client.clone(), "default");
    let from_json: ConfigMap = serde_json::from_value(json_child).unwrap();
    let from_json = maps
        .create(&PostParams::default(), &from_json)
        .await
        .unwrap();
    let json_name = from_json.metadata.name.clone().unwrap();
    assert!(json_name.starts_with("dynamic-parent-"), "{json_name}");

    let config_maps = ApiResource::erase::<ConfigMap>(&());
    let dynamic: Api<DynamicObject> =
        Api::namespaced_with(ts.client.clone(), "default", &config_maps);
    let created = dynamic
        .create(&PostParams::default(), &dynamic_child)
        .await
        .unwrap();
    let ObjectMeta {
        owner_references,
        labels,
        ..
    } = created.metadata;
    assert_eq!(
        owner_references.unwrap()[0].uid,
        owner.metadata.uid.clone().unwrap()
    );
    assert_eq!(labels.unwrap()["family"], "dynamic-parent");

    let children = [
        (maps.clone(), json_name),
        (maps, "dynamic-child".to_string()),
    ];
    delete_and_wait_for_collection(&ts, "dynamic-parent", &children).await;
}
