//! The operator's activities, run in-process by `kopf::Operator` against the embedded API
//! server: startup before watching (retried, changing the settings), cleanup once at the
//! end, probes served at the liveness endpoint (cached; 500 while a watch-stream is
//! blind), a startup failure that stops the operator, and login handlers that log in
//! again when the API answers 401.

use kopf_apiserver::FaultConfig;
use kopf_test_support::{create_crd, kex, poll_until};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

const DEADLINE: Duration = Duration::from_secs(30);

/// What the linked handlers did, in order.
static JOURNAL: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn note(what: impl Into<String>) {
    JOURNAL
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(what.into());
}

fn journal() -> Vec<String> {
    JOURNAL.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

static PROBES: AtomicUsize = AtomicUsize::new(0);

// ---- the linked handlers: the attribute forms ---------------------------------------

#[kopf::on::startup(backoff = 0.1)]
async fn configure(
    settings: kopf::OperatorSettings,
    retry: kopf::Retry,
    logger: kopf::Logger,
) -> kopf::Result<()> {
    note(format!("startup attempt {}", *retry));
    if *retry == 0 {
        return Err(kopf::TemporaryError::new("not yet").with_delay(0.1).into());
    }
    logger.info("Configuring the operator.");
    settings.update(|s| s.watching.inactivity_timeout = Duration::from_secs(1));
    Ok(())
}

#[kopf::on::create("kopfexamples")]
async fn created(name: kopf::Name) {
    note(format!("created {}", *name));
}

#[kopf::on::probe]
async fn probe_count() -> kopf::Result<usize> {
    Ok(PROBES.fetch_add(1, Ordering::SeqCst) + 1)
}

#[kopf::on::cleanup]
fn goodbye(activity: kopf::ActivityKind) {
    note(format!("{activity}"));
}

// ---- helpers ------------------------------------------------------------------------

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address").port()
}

/// `GET url` over plain HTTP/1.1: the status code and the JSON body.
async fn get(port: u16, path: &str) -> Option<(u16, Value)> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).await.ok()?;
    let code = text.split(' ').nth(1)?.parse().ok()?;
    let body = text.split("\r\n\r\n").nth(1)?;
    Some((code, serde_json::from_str(body).ok()?))
}

async fn client_of(ts: &kopf_test_support::TestServer) -> kube::Client {
    let config = kopf_test_support::config_for(&ts.server.kubeconfig()).await;
    kube::Client::try_from(config).expect("a client")
}

// ---- the tests ----------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_runs_first_probes_are_served_and_cleanup_runs_once_at_the_end() {
    let ts = kopf_test_support::start().await;
    create_crd(&ts).await;
    kex(&ts, json!({"metadata": {"name": "kex-early"}, "spec": {}})).await;
    let port = free_port();
    let (stop, stopped) = oneshot::channel::<()>();
    let (ready, is_ready) = oneshot::channel::<()>();
    let operator = tokio::spawn(
        kopf::Operator::new(kopf::Registry::linked().expect("no duplicates"))
            .client(client_of(&ts).await)
            .cluster_wide()
            .liveness(format!("http://127.0.0.1:{port}/healthz"))
            .ready(ready)
            .run(async move {
                let _ = stopped.await;
            }),
    );
    tokio::time::timeout(DEADLINE, is_ready)
        .await
        .expect("ready in time")
        .expect("ready");
    let created = poll_until(DEADLINE, || async {
        journal()
            .contains(&"created kex-early".to_string())
            .then_some(())
    })
    .await;
    assert!(created.is_some(), "the create handler ran: {:?}", journal());
    assert_eq!(
        journal()[..3],
        [
            "startup attempt 0",
            "startup attempt 1",
            "created kex-early"
        ],
        "the startup handler was retried, and ran before anything was handled"
    );

    // kopf's JSON of probe results, recollected at most every 10 seconds.
    let (code, body) = get(port, "/healthz").await.expect("the endpoint answers");
    assert_eq!((code, body), (200, json!({"probe_count": 1})));
    let (code, body) = get(port, "/healthz").await.expect("the endpoint answers");
    assert_eq!((code, body), (200, json!({"probe_count": 1})), "cached");
    let (code, _) = get(port, "/elsewhere").await.expect("the endpoint answers");
    assert_eq!(code, 404);

    // The server fails every request and drops the watches: blind past the timeout (the
    // startup handler set it to 1 s), seeing again once the server recovers.
    let control = ts.server.control();
    control.faults().set(FaultConfig {
        error_500_ratio: 1.0,
        ..FaultConfig::default()
    });
    control.drop_watches();
    let blind = poll_until(DEADLINE, || async {
        match get(port, "/healthz").await {
            Some((500, body)) => Some(body),
            _ => None,
        }
    })
    .await
    .expect("the endpoint fails while the watch-streams are blind");
    assert_eq!(blind["error"], "watch-streams are blind");
    assert!(
        blind["streams"][0]
            .as_str()
            .is_some_and(|s| s.contains("disconnected")),
        "{blind}"
    );
    control.faults().set(FaultConfig::default());
    let healthy = poll_until(DEADLINE, || async {
        matches!(get(port, "/healthz").await, Some((200, _))).then_some(())
    })
    .await;
    assert!(healthy.is_some(), "the endpoint recovers with the streams");

    assert!(!journal().contains(&"cleanup".to_string()));
    let _ = stop.send(());
    let result = tokio::time::timeout(DEADLINE, operator)
        .await
        .expect("the operator stops in time")
        .expect("no panic");
    assert!(result.is_ok(), "{result:?}");
    let cleanups = journal().iter().filter(|n| *n == "cleanup").count();
    assert_eq!(cleanups, 1, "{:?}", journal());
    assert!(
        get(port, "/healthz").await.is_none(),
        "the endpoint is closed"
    );
}

async fn failing_startup() -> kopf::Result<()> {
    Err(kopf::PermanentError::new("the database is unreachable").into())
}

async fn never_created(name: kopf::Name) {
    note(format!("created {} despite the failed startup", *name));
}

#[tokio::test]
async fn a_failed_startup_stops_the_operator_before_anything_is_watched() {
    let ts = kopf_test_support::start().await;
    create_crd(&ts).await;
    kex(&ts, json!({"metadata": {"name": "kex-never"}, "spec": {}})).await;
    let registry = kopf::Registry::new()
        .on_startup(failing_startup)
        .on_create("kopfexamples", never_created);
    let result = kopf::Operator::new(registry)
        .client(client_of(&ts).await)
        .cluster_wide()
        .run(std::future::pending())
        .await;
    let err = result.expect_err("the operator fails");
    assert!(matches!(err, kopf::OperatorError::Startup(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "Startup activity has failed: One or more handlers failed."
    );
    assert!(
        !journal().iter().any(|n| n.contains("despite")),
        "{:?}",
        journal()
    );
}

/// Where the login handler logs in to, and how often it was asked.
static SERVER: OnceLock<(String, Option<String>, String)> = OnceLock::new();
static LOGINS: AtomicUsize = AtomicUsize::new(0);

async fn login_wrong_then_right(logger: kopf::Logger) -> kopf::Result<kopf::ConnectionInfo> {
    let (url, ca, token) = SERVER.get().cloned().expect("the server is known");
    let attempt = LOGINS.fetch_add(1, Ordering::SeqCst);
    logger.info(format!("Logging in, attempt {attempt}."));
    let token = if attempt == 0 { "wrong".into() } else { token };
    Ok(kopf::ConnectionInfo {
        ca_data: ca,
        ..kopf::ConnectionInfo::with_token(url, token)
    })
}

async fn created_after_login(name: kopf::Name) {
    note(format!("logged in and created {}", *name));
}

#[tokio::test]
async fn login_handlers_log_in_again_when_the_api_answers_401() {
    let ts = kopf_test_support::start().await;
    create_crd(&ts).await;
    kex(&ts, json!({"metadata": {"name": "kex-login"}, "spec": {}})).await;
    let token = ts.server.token().expect("a token").to_string();
    let ca = ts.server.ca_pem().map(str::to_string);
    let _ = SERVER.set((ts.server.url(), ca, token));
    let registry = kopf::Registry::new()
        .on_login(login_wrong_then_right)
        .on_create("kopfexamples", created_after_login);
    let (stop, stopped) = oneshot::channel::<()>();
    let operator = tokio::spawn(
        kopf::Operator::new(registry)
            .cluster_wide()
            .run(async move {
                let _ = stopped.await;
            }),
    );
    let created = poll_until(DEADLINE, || async {
        journal()
            .contains(&"logged in and created kex-login".to_string())
            .then_some(())
    })
    .await;
    assert!(created.is_some(), "{:?}", journal());
    assert_eq!(
        LOGINS.load(Ordering::SeqCst),
        2,
        "logged in with the wrong token, refused with 401, logged in again"
    );
    let _ = stop.send(());
    let result = tokio::time::timeout(DEADLINE, operator)
        .await
        .expect("the operator stops in time")
        .expect("no panic");
    assert!(result.is_ok(), "{result:?}");
}
