//! Handlers declared with `#[kopf::on::*]`: registration, injection, outcomes, filters.

use kopf::{HandlerKind, Outcome, Registry};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Deserialize)]
struct MySpec {
    field: String,
}

#[kopf::on::create("kopfexamples")]
async fn create_fn(
    body: kopf::Body,
    spec: kopf::Spec<MySpec>,
    name: kopf::Name,
    retry: kopf::Retry,
) -> kopf::Result<Value> {
    Ok(
        json!({"name": name.to_string(), "field": spec.field, "retry": *retry, "kind": body["kind"]}),
    )
}

#[kopf::on::update(
    "kopf.dev", "v1", "kopfexamples",
    field = "spec.field", id = "upd", retries = 3, backoff = 1.5, timeout = 60,
    errors = kopf::Errors::Permanent, param = 42
)]
fn update_fn(
    old: kopf::Old,
    new: kopf::New,
    param: kopf::Param<i64>,
    patch: kopf::Patch,
) -> kopf::Result<()> {
    patch.set("status.seen", json!([*old, *new, *param]));
    Ok(())
}

#[kopf::on::delete("kopfexamples", optional = true)]
async fn delete_fn(reason: kopf::Reason, namespace: kopf::Namespace) -> kopf::Result<String> {
    Ok(format!("{reason} in {namespace}"))
}

#[kopf::on::resume("kopfexamples", deleted = true)]
#[kopf::on::delete("kopfexamples")]
async fn resume_fn() {}

#[kopf::on::field("kopfexamples", field = "spec.x", old = kopf::ABSENT, new = kopf::PRESENT)]
async fn field_fn() -> kopf::Result<()> {
    Ok(())
}

#[kopf::on::create("kopfexamples", id = "panicking")]
async fn async_panic() -> kopf::Result<()> {
    panic!("async boom")
}

#[kopf::on::create("kopfexamples", id = "sync-panicking")]
fn sync_panic() {
    panic!("sync boom {}", 42)
}

#[kopf::on::create("kopfexamples", id = "temporary")]
async fn temporary() -> kopf::Result<()> {
    Err(kopf::TemporaryError::new("later").with_delay(7.0))?
}

#[kopf::on::create("kopfexamples", id = "permanent")]
fn permanent() -> kopf::Result<()> {
    Err(kopf::PermanentError::new("never"))?
}

#[kopf::on::create("kopfexamples", id = "other")]
async fn other() -> kopf::Result<()> {
    let parsed: i32 = "not a number".parse()?;
    let _ = parsed;
    Ok(())
}

fn is_x(value: Option<&str>) -> bool {
    value == Some("x")
}

#[kopf::on::create(
    "kopfexamples", id = "filtered",
    labels = {"app": "x", "tier": kopf::PRESENT, "skip": kopf::ABSENT, "pred": is_x},
    annotations = {"note": |v: Option<&str>| v.is_some_and(|v| v.starts_with("ok"))},
    when = |body: &kopf::Body| body.name() != Some("forbidden")
)]
async fn filtered() {}

#[kopf::on::update("kopfexamples", id = "valued", field = "spec.size", value = 3)]
async fn valued() {}

fn registry() -> Registry {
    Registry::linked().expect("no duplicate handlers")
}

fn handler(id: &str, kind: HandlerKind) -> Arc<kopf::Handler> {
    registry()
        .changing()
        .iter()
        .find(|h| h.id == id && h.kind == kind)
        .cloned()
        .unwrap_or_else(|| panic!("handler {id} is registered"))
}

fn body() -> kopf::Body {
    kopf::Body::new(json!({
        "apiVersion": "kopf.dev/v1", "kind": "KopfExample",
        "metadata": {"name": "kex-1", "namespace": "ns1", "uid": "u-1"},
        "spec": {"field": "value", "x": 1},
    }))
}

fn cause(body: kopf::Body) -> kopf::Cause {
    let client =
        kube::Client::try_from(kube::Config::new("http://127.0.0.1:9".parse().unwrap())).unwrap();
    let object = kopf::args::ObjectCause {
        logger: kopf::Logger::new(body.namespace(), body.name().unwrap_or_default(), json!({})),
        body,
        resource: Arc::new(kopf::Resource {
            group: "kopf.dev".into(),
            version: "v1".into(),
            plural: "kopfexamples".into(),
            kind: "KopfExample".into(),
            singular: "kopfexample".into(),
            short_names: vec!["kex".into()],
            categories: vec![],
            namespaced: true,
            has_status_subresource: false,
            verbs: vec![],
        }),
        patch: kopf::Patch::new(),
        memo: kopf::Memo::new(),
        param: None,
        handler_id: "test".into(),
        client,
        shared: Default::default(),
    };
    kopf::Cause {
        object,
        reason: kopf::Reason::Create,
        diff: kopf::Diff::default(),
        old: None,
        new: None,
        retry: 2,
        started: kopf::k8s_openapi::jiff::Timestamp::now(),
    }
}

#[test]
fn attributes_register_in_declaration_order_with_options() {
    let registry = registry();
    let ids: Vec<(HandlerKind, &str)> = registry
        .changing()
        .iter()
        .map(|h| (h.kind, h.id.as_str()))
        .collect();
    assert_eq!(
        ids,
        vec![
            (HandlerKind::Create, "create_fn"),
            (HandlerKind::Update, "upd/spec.field"),
            (HandlerKind::Delete, "delete_fn"),
            (HandlerKind::Resume, "resume_fn"),
            (HandlerKind::Delete, "resume_fn"),
            (HandlerKind::Field, "field_fn/spec.x"),
            (HandlerKind::Create, "panicking"),
            (HandlerKind::Create, "sync-panicking"),
            (HandlerKind::Create, "temporary"),
            (HandlerKind::Create, "permanent"),
            (HandlerKind::Create, "other"),
            (HandlerKind::Create, "filtered"),
            (HandlerKind::Update, "valued/spec.size"),
        ]
    );
    let update = handler("upd/spec.field", HandlerKind::Update);
    assert_eq!(
        update.selector,
        kopf::Selector::from_parts(&["kopf.dev", "v1", "kopfexamples"]).unwrap()
    );
    assert_eq!(
        update.field,
        Some(vec!["spec".to_string(), "field".to_string()])
    );
    assert_eq!(update.policy.retries, Some(3));
    assert_eq!(update.policy.backoff, Some(1.5));
    assert_eq!(update.policy.timeout, Some(60.0));
    assert_eq!(update.policy.errors, kopf::Errors::Permanent);
    assert_eq!(update.param, Some(json!(42)));
    assert!(!handler("delete_fn", HandlerKind::Delete).requires_finalizer());
    assert!(handler("resume_fn", HandlerKind::Delete).requires_finalizer());
    assert!(handler("resume_fn", HandlerKind::Resume).options.deleted);
    assert_eq!(
        handler("create_fn", HandlerKind::Create).policy.errors,
        kopf::Errors::Temporary
    );
    assert_eq!(registry.selectors().len(), 2);
}

#[tokio::test]
async fn arguments_are_injected_and_results_returned() {
    let outcome = handler("create_fn", HandlerKind::Create)
        .invoke(cause(body()))
        .await;
    assert_eq!(
        outcome,
        Outcome::Success(Some(
            json!({"name": "kex-1", "field": "value", "retry": 2, "kind": "KopfExample"})
        ))
    );

    let update = handler("upd/spec.field", HandlerKind::Update);
    let mut c = cause(body());
    c.old = Some(json!("a"));
    c.new = Some(json!("b"));
    c.object.param = update.param.clone();
    let patch = c.object.patch.clone();
    assert_eq!(update.invoke(c).await, Outcome::Success(None));
    assert_eq!(
        patch.snapshot(),
        json!({"status": {"seen": ["a", "b", 42]}})
    );

    let mut c = cause(body());
    c.reason = kopf::Reason::Delete;
    assert_eq!(
        handler("delete_fn", HandlerKind::Delete).invoke(c).await,
        Outcome::Success(Some(json!("delete in ns1")))
    );
    assert_eq!(
        handler("resume_fn", HandlerKind::Resume)
            .invoke(cause(body()))
            .await,
        Outcome::Success(None)
    );
}

#[tokio::test]
async fn a_spec_that_does_not_deserialize_fails_permanently() {
    let bad = kopf::Body::new(json!({"metadata": {"name": "n"}, "spec": {"field": 1}}));
    let outcome = handler("create_fn", HandlerKind::Create)
        .invoke(cause(bad))
        .await;
    let Outcome::Permanent { message } = outcome else {
        panic!("expected a permanent failure, got {outcome:?}")
    };
    assert!(
        message.starts_with("cannot deserialize `spec` as "),
        "{message}"
    );
}

#[tokio::test]
async fn panics_and_errors_map_to_outcomes() {
    let run = |id: &'static str| async move {
        handler(id, HandlerKind::Create).invoke(cause(body())).await
    };
    assert_eq!(
        run("panicking").await,
        Outcome::Exception {
            message: "async boom".into()
        }
    );
    assert_eq!(
        run("sync-panicking").await,
        Outcome::Exception {
            message: "sync boom 42".into()
        }
    );
    assert_eq!(
        run("temporary").await,
        Outcome::Temporary {
            message: "later".into(),
            delay: Some(7.0)
        }
    );
    assert_eq!(
        run("permanent").await,
        Outcome::Permanent {
            message: "never".into()
        }
    );
    assert_eq!(
        run("other").await,
        Outcome::Exception {
            message: "invalid digit found in string".into()
        }
    );
}

fn labelled(labels: Value, annotations: Value, name: &str) -> kopf::Body {
    kopf::Body::new(
        json!({"metadata": {"name": name, "labels": labels, "annotations": annotations}}),
    )
}

#[test]
fn label_annotation_and_when_filters_behave_as_kopf() {
    let h = handler("filtered", HandlerKind::Create);
    let good = json!({"app": "x", "tier": "any", "pred": "x"});
    let note = json!({"note": "ok!"});
    assert!(h.prematches(&labelled(good.clone(), note.clone(), "n")));
    assert!(!h.prematches(&labelled(
        json!({"app": "y", "tier": "a", "pred": "x"}),
        note.clone(),
        "n"
    )));
    assert!(!h.prematches(&labelled(
        json!({"app": "x", "pred": "x"}),
        note.clone(),
        "n"
    )));
    assert!(!h.prematches(&labelled(
        json!({"app": "x", "tier": "a", "skip": "", "pred": "x"}),
        note.clone(),
        "n"
    )));
    assert!(!h.prematches(&labelled(
        json!({"app": "x", "tier": "a", "pred": "y"}),
        note.clone(),
        "n"
    )));
    assert!(!h.prematches(&labelled(good.clone(), json!({"note": "bad"}), "n")));
    assert!(!h.prematches(&labelled(good.clone(), json!({}), "n")));
    assert!(!h.prematches(&labelled(good, note, "forbidden")));
}

#[test]
fn field_value_old_new_filters_behave_as_kopf() {
    let diff = kopf::Diff::default();
    let valued = handler("valued/spec.size", HandlerKind::Update);
    let with_size = |size: Value| kopf::Body::new(json!({"spec": {"size": size}}));
    assert!(valued.prematches(&with_size(json!(3))));
    assert!(!valued.prematches(&with_size(json!(4))));
    let old = json!({"spec": {"size": 2}});
    let new = json!({"spec": {"size": 3}});
    assert!(valued.matches(&with_size(json!(3)), Some(&old), Some(&new), &diff));
    // An update handler with a field needs that field to change.
    assert!(!valued.matches(&with_size(json!(3)), Some(&new), Some(&new), &diff));

    let field = handler("field_fn/spec.x", HandlerKind::Field);
    let body = kopf::Body::new(json!({"spec": {"x": 1}}));
    assert!(field.matches(&body, None, Some(&json!({"spec": {"x": 1}})), &diff));
    assert!(field.matches(
        &body,
        Some(&json!({"spec": {}})),
        Some(&json!({"spec": {"x": 1}})),
        &diff
    ));
    // old must be absent, new present.
    assert!(!field.matches(
        &body,
        Some(&json!({"spec": {"x": 0}})),
        Some(&json!({"spec": {"x": 1}})),
        &diff
    ));
    assert!(!field.matches(
        &body,
        Some(&json!({"spec": {"x": 0}})),
        Some(&json!({"spec": {}})),
        &diff
    ));
}

async fn explicit_fn(name: kopf::Name, memo: kopf::Memo) -> kopf::Result<String> {
    memo.set("seen", json!(true));
    Ok(name.to_string())
}

#[tokio::test]
async fn explicit_registration_needs_no_attributes() {
    let registry = Registry::new()
        .on_create("kopfexamples", explicit_fn)
        .on_field(["kopf.dev/v1", "kopfexamples"], "spec.x", explicit_fn);
    let ids: Vec<&str> = registry.changing().iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["explicit_fn", "explicit_fn/spec.x"]);
    let c = cause(body());
    let memo = c.object.memo.clone();
    assert_eq!(
        registry.changing()[0].invoke(c).await,
        Outcome::Success(Some(json!("kex-1")))
    );
    assert_eq!(memo.get("seen"), Some(json!(true)));
}

#[test]
fn duplicate_ids_are_rejected() {
    let mut registry = Registry::new().on_create("kopfexamples", explicit_fn);
    let again = kopf::Handler::<kopf::families::Changing>::new(
        HandlerKind::Create,
        "kopfexamples",
        explicit_fn,
    );
    let err = registry.try_add(again).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("Duplicate handler id 'explicit_fn'"),
        "{err}"
    );
}
