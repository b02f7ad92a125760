//! Rule: JSON patches are applied as kube-apiserver applies them (evanphx/json-patch): a
//! `test` of `null` passes against a missing member. kube-rs's `runtime::finalizer` helper
//! relies on it for its first write; a kube-rs `Controller` with it runs through creation
//! and deletion here as against a real cluster.

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kopf_test_support::{poll_until, start};
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{Event, finalizer};
use kube::runtime::watcher;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const FINALIZER: &str = "example.com/cleanup";
const DEADLINE: Duration = Duration::from_secs(30);

struct Context {
    api: Api<ConfigMap>,
    journal: Mutex<Vec<String>>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Failure(String);

async fn reconcile(object: Arc<ConfigMap>, ctx: Arc<Context>) -> Result<Action, Failure> {
    let journal = &ctx.journal;
    finalizer(&ctx.api, FINALIZER, object, |event| async move {
        let (what, name) = match &event {
            Event::Apply(o) => ("applied", o.metadata.name.clone()),
            Event::Cleanup(o) => ("cleaned", o.metadata.name.clone()),
        };
        journal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(format!("{what} {}", name.unwrap_or_default()));
        Ok::<_, Failure>(Action::await_change())
    })
    .await
    .map_err(|e| Failure(e.to_string()))
}

fn error_policy(_: Arc<ConfigMap>, _: &Failure, _: Arc<Context>) -> Action {
    Action::requeue(Duration::from_millis(200))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_121_kube_rs_finalizer_helper_runs_through_create_and_delete() {
    let ts = start().await;
    let api: Api<ConfigMap> = Api::namespaced(ts.client.clone(), "default");
    let ctx = Arc::new(Context {
        api: api.clone(),
        journal: Mutex::new(Vec::new()),
    });
    let controller = tokio::spawn(
        Controller::new(api.clone(), watcher::Config::default())
            .run(reconcile, error_policy, ctx.clone())
            .for_each(|_| async {}),
    );
    let journal = || {
        ctx.journal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    };

    let cm: ConfigMap = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "cm-1"}, "data": {"a": "b"}
    }))
    .unwrap();
    api.create(&PostParams::default(), &cm).await.unwrap();
    let applied = poll_until(DEADLINE, || async {
        let object = api.get("cm-1").await.ok()?;
        let has = object
            .metadata
            .finalizers
            .unwrap_or_default()
            .contains(&FINALIZER.to_string());
        (has && journal().contains(&"applied cm-1".to_string())).then_some(())
    })
    .await;
    assert!(
        applied.is_some(),
        "the finalizer was added and Apply ran: {:?}",
        journal()
    );

    api.delete("cm-1", &DeleteParams::default()).await.unwrap();
    let gone = poll_until(DEADLINE, || async {
        api.get_opt("cm-1").await.ok()?.is_none().then_some(())
    })
    .await;
    assert!(gone.is_some(), "the finalizer was removed: {:?}", journal());
    assert!(
        journal().contains(&"cleaned cm-1".to_string()),
        "{:?}",
        journal()
    );
    controller.abort();
}
