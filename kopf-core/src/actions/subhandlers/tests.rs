//! Sub-handlers run within their parent's invocations, as kopf runs them: one per
//! invocation in `asap`, all in `all_at_once`; records, results and subrefs in the patch.

use super::*;
use crate::errors::{Error, TemporaryError};
use crate::intents::causes::{ObjectCause, Reason};
use crate::intents::families::HandlerKind;
use crate::invocation::attempt_args::Retry;
use crate::logging::ObjectLogger;
use crate::structs::diff::Diff;
use crate::structs::memo::Memo;
use crate::structs::patch::Patch;
use crate::structs::resource::Resource;
use serde_json::{Value, json};

type Calls = Arc<Mutex<Vec<String>>>;

fn push(calls: &Calls, line: String) {
    calls.lock().unwrap().push(line);
}

fn cause(body: &Value) -> ChangingCause {
    let config = kube::Config::new("http://127.0.0.1:9".parse().unwrap());
    let body = Body::new(body.clone());
    ChangingCause {
        object: ObjectCause {
            logger: ObjectLogger::new(body.namespace(), body.name().unwrap_or_default(), json!({})),
            body,
            resource: Arc::new(Resource {
                group: "kopf.dev".into(),
                version: "v1".into(),
                plural: "kopfexamples".into(),
                kind: "KopfExample".into(),
                singular: "kopfexample".into(),
                short_names: vec![],
                categories: vec![],
                namespaced: true,
                has_status_subresource: true,
                verbs: vec![],
            }),
            patch: Patch::new(),
            memo: Memo::new(),
            param: None,
            handler_id: "create_fn".into(),
            client: kube::Client::try_from(config).unwrap(),
            shared: Default::default(),
        },
        reason: Reason::Create,
        diff: Diff::default(),
        old: None,
        new: Some(json!({})),
        retry: 0,
        started: Timestamp::now(),
    }
}

fn options(lifecycle: Lifecycle) -> Options {
    Options {
        lifecycle,
        default_backoff: 60.0,
        storage: ProgressStorage::default(),
    }
}

/// One invocation of the parent on `body`; the body then carries what it patched.
async fn round(lifecycle: Lifecycle, parent: &Handler<Changing>, body: &mut Value) -> Invoked {
    let cause = cause(body);
    let patch = cause.object.patch.clone();
    let invoked = invoke(options(lifecycle), parent, cause).await;
    json_patch::merge(body, &patch.snapshot());
    invoked
}

fn record(body: &Value, id: &str) -> Value {
    let key = crate::storage::keys::v2_key("kopf.zalando.org", id);
    let text = body["metadata"]["annotations"][key.as_str()].as_str();
    serde_json::from_str(text.unwrap_or("null")).unwrap()
}

/// A parent registering item1 and item2; item2 fails temporarily on its first attempt.
fn items_parent(calls: &Calls) -> Handler<Changing> {
    let calls = calls.clone();
    Handler::new(
        HandlerKind::Create,
        "kopfexamples",
        move |subhandlers: SubHandlers| async move {
            for item in ["item1", "item2"] {
                let calls = calls.clone();
                subhandlers.register(item, move |retry: Retry| async move {
                    push(&calls, format!("{item} {}", *retry));
                    if item == "item2" && *retry == 0 {
                        return Err(Error::from(TemporaryError::new("not yet").with_delay(0.0)));
                    }
                    Ok(json!({"item": item}))
                });
            }
            Ok::<_, Error>(json!({"message": "done"}))
        },
    )
    .with_id("create_fn")
}

#[tokio::test]
async fn asap_runs_one_sub_handler_per_invocation_and_never_a_finished_one_again() {
    let calls = Calls::default();
    let parent = items_parent(&calls);
    let mut body = json!({"metadata": {"name": "kex", "namespace": "default"}, "spec": {}});
    let ids = ["create_fn/item1", "create_fn/item2"];

    let first = round(Lifecycle::Asap, &parent, &mut body).await;
    assert_eq!(first.outcome, Outcome::Unfinished { delay: 0.0 });
    assert_eq!(first.subrefs.iter().collect::<Vec<_>>(), ids);
    let item1 = record(&body, "create_fn/item1");
    assert_eq!(
        (&item1["success"], &item1["retries"]),
        (&json!(true), &json!(1))
    );
    let pending = record(&body, "create_fn/item2");
    assert_eq!(
        (&pending["retries"], &pending["success"]),
        (&json!(0), &json!(false))
    );
    assert_eq!(
        body["status"],
        json!({"create_fn/item1": {"item": "item1"}})
    );

    let second = round(Lifecycle::Asap, &parent, &mut body).await;
    assert_eq!(second.outcome, Outcome::Unfinished { delay: 0.0 });
    let failed = record(&body, "create_fn/item2");
    assert_eq!(
        (&failed["retries"], &failed["message"]),
        (&json!(1), &json!("not yet"))
    );
    assert!(failed["delayed"].is_string(), "{failed}");

    let third = round(Lifecycle::Asap, &parent, &mut body).await;
    assert_eq!(
        third.outcome,
        Outcome::Success(Some(json!({"message": "done"})))
    );
    assert_eq!(record(&body, "create_fn/item2")["success"], json!(true));
    assert_eq!(*calls.lock().unwrap(), ["item1 0", "item2 0", "item2 1"]);
    assert_eq!(body["status"]["create_fn/item2"], json!({"item": "item2"}));
}

#[tokio::test]
async fn the_parents_record_gets_kopfs_message_and_its_subrefs() {
    let calls = Calls::default();
    let parent = items_parent(&calls);
    let body = json!({"metadata": {"name": "kex"}, "spec": {}});
    let invoked = invoke(options(Lifecycle::Asap), &parent, cause(&body)).await;
    let now = Timestamp::now();
    let mut state = HandlerState::new("create", now);
    state.subrefs = vec!["create_fn/older".into()];
    let recorded = record_state(&invoked, &state, now);
    assert_eq!(
        recorded.message,
        "Handler 'create_fn' has unfinished sub-handlers. Will retry soon."
    );
    assert_eq!(recorded.level, tracing::Level::DEBUG);
    assert_eq!(recorded.state.message.as_deref(), Some("None"));
    assert_eq!(recorded.state.delayed, Some(now));
    assert_eq!(
        recorded.state.subrefs,
        ["create_fn/item1", "create_fn/item2", "create_fn/older"]
    );
}

fn record_state(invoked: &Invoked, state: &HandlerState, now: Timestamp) -> Recorded {
    let policy = RetryPolicy::default();
    super::record("Handler 'create_fn'", state, invoked, &policy, 60.0, now)
}

/// A parent executing `a` (with a sub-sub-handler `x`) and `b` explicitly, then going on.
fn nested_parent(calls: &Calls) -> Handler<Changing> {
    let calls = calls.clone();
    Handler::new(
        HandlerKind::Create,
        "kopfexamples",
        move |subhandlers: SubHandlers| async move {
            let inner = calls.clone();
            subhandlers.register("a", move |subhandlers: SubHandlers| async move {
                let calls = inner.clone();
                subhandlers.register("x", move || async move { push(&calls, "x".into()) });
                push(&inner, format!("a under {}", subhandlers.parent_id()));
            });
            let inner = calls.clone();
            subhandlers.register("b", move || async move { push(&inner, "b".into()) });
            subhandlers.execute().await?;
            push(&calls, "after".into());
            Ok::<_, Error>(())
        },
    )
    .with_id("create_fn")
}

#[tokio::test]
async fn sub_sub_handlers_are_listed_by_every_ancestor_and_execute_waits_for_all() {
    let calls = Calls::default();
    let parent = nested_parent(&calls);
    let mut body = json!({"metadata": {"name": "kex"}, "spec": {}});

    let first = round(Lifecycle::Asap, &parent, &mut body).await;
    assert_eq!(first.outcome, Outcome::Unfinished { delay: 0.0 });
    let all = ["create_fn/a", "create_fn/a/x", "create_fn/b"];
    assert_eq!(first.subrefs.iter().collect::<Vec<_>>(), all);
    assert_eq!(
        record(&body, "create_fn/a")["subrefs"],
        json!(["create_fn/a/x"])
    );
    assert!(record(&body, "create_fn/a/x")["success"].as_bool().unwrap());
    assert_eq!(*calls.lock().unwrap(), ["a under create_fn/a", "x"]);

    let second = round(Lifecycle::Asap, &parent, &mut body).await;
    assert_eq!(second.outcome, Outcome::Success(None));
    assert_eq!(
        *calls.lock().unwrap(),
        ["a under create_fn/a", "x", "b", "after"]
    );

    let calls = Calls::default();
    let parent = nested_parent(&calls);
    let mut body = json!({"metadata": {"name": "kex"}, "spec": {}});
    let once = round(Lifecycle::AllAtOnce, &parent, &mut body).await;
    assert_eq!(once.outcome, Outcome::Success(None));
    assert_eq!(
        *calls.lock().unwrap(),
        ["a under create_fn/a", "x", "b", "after"]
    );
}

#[tokio::test]
async fn a_swallowed_retry_still_keeps_the_parent_unfinished() {
    let parent = Handler::new(
        HandlerKind::Create,
        "kopfexamples",
        |subhandlers: SubHandlers| async move {
            subhandlers.register("a", || async {});
            subhandlers.register("b", || async {});
            let _ = subhandlers.execute().await;
        },
    )
    .with_id("create_fn");
    let body = json!({"metadata": {"name": "kex"}, "spec": {}});
    let invoked = invoke(options(Lifecycle::Asap), &parent, cause(&body)).await;
    assert_eq!(invoked.outcome, Outcome::Unfinished { delay: 0.0 });
}

#[tokio::test]
async fn kopfs_free_functions_find_the_running_handlers_sub_handlers() {
    use crate::invocation::subhandlers::{execute, register, subhandler};
    let calls = Calls::default();
    let inner = calls.clone();
    let parent = Handler::new(HandlerKind::Create, "kopfexamples", move || async move {
        let calls = inner.clone();
        register("a", move || async move { push(&calls, "a".into()) });
        let calls = inner.clone();
        subhandler("b").param("B").register(
            move |param: crate::invocation::kwargs::Param<String>| async move {
                push(&calls, param.into_inner())
            },
        );
        execute().await
    })
    .with_id("create_fn");
    let mut body = json!({"metadata": {"name": "kex"}, "spec": {}});
    let invoked = round(Lifecycle::AllAtOnce, &parent, &mut body).await;
    assert_eq!(invoked.outcome, Outcome::Success(None));
    assert_eq!(*calls.lock().unwrap(), ["a", "B"]);
}
