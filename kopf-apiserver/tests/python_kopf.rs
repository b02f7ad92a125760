//! Compatibility with Python kopf 1.45.2: a real `kopf run` of `tests/python/operator.py`
//! against the embedded server (HTTPS + token via KUBECONFIG), driven through create,
//! update and delete of a custom object.
//!
//! The interpreter is `$KOPF_PYTHON`, else `<workspace>/.venv/bin/python`; it must have
//! kopf installed (`python3 -m venv .venv && .venv/bin/pip install kopf==1.45.2`).

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kopf_test_support::{CRD, Process, poll_until, python_with_kopf, start};
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use std::cell::RefCell;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const STEP: Duration = Duration::from_secs(60);
const FINALIZER: &str = "kopf.zalando.org/KopfFinalizerMarker";
const LAST_HANDLED: &str = "kopf.zalando.org/last-handled-configuration";

/// Starts `kopf run` of the test operator; its output lines are collected, and it is
/// killed when dropped.
fn spawn_kopf(python: &Path, kubeconfig: &Path, workdir: &Path) -> Process {
    let operator = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/operator.py");
    Process::spawn(
        Command::new(python)
            .args(["-m", "kopf", "run", "--standalone", "-A", "--verbose"])
            .arg(&operator)
            .current_dir(workdir)
            .env("KUBECONFIG", kubeconfig)
            .env("PYTHONUNBUFFERED", "1")
            .env("HOME", workdir),
    )
}

fn crd() -> CustomResourceDefinition {
    serde_json::from_str(CRD).unwrap()
}

/// Polls the object until `check` accepts it.
async fn wait_for_object(
    api: &Api<DynamicObject>,
    name: &str,
    what: &str,
    check: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let last = RefCell::new(None);
    let found = poll_until(STEP, || async {
        let json = api
            .get_opt(name)
            .await
            .unwrap()
            .map(|object| serde_json::to_value(&object).unwrap());
        if json.as_ref().is_some_and(&check) {
            return json;
        }
        *last.borrow_mut() = json;
        None
    })
    .await;
    found.unwrap_or_else(|| {
        panic!(
            "timed out waiting for {what}; last seen: {:#?}",
            last.borrow()
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_kopf_handles_create_update_delete() {
    let python = python_with_kopf();
    let ts = start().await;

    let crds = Api::<CustomResourceDefinition>::all(ts.client.clone());
    crds.create(&PostParams::default(), &crd()).await.unwrap();
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("kopf.dev", "v1", "KopfExample"),
        "kopfexamples",
    );
    let api = Api::<DynamicObject>::namespaced_with(ts.client.clone(), "default", &resource);

    let mut kopf = spawn_kopf(&python, &ts.kubeconfig, &ts.dir);

    // Create: the create handler runs, kopf adds its finalizer, stores the result in status
    // and the last-handled configuration in an annotation.
    let object: DynamicObject = serde_json::from_value(serde_json::json!({
        "apiVersion": "kopf.dev/v1", "kind": "KopfExample",
        "metadata": {"name": "kopf-example-1"},
        "spec": {"field": "a"},
    }))
    .unwrap();
    api.create(&PostParams::default(), &object).await.unwrap();
    kopf.wait_for_count("Handler 'create_fn' succeeded.", 1, STEP);
    kopf.wait_for_count("Creation is processed: 1 succeeded; 0 failed.", 1, STEP);
    let json = wait_for_object(&api, "kopf-example-1", "the create results", |json| {
        json["metadata"]["annotations"][LAST_HANDLED].is_string()
            && json["status"]["create_fn"]["message"] == "created with a"
    })
    .await;
    let finalizers = json["metadata"]["finalizers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(finalizers.iter().any(|f| f == FINALIZER), "{json:#}");
    let last_handled: serde_json::Value = serde_json::from_str(
        json["metadata"]["annotations"][LAST_HANDLED]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(last_handled, serde_json::json!({"spec": {"field": "a"}}));

    // Update: the update handler runs and the last-handled configuration follows.
    let patch = serde_json::json!({"spec": {"field": "b"}});
    api.patch(
        "kopf-example-1",
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await
    .unwrap();
    kopf.wait_for_count("Handler 'update_fn' succeeded.", 1, STEP);
    kopf.wait_for_count("Updating is processed: 1 succeeded; 0 failed.", 1, STEP);
    let json = wait_for_object(&api, "kopf-example-1", "the update results", |json| {
        json["status"]["update_fn"]["message"] == "updated to b"
            && json["metadata"]["annotations"][LAST_HANDLED]
                .as_str()
                .is_some_and(|s| s.contains("\"b\""))
    })
    .await;
    assert!(
        json["metadata"]["finalizers"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f == FINALIZER))
    );

    // Delete: held by the finalizer until the delete handler ran, then gone.
    api.delete("kopf-example-1", &Default::default())
        .await
        .unwrap();
    kopf.wait_for_count("Handler 'delete_fn' succeeded.", 1, STEP);
    kopf.wait_for_count("Deletion is processed: 1 succeeded; 0 failed.", 1, STEP);
    let gone = poll_until(STEP, || async {
        api.get_opt("kopf-example-1")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    assert!(
        gone.is_some(),
        "the object was not deleted:\n{}",
        kopf.output()
    );

    // No errors from kopf on the way (retries of server errors would show up here).
    let output = kopf.output();
    assert!(
        !output.contains("Traceback"),
        "kopf crashed somewhere:\n{output}"
    );
    drop(kopf);
    ts.server.shutdown().await;
    let _ = std::fs::remove_dir_all(&ts.dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_kopf_gets_through_injected_faults() {
    let python = python_with_kopf();
    let ts = start().await;
    Api::<CustomResourceDefinition>::all(ts.client.clone())
        .create(&PostParams::default(), &crd())
        .await
        .unwrap();
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("kopf.dev", "v1", "KopfExample"),
        "kopfexamples",
    );
    let api = Api::<DynamicObject>::namespaced_with(ts.client.clone(), "default", &resource);

    let mut kopf = spawn_kopf(&python, &ts.kubeconfig, &ts.dir);
    kopf.wait_for_count(
        "Starting the watch-stream for kopfexamples.v1.kopf.dev cluster-wide.",
        1,
        STEP,
    );
    // From now on, a fifth of kopf's requests fail (429 with Retry-After or 500) and a
    // fifth of its watch events end the stream.
    let faults = kopf_apiserver::FaultConfig {
        error_429_ratio: 0.1,
        error_500_ratio: 0.1,
        watch_drop_ratio: 0.2,
        ..Default::default()
    };
    ts.server.control().faults().set(faults.clone());
    let object: DynamicObject = serde_json::from_value(serde_json::json!({
        "apiVersion": "kopf.dev/v1", "kind": "KopfExample",
        "metadata": {"name": "kopf-example-faults"},
        "spec": {"field": "x"},
    }))
    .unwrap();
    // Our own create rides through the faults too (kube retries 429, not 500).
    let mut attempts = 0;
    while let Err(err) = api.create(&PostParams::default(), &object).await {
        attempts += 1;
        assert!(attempts < 20, "cannot create through the faults: {err}");
        if matches!(&err, kube::Error::Api(status) if status.code == 409) {
            break; // An earlier attempt did create it.
        }
    }
    kopf.wait_for_count("Creation is processed: 1 succeeded; 0 failed.", 1, STEP);
    ts.server.control().faults().set(Default::default());
    let json = wait_for_object(&api, "kopf-example-faults", "the create results", |json| {
        json["metadata"]["annotations"][LAST_HANDLED].is_string()
            && json["status"]["create_fn"]["message"] == "created with x"
    })
    .await;
    assert!(
        json["metadata"]["finalizers"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f == FINALIZER))
    );
    drop(kopf);
    ts.server.shutdown().await;
    let _ = std::fs::remove_dir_all(&ts.dir);
}
