//! Compatibility with Python kopf 1.45.2: a real `kopf run` of `tests/python/operator.py`
//! against the embedded server (HTTPS + token via KUBECONFIG), driven through create,
//! update and delete of a custom object.
//!
//! The interpreter is `$KOPF_PYTHON`, else `<workspace>/.venv/bin/python`; it must have
//! kopf installed (`python3 -m venv .venv && .venv/bin/pip install kopf==1.45.2`).

#[path = "python/support.rs"]
mod support;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kopf_apiserver::{RunningServer, ServerConfig};
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

const STEP: Duration = Duration::from_secs(60);
const FINALIZER: &str = "kopf.zalando.org/KopfFinalizerMarker";
const LAST_HANDLED: &str = "kopf.zalando.org/last-handled-configuration";

/// A running `kopf run` whose output lines are collected; killed when dropped.
struct KopfProcess {
    child: Child,
    lines: Arc<(Mutex<Vec<String>>, Condvar)>,
}

impl KopfProcess {
    fn spawn(python: &Path, kubeconfig: &Path, workdir: &Path) -> KopfProcess {
        let operator = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/operator.py");
        let mut child = Command::new(python)
            .args(["-m", "kopf", "run", "--standalone", "-A", "--verbose"])
            .arg(&operator)
            .current_dir(workdir)
            .env("KUBECONFIG", kubeconfig)
            .env("PYTHONUNBUFFERED", "1")
            .env("HOME", workdir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kopf starts");
        let lines = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let readers: [Box<dyn std::io::Read + Send>; 2] = [
            Box::new(child.stdout.take().unwrap()),
            Box::new(child.stderr.take().unwrap()),
        ];
        for reader in readers {
            let lines = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(reader).lines() {
                    let Ok(line) = line else { break };
                    eprintln!("kopf| {line}");
                    let (store, signal) = &*lines;
                    store.lock().unwrap().push(line);
                    signal.notify_all();
                }
            });
        }
        KopfProcess { child, lines }
    }

    /// Waits until `count` output lines contain `text`; panics with the output otherwise.
    fn wait_for_line(&self, text: &str, count: usize) {
        let (store, signal) = &*self.lines;
        let deadline = Instant::now() + STEP;
        let mut lines = store.lock().unwrap();
        loop {
            if lines.iter().filter(|line| line.contains(text)).count() >= count {
                return;
            }
            let now = Instant::now();
            assert!(
                now < deadline,
                "kopf did not log {text:?} ({count}x) in time:\n{}",
                lines.join("\n")
            );
            lines = signal.wait_timeout(lines, deadline - now).unwrap().0;
        }
    }

    fn output(&self) -> String {
        self.lines.0.lock().unwrap().join("\n")
    }
}

impl Drop for KopfProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn crd() -> CustomResourceDefinition {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "kopfexamples.kopf.dev"},
        "spec": {
            "group": "kopf.dev",
            "scope": "Namespaced",
            "names": {"plural": "kopfexamples", "singular": "kopfexample", "kind": "KopfExample", "shortNames": ["kex"]},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    },
                }},
            }],
        },
    }))
    .unwrap()
}

/// Polls the object until `check` accepts it.
async fn wait_for_object(
    api: &Api<DynamicObject>,
    name: &str,
    what: &str,
    check: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + STEP;
    loop {
        let last = match api.get_opt(name).await.unwrap() {
            Some(object) => {
                let json = serde_json::to_value(&object).unwrap();
                if check(&json) {
                    return json;
                }
                Some(json)
            }
            None => None,
        };
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; last seen: {last:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_kopf_handles_create_update_delete() {
    let python = support::python_with_kopf();
    let server = RunningServer::start(ServerConfig::in_memory())
        .await
        .unwrap();
    let workdir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("python-kopf-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&workdir);
    std::fs::create_dir_all(&workdir).unwrap();
    let kubeconfig = workdir.join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).unwrap();

    let kubeconfig_yaml = server.kubeconfig();
    let parsed = kube::config::Kubeconfig::from_yaml(&kubeconfig_yaml).unwrap();
    let config = kube::Config::from_custom_kubeconfig(parsed, &Default::default())
        .await
        .unwrap();
    let client = kube::Client::try_from(config).unwrap();

    let crds = Api::<CustomResourceDefinition>::all(client.clone());
    crds.create(&PostParams::default(), &crd()).await.unwrap();
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("kopf.dev", "v1", "KopfExample"),
        "kopfexamples",
    );
    let api = Api::<DynamicObject>::namespaced_with(client.clone(), "default", &resource);

    let kopf = KopfProcess::spawn(&python, &kubeconfig, &workdir);

    // Create: the create handler runs, kopf adds its finalizer, stores the result in status
    // and the last-handled configuration in an annotation.
    let object: DynamicObject = serde_json::from_value(serde_json::json!({
        "apiVersion": "kopf.dev/v1", "kind": "KopfExample",
        "metadata": {"name": "kopf-example-1"},
        "spec": {"field": "a"},
    }))
    .unwrap();
    api.create(&PostParams::default(), &object).await.unwrap();
    kopf.wait_for_line("Handler 'create_fn' succeeded.", 1);
    kopf.wait_for_line("Creation is processed: 1 succeeded; 0 failed.", 1);
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
    kopf.wait_for_line("Handler 'update_fn' succeeded.", 1);
    kopf.wait_for_line("Updating is processed: 1 succeeded; 0 failed.", 1);
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
    kopf.wait_for_line("Handler 'delete_fn' succeeded.", 1);
    kopf.wait_for_line("Deletion is processed: 1 succeeded; 0 failed.", 1);
    let deadline = Instant::now() + STEP;
    while api.get_opt("kopf-example-1").await.unwrap().is_some() {
        assert!(
            Instant::now() < deadline,
            "the object was not deleted:\n{}",
            kopf.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // No errors from kopf on the way (retries of server errors would show up here).
    let output = kopf.output();
    assert!(
        !output.contains("Traceback"),
        "kopf crashed somewhere:\n{output}"
    );
    drop(kopf);
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&workdir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_kopf_gets_through_injected_faults() {
    let python = support::python_with_kopf();
    let server = RunningServer::start(ServerConfig::in_memory())
        .await
        .unwrap();
    let workdir = support::scratch_dir("python-kopf-faults");
    let kubeconfig = workdir.join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).unwrap();
    let parsed = kube::config::Kubeconfig::from_yaml(&server.kubeconfig()).unwrap();
    let config = kube::Config::from_custom_kubeconfig(parsed, &Default::default())
        .await
        .unwrap();
    let client = kube::Client::try_from(config).unwrap();
    Api::<CustomResourceDefinition>::all(client.clone())
        .create(&PostParams::default(), &crd())
        .await
        .unwrap();
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("kopf.dev", "v1", "KopfExample"),
        "kopfexamples",
    );
    let api = Api::<DynamicObject>::namespaced_with(client.clone(), "default", &resource);

    let kopf = KopfProcess::spawn(&python, &kubeconfig, &workdir);
    kopf.wait_for_line(
        "Starting the watch-stream for kopfexamples.v1.kopf.dev cluster-wide.",
        1,
    );
    // From now on, a fifth of kopf's requests fail (429 with Retry-After or 500) and a
    // fifth of its watch events end the stream.
    let faults = kopf_apiserver::FaultConfig {
        error_429_ratio: 0.1,
        error_500_ratio: 0.1,
        watch_drop_ratio: 0.2,
        ..Default::default()
    };
    server.control().faults().set(faults.clone());
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
    kopf.wait_for_line("Creation is processed: 1 succeeded; 0 failed.", 1);
    server.control().faults().set(Default::default());
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
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&workdir);
}
