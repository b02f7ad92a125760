//! `kopf::testing` as an operator's author uses it from their own `#[tokio::test]`: the
//! handlers linked into the test binary run in-process against an in-memory API server;
//! the test applies manifests and typed objects, waits for conditions and log lines, reads
//! the handlers' outcomes, injects faults, and stops the operator with its exit status.

use kopf::kube::core::{ApiResource, NamespaceResourceScope};
use kopf::kube::{Api, Resource, api::DeleteParams, api::ObjectMeta};
use kopf::testing::{
    DEFAULT_FINALIZER, FaultConfig, LAST_HANDLED, Runner, Verdict, has_annotation, has_finalizer,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

// ---- a typed custom resource, as `#[derive(kube::CustomResource)]` would make it -------

const CRD: &str = r#"{
  "apiVersion": "apiextensions.k8s.io/v1",
  "kind": "CustomResourceDefinition",
  "metadata": {"name": "kopfexamples.kopf.dev"},
  "spec": {
    "group": "kopf.dev",
    "scope": "Namespaced",
    "names": {"plural": "kopfexamples", "singular": "kopfexample", "kind": "KopfExample"},
    "versions": [{
      "name": "v1", "served": true, "storage": true,
      "subresources": {"status": {}},
      "schema": {"openAPIV3Schema": {
        "type": "object",
        "properties": {
          "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
          "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
        }
      }}
    }]
  }
}"#;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct KopfExample {
    metadata: ObjectMeta,
    #[serde(default)]
    spec: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<Value>,
}

impl Resource for KopfExample {
    type DynamicType = ();
    type Scope = NamespaceResourceScope;
    fn kind(_: &()) -> Cow<'_, str> {
        "KopfExample".into()
    }
    fn group(_: &()) -> Cow<'_, str> {
        "kopf.dev".into()
    }
    fn version(_: &()) -> Cow<'_, str> {
        "v1".into()
    }
    fn plural(_: &()) -> Cow<'_, str> {
        "kopfexamples".into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

impl kopf::kube::CustomResourceExt for KopfExample {
    fn crd()
    -> k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition
    {
        serde_json::from_str(CRD).expect("the CRD parses")
    }
    fn crd_name() -> &'static str {
        "kopfexamples.kopf.dev"
    }
    fn api_resource() -> ApiResource {
        ApiResource::erase::<KopfExample>(&())
    }
    fn shortnames() -> &'static [&'static str] {
        &[]
    }
}

fn example(name: &str, spec: Value) -> KopfExample {
    KopfExample {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("default".into()),
            ..ObjectMeta::default()
        },
        spec,
        status: None,
    }
}

// ---- the operator's handlers, linked into this test binary --------------------------

/// The operator-wide memo the runner gives the handlers.
struct Greeting(&'static str);

#[kopf::on::create("kopf.dev", "v1", "kopfexamples")]
async fn create_fn(
    name: kopf::Name,
    spec: kopf::Spec,
    logger: kopf::Logger,
    greeting: kopf::OperatorMemo<Greeting>,
) -> kopf::Result<Value> {
    let Greeting(text) = &*greeting;
    logger.info(format!("{text}, {}! field={}", *name, spec["field"]));
    Ok(json!({"message": format!("created {}", *name)}))
}

static ATTEMPTS: Mutex<BTreeMap<String, u32>> = Mutex::new(BTreeMap::new());

/// A plain (blocking) handler that fails once per object, then succeeds.
#[kopf::on::create("kopf.dev", "v1", "kopfexamples", backoff = 0.1)]
fn flaky(name: kopf::Name, logger: kopf::Logger) -> kopf::Result<()> {
    let attempt = {
        let mut attempts = ATTEMPTS.lock().unwrap_or_else(|p| p.into_inner());
        let attempt = attempts.entry(name.to_string()).or_default();
        *attempt += 1;
        *attempt
    };
    logger.info(format!("Flaky attempt {attempt}."));
    if attempt == 1 {
        return Err(kopf::TemporaryError::new("not yet").with_delay(0.1).into());
    }
    Ok(())
}

#[kopf::on::delete("kopf.dev", "v1", "kopfexamples")]
async fn delete_fn(logger: kopf::Logger) {
    logger.info("Deleting.");
}

// ---- the tests ----------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_linked_operator_is_tested_in_process_through_faults_to_its_exit() {
    let runner = Runner::linked()
        .crd::<KopfExample>()
        .namespaces(["default"])
        .memo(Greeting("Hello"))
        .start()
        .await
        .expect("the runner starts");
    assert!(runner.is_running());

    // A typed object: the closure sees the handler's result in its status.
    runner
        .create(&example("kex-typed", json!({"field": 1})))
        .await
        .unwrap();
    let handled = runner
        .wait_for::<KopfExample>(
            "default",
            "kex-typed",
            |kex| {
                kex.status
                    .as_ref()
                    .is_some_and(|s| s["create_fn"].is_object())
            },
            DEADLINE,
        )
        .await
        .unwrap();
    assert_eq!(
        handled.status.unwrap()["create_fn"]["message"],
        "created kex-typed"
    );
    let line = runner
        .wait_for_log("Hello, kex-typed! field=1", DEADLINE)
        .await
        .unwrap();
    assert!(line.contains("kopf.objects"), "kopf's full format: {line}");
    assert!(line.contains("[default/kex-typed]"), "{line}");
    // The plain handler's lines are captured too (it runs on another thread).
    runner
        .wait_for_log("[default/kex-typed] Flaky attempt 2.", DEADLINE)
        .await
        .unwrap();
    let succeeded = runner.handler_succeeded("flaky");
    let done = runner
        .wait_for::<KopfExample>(
            "default",
            "kex-typed",
            |kex| succeeded(kex) && has_annotation(LAST_HANDLED)(kex),
            DEADLINE,
        )
        .await
        .unwrap();
    assert!(has_finalizer(DEFAULT_FINALIZER)(&done), "{done:?}");

    // The outcomes: `flaky` failed once and was retried, both succeeded once.
    let outcomes: Vec<(String, Option<String>, Verdict)> = runner
        .outcomes()
        .into_iter()
        .map(|o| (o.handler, o.object, o.verdict))
        .collect();
    let object = Some("default/kex-typed".to_string());
    assert!(
        outcomes.contains(&("flaky".into(), object.clone(), Verdict::Retrying)),
        "{outcomes:?}"
    );
    assert_eq!(runner.count("flaky", Verdict::Retrying), 1, "{outcomes:?}");
    assert_eq!(runner.count("flaky", Verdict::Succeeded), 1, "{outcomes:?}");
    assert_eq!(runner.count("create_fn", Verdict::Succeeded), 1);
    assert_eq!(runner.count("create_fn", Verdict::Failed), 0);

    // Faults: every request fails and the watches drop; the operator notices, retries,
    // and handles what was created meanwhile once the server heals.
    runner.faults().set(FaultConfig {
        error_500_ratio: 1.0,
        ..FaultConfig::default()
    });
    runner.drop_watches();
    runner
        .wait_for_log("failed, retrying", DEADLINE)
        .await
        .unwrap();
    runner
        .apply("{apiVersion: kopf.dev/v1, kind: KopfExample, metadata: {name: kex-yaml}, spec: {field: 2}}")
        .await
        .unwrap();
    assert!(
        runner
            .get::<KopfExample>("default", "kex-yaml")
            .await
            .is_err(),
        "the test's client sees the faults too"
    );
    runner.faults().set(FaultConfig::default());
    runner
        .wait_for::<KopfExample>(
            "default",
            "kex-yaml",
            runner.handler_succeeded("create_fn"),
            DEADLINE,
        )
        .await
        .unwrap();
    runner
        .wait_for_log("[default/kex-yaml] Hello, kex-yaml! field=2", DEADLINE)
        .await
        .unwrap();

    // Deletion: the finalizer holds the object until the deletion handler succeeds.
    let api: Api<KopfExample> = Api::namespaced(runner.client(), "default");
    api.delete("kex-typed", &DeleteParams::default())
        .await
        .unwrap();
    runner
        .wait_for_gone::<KopfExample>("default", "kex-typed", DEADLINE)
        .await
        .unwrap();
    assert_eq!(runner.count("delete_fn", Verdict::Succeeded), 1);

    // A wait in vain says what it waited for and what it saw.
    let err = runner
        .wait_for::<KopfExample>("default", "kex-yaml", |_| false, Duration::from_millis(200))
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("KopfExample default/kex-yaml"),
        "{message}"
    );
    assert!(message.contains("the operator runs"), "{message}");

    assert!(runner.logs().len() > 10);
    let stopped = runner.stop().await;
    assert!(stopped.is_ok(), "{stopped:?}");
}

async fn failing_startup() -> kopf::Result<()> {
    Err(kopf::PermanentError::new("the database is unreachable").into())
}

async fn seen(name: kopf::Name, logger: kopf::Logger) {
    logger.info(format!("Seen {}.", *name));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_runner_captures_its_own_operator_and_returns_its_exit_status() {
    let watching = Runner::new(kopf::Registry::new().on_event("configmaps", seen))
        .start()
        .await
        .unwrap();
    let failing = Runner::new(
        kopf::Registry::new()
            .on_startup(failing_startup)
            .on_event("configmaps", seen),
    )
    .echo(false)
    .start()
    .await
    .unwrap();

    watching
        .apply("{apiVersion: v1, kind: ConfigMap, metadata: {name: cm-1}}")
        .await
        .unwrap();
    watching
        .wait_for_log("[default/cm-1] Seen cm-1.", DEADLINE)
        .await
        .unwrap();

    // The failed startup stops the operator: its lines are its own, and `stop` says why.
    failing
        .wait_for_log("Activity 'failing_startup' failed permanently", DEADLINE)
        .await
        .unwrap();
    // The line is logged just before the operator's task ends: wait for the end.
    let stopped = kopf_test_support::poll_until(DEADLINE, || {
        let running = failing.is_running();
        async move { (!running).then_some(()) }
    })
    .await;
    assert!(
        stopped.is_some(),
        "the failed startup did not stop the operator"
    );
    assert_eq!(failing.count("failing_startup", Verdict::Failed), 1);
    assert!(!failing.logs().iter().any(|l| l.contains("Seen")));
    assert!(
        !watching
            .logs()
            .iter()
            .any(|l| l.contains("failing_startup"))
    );
    let status = failing.stop().await;
    assert!(
        matches!(status, Err(kopf::OperatorError::Startup(_))),
        "{status:?}"
    );

    // Dropping a runner stops its operator and server.
    drop(watching);
}
