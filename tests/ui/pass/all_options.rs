use kopf::k8s_openapi::api::core::v1::ConfigMap;
use serde::Deserialize;

#[derive(Deserialize)]
struct MySpec {
    field: Option<String>,
}

fn is_ok(value: Option<&str>) -> bool {
    value.is_some()
}

fn my_when(body: &kopf::Body) -> bool {
    body.name().is_some()
}

#[kopf::on::create("ephemeralvolumeclaims")]
async fn create_fn(body: kopf::Body) -> kopf::Result<()> {
    println!("A handler is called with body: {body}");
    Ok(())
}

#[kopf::on::update(
    "kopf.dev", "v1", "kopfexamples",
    field = "spec.field", id = "upd", retries = 3, backoff = 1.5, timeout = 60.0,
    errors = kopf::Errors::Permanent,
    labels = {"app": "x", "tier": kopf::PRESENT, "skip": kopf::ABSENT, "pred": is_ok},
    annotations = {"a": "b"},
    when = my_when, param = 42, value = "x", old = "a", new = "b",
)]
fn update_fn(
    spec: kopf::Spec<MySpec>,
    diff: kopf::Diff,
    old: kopf::Old,
    new: kopf::New,
    logger: kopf::Logger,
    patch: kopf::Patch,
    retry: kopf::Retry,
) -> kopf::Result<kopf::serde_json::Value> {
    logger.info(format!(
        "{:?} {:?} {:?} {:?} {retry}",
        spec.field, diff, old, new
    ));
    patch.set("status.x", kopf::serde_json::json!(1));
    Ok(kopf::serde_json::json!({"ok": true}))
}

#[kopf::on::delete(ConfigMap, optional = true)]
async fn delete_fn(
    meta: kopf::Meta,
    name: kopf::Name,
    namespace: kopf::Namespace,
    uid: kopf::Uid,
    labels: kopf::Labels,
    annotations: kopf::Annotations,
    status: kopf::Status,
    reason: kopf::Reason,
    started: kopf::Started,
    runtime: kopf::Runtime,
) {
    println!(
        "{meta} {name} {namespace} {uid} {labels:?} {annotations:?} {status} {reason} {started} {runtime}"
    );
}

#[kopf::on::resume("kopfexamples", deleted = true)]
#[kopf::on::field("kopfexamples", field = "spec.x")]
async fn resume_fn(
    memo: kopf::Memo,
    param: kopf::Param<Option<i32>>,
    resource: kopf::Resource,
    client: kopf::kube::Client,
) -> kopf::Result<Option<String>> {
    let _ = (memo, client);
    Ok(param.map(|p| format!("{p} {resource}")))
}

#[kopf::on::create("v1", "pods")]
fn unit_fn() {}

fn main() {
    let registry = kopf::Registry::linked().unwrap();
    assert_eq!(registry.changing().len(), 6);
}
