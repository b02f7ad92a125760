//! Indices declared with `#[kopf::index]`, run in-process by `kopf::Operator` against the
//! embedded API server: kept current from the watch, read from handlers of another
//! resource through the generated argument type, and complete before handlers run.

use k8s_openapi::api::core::v1::Pod;
use kopf_test_support::{config_for, create_crd, poll_until};
use kube::api::{Api, DeleteParams, DynamicObject, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::oneshot;

const DEADLINE: Duration = Duration::from_secs(30);

/// What the handlers saw of the index, in order.
static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn seen() -> Vec<String> {
    SEEN.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

fn see(line: String) {
    SEEN.lock().unwrap_or_else(|p| p.into_inner()).push(line);
}

/// Pods by namespace: kopf's dict of key → value.
#[kopf::index("v1", "pods", labels = {"indexed": "yes"})]
fn pods_by_namespace(
    namespace: kopf::Namespace,
    name: kopf::Name,
) -> Option<BTreeMap<String, String>> {
    Some(BTreeMap::from([(namespace.to_string(), name.to_string())]))
}

#[kopf::on::create("kopfexamples")]
async fn count_on_creation(name: kopf::Name, pods: PodsByNamespaceIndex) {
    see(format!(
        "created {}: {:?}",
        *name,
        sorted(pods.get_as::<String>("default"))
    ));
}

#[kopf::timer("kopfexamples", interval = 0.1)]
async fn count_on_timer(pods: PodsByNamespaceIndex) {
    see(format!(
        "timer: {:?}",
        sorted(pods.get_as::<String>("default"))
    ));
}

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names
}

async fn pod(pods: &Api<Pod>, name: &str, indexed: bool) {
    let label = if indexed { "yes" } else { "no" };
    let pod: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"indexed": label}},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]},
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_of_pods_is_complete_before_handlers_and_follows_deletions() {
    let ts = kopf_test_support::start().await;
    create_crd(&ts).await;
    let pods: Api<Pod> = Api::namespaced(ts.client.clone(), "default");
    for name in ["pod-a", "pod-b", "pod-c"] {
        pod(&pods, name, true).await;
    }
    pod(&pods, "pod-unlabelled", false).await;
    let gvk = GroupVersionKind::gvk("kopf.dev", "v1", "KopfExample");
    let examples: Api<DynamicObject> =
        Api::namespaced_with(ts.client.clone(), "default", &ApiResource::from_gvk(&gvk));
    let object: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "kopf.dev/v1", "kind": "KopfExample",
        "metadata": {"name": "reader"}, "spec": {},
    }))
    .unwrap();
    examples
        .create(&PostParams::default(), &object)
        .await
        .unwrap();

    let client = kube::Client::try_from(config_for(&ts.server.kubeconfig()).await).unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let operator = tokio::spawn(
        kopf::Operator::new(kopf::Registry::linked().unwrap())
            .client(client)
            .cluster_wide()
            .run(async move {
                let _ = stopped.await;
            }),
    );

    let wait = |what: &'static str, line: &'static str| async move {
        let found = poll_until(DEADLINE, || async {
            seen().iter().any(|l| l == line).then_some(())
        });
        assert!(
            found.await.is_some(),
            "timed out waiting for {what}; seen: {:?}",
            seen()
        );
    };
    wait(
        "the creation",
        "created reader: [\"pod-a\", \"pod-b\", \"pod-c\"]",
    )
    .await;
    // Whatever any handler saw, it saw the complete index: they waited for its listing.
    let complete = "[\"pod-a\", \"pod-b\", \"pod-c\"]";
    assert!(seen().iter().all(|l| l.ends_with(complete)), "{:?}", seen());

    pods.delete("pod-b", &DeleteParams::default())
        .await
        .unwrap();
    wait("the deletion in the index", "timer: [\"pod-a\", \"pod-c\"]").await;
    pod(&pods, "pod-d", true).await;
    wait(
        "the addition in the index",
        "timer: [\"pod-a\", \"pod-c\", \"pod-d\"]",
    )
    .await;

    drop(stop);
    let ended = tokio::time::timeout(DEADLINE, operator).await;
    assert!(ended.expect("stops in time").expect("no panic").is_ok());
}
