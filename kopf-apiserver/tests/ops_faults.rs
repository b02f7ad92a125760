//! Fault injection as clients see it: 500s, 429s with Retry-After, added latency, watches
//! dropped after N events, and compaction making a resuming kube watcher relist (410).

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kopf_apiserver::{FaultConfig, RunningServer, ServerConfig};
use kopf_test_support::{api_code, client_for, client_without_retries};
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::watcher;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(30);

fn with_faults(faults: FaultConfig) -> ServerConfig {
    ServerConfig {
        faults,
        ..ServerConfig::in_memory()
    }
}

fn config_map(name: &str, labels: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some(name.into()),
            labels: (!labels.is_empty()).then(|| {
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<_, _>>()
            }),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A raw GET through the kube client's transport: status code and Retry-After header.
async fn raw_get(client: &kube::Client, path: &str) -> (u16, Option<String>) {
    let request = http::Request::get(path)
        .body(kube::client::Body::empty())
        .unwrap();
    let response = client.send(request).await.unwrap();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (response.status().as_u16(), retry_after)
}

#[tokio::test]
async fn ratio_one_of_500_fails_every_request() {
    let server = RunningServer::start(with_faults(FaultConfig {
        error_500_ratio: 1.0,
        ..Default::default()
    }))
    .await
    .unwrap();
    let client = client_without_retries(&server.kubeconfig()).await;
    let err = Api::<Namespace>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), Some(500), "{err:?}");
    let kube::Error::Api(status) = err else {
        unreachable!()
    };
    assert_eq!(status.reason, "InternalError");
    assert_eq!(raw_get(&client, "/api/v1/namespaces/default").await.0, 500);
    server.shutdown().await;
}

#[tokio::test]
async fn ratio_one_of_429_asks_to_retry_after_a_second() {
    let server = RunningServer::start(with_faults(FaultConfig {
        error_429_ratio: 1.0,
        ..Default::default()
    }))
    .await
    .unwrap();
    let client = client_without_retries(&server.kubeconfig()).await;
    let (code, retry_after) = raw_get(&client, "/api/v1/namespaces").await;
    assert_eq!(code, 429);
    assert_eq!(retry_after.as_deref(), Some("1"));
    let err = Api::<Namespace>::all(client)
        .get("default")
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), Some(429), "{err:?}");
    let kube::Error::Api(status) = err else {
        unreachable!()
    };
    assert_eq!(status.reason, "TooManyRequests");
    server.shutdown().await;
}

#[tokio::test]
async fn latency_delays_every_request() {
    let latency = Duration::from_millis(300);
    let server = RunningServer::start(with_faults(FaultConfig {
        latency,
        ..Default::default()
    }))
    .await
    .unwrap();
    let api = Api::<Namespace>::all(client_for(&server.kubeconfig()).await);
    api.get("default").await.unwrap(); // Warm up the connection.
    let started = Instant::now();
    api.get("default").await.unwrap();
    assert!(started.elapsed() >= latency, "took {:?}", started.elapsed());
    server.shutdown().await;
}

/// Reads one watch from `rv` until the server ends it or `wanted` objects arrived; panics
/// if neither happens in time. Returns the added objects' names and versions, in order,
/// and whether the server ended the stream.
async fn read_one_watch(
    api: &Api<ConfigMap>,
    rv: &str,
    wanted: usize,
) -> (Vec<(String, String)>, bool) {
    let mut stream = api
        .watch(&WatchParams::default().timeout(60), rv)
        .await
        .unwrap()
        .boxed();
    let mut added = Vec::new();
    let read = tokio::time::timeout(DEADLINE, async {
        while added.len() < wanted {
            match stream.next().await {
                None => return true,
                Some(Ok(WatchEvent::Added(cm))) => added.push((
                    cm.metadata.name.unwrap(),
                    cm.metadata.resource_version.unwrap(),
                )),
                Some(_) => {}
            }
        }
        false
    })
    .await;
    let Ok(ended) = read else {
        panic!("the watch was neither dropped nor complete; got {added:?}")
    };
    (added, ended)
}

/// Creates three objects, then watches and resumes (from the last version seen) until all
/// three arrived. The first watch must end after exactly `per_watch` events, none may
/// deliver more, and the resumed sequence must be complete, ordered and without duplicates.
async fn watch_with_drops_loses_nothing(faults: FaultConfig, per_watch: usize) {
    let server = RunningServer::start(with_faults(faults)).await.unwrap();
    let api = Api::<ConfigMap>::namespaced(client_for(&server.kubeconfig()).await, "default");
    let mut rv = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    for name in ["one", "two", "three"] {
        api.create(&PostParams::default(), &config_map(name, &[]))
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut drops = 0;
    for _ in 0..10 {
        if seen.len() == 3 {
            break;
        }
        let (added, ended) = read_one_watch(&api, &rv, 3 - seen.len()).await;
        assert!(added.len() <= per_watch, "a watch delivered {added:?}");
        if seen.is_empty() {
            // All three objects wait in the history: the first watch delivers exactly
            // `per_watch` of them, then the server ends it.
            assert!(
                ended && added.len() == per_watch,
                "first watch: {added:?}, ended: {ended}"
            );
        }
        drops += usize::from(ended);
        if let Some((_, last)) = added.last() {
            rv = last.clone();
        }
        seen.extend(added.into_iter().map(|(name, _)| name));
    }
    assert_eq!(seen, ["one", "two", "three"]);
    assert!(drops >= 1, "no watch was dropped");
    server.shutdown().await;
}

#[tokio::test]
async fn watch_is_dropped_after_n_events() {
    watch_with_drops_loses_nothing(
        FaultConfig {
            watch_drop_after: Some(2),
            ..Default::default()
        },
        2,
    )
    .await;
}

#[tokio::test]
async fn watch_drop_ratio_one_ends_every_stream_after_one_event() {
    watch_with_drops_loses_nothing(
        FaultConfig {
            watch_drop_ratio: 1.0,
            ..Default::default()
        },
        1,
    )
    .await;
}

/// `true` once a watch from `rv` is refused with 410 (as a status or an ERROR event).
async fn watch_from_is_gone(api: &Api<ConfigMap>, rv: &str) -> bool {
    match api.watch(&WatchParams::default().timeout(1), rv).await {
        Err(err) => api_code(&err) == Some(410),
        Ok(stream) => {
            let mut stream = stream.boxed();
            match tokio::time::timeout(Duration::from_secs(3), stream.next()).await {
                Ok(Some(Ok(WatchEvent::Error(status)))) => status.code == 410,
                _ => false,
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_makes_a_resuming_kube_watcher_relist() {
    let faults = FaultConfig {
        compact_every: Some(Duration::from_millis(200)),
        ..Default::default()
    };
    let server = RunningServer::start(with_faults(faults)).await.unwrap();
    let api = Api::<ConfigMap>::namespaced(client_for(&server.kubeconfig()).await, "default");

    // The watcher sees only labelled objects, and its watches end every second, so it
    // resumes from the version of the last object it saw.
    let mut config = watcher::Config::default().labels("app=watched").timeout(1);
    config.bookmarks = false;
    let mut events = watcher::watcher(api.clone(), config).boxed();
    let mut next_event = async || -> Result<watcher::Event<ConfigMap>, watcher::Error> {
        match tokio::time::timeout(DEADLINE, events.next()).await {
            Ok(Some(event)) => {
                eprintln!("watcher event: {event:?}");
                event
            }
            other => panic!("the watcher stopped or stalled: {other:?}"),
        }
    };
    assert!(matches!(next_event().await, Ok(watcher::Event::Init)));
    assert!(matches!(next_event().await, Ok(watcher::Event::InitDone)));

    let seen = api
        .create(
            &PostParams::default(),
            &config_map("watched", &[("app", "watched")]),
        )
        .await
        .unwrap();
    let seen_rv = seen.metadata.resource_version.clone().unwrap();
    loop {
        if let Ok(watcher::Event::Apply(cm)) = next_event().await {
            assert_eq!(cm.metadata.name.as_deref(), Some("watched"));
            break;
        }
    }
    // A write the watcher does not see moves the history past its version; compaction
    // then drops the events it would resume from.
    api.create(&PostParams::default(), &config_map("unwatched", &[]))
        .await
        .unwrap();
    let until = Instant::now() + DEADLINE;
    while !watch_from_is_gone(&api, &seen_rv).await {
        assert!(
            Instant::now() < until,
            "compaction never made rv {seen_rv} expire"
        );
    }

    // The next resume gets 410, and the watcher starts over with a fresh list.
    let mut gone = false;
    loop {
        match next_event().await {
            Err(watcher::Error::WatchError(status)) if status.code == 410 => gone = true,
            Err(watcher::Error::WatchStartFailed(kube::Error::Api(status)))
                if status.code == 410 =>
            {
                gone = true
            }
            Err(_) | Ok(watcher::Event::Apply(_) | watcher::Event::Delete(_)) => {}
            Ok(watcher::Event::Init) => break,
            Ok(other) => panic!("unexpected before the relist: {other:?}"),
        }
    }
    assert!(gone, "the relist was not caused by 410 Gone");
    let Ok(watcher::Event::InitApply(cm)) = next_event().await else {
        panic!("the relist lists the object")
    };
    assert_eq!(cm.metadata.name.as_deref(), Some("watched"));
    assert!(matches!(next_event().await, Ok(watcher::Event::InitDone)));
    server.shutdown().await;
}

#[tokio::test]
async fn faults_can_be_switched_at_run_time() {
    let server = RunningServer::start(ServerConfig::in_memory())
        .await
        .unwrap();
    let api = Api::<Namespace>::all(client_without_retries(&server.kubeconfig()).await);
    api.get("default").await.unwrap();
    let control = server.control();
    control.faults().set(FaultConfig {
        error_500_ratio: 1.0,
        ..Default::default()
    });
    assert_eq!(api_code(&api.get("default").await.unwrap_err()), Some(500));
    control.faults().set(FaultConfig::default());
    api.get("default").await.unwrap();
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_compact_and_drop_make_a_kube_watcher_relist() {
    let server = RunningServer::start(ServerConfig::in_memory())
        .await
        .unwrap();
    let control = server.control();
    let api = Api::<ConfigMap>::namespaced(client_for(&server.kubeconfig()).await, "default");
    let mut config = watcher::Config::default().labels("app=watched");
    config.bookmarks = false;
    let mut events = watcher::watcher(api.clone(), config).boxed();
    let mut next_event = async || match tokio::time::timeout(DEADLINE, events.next()).await {
        Ok(Some(event)) => event,
        other => panic!("the watcher stopped or stalled: {other:?}"),
    };
    assert!(matches!(next_event().await, Ok(watcher::Event::Init)));
    assert!(matches!(next_event().await, Ok(watcher::Event::InitDone)));
    api.create(
        &PostParams::default(),
        &config_map("watched", &[("app", "watched")]),
    )
    .await
    .unwrap();
    assert!(matches!(next_event().await, Ok(watcher::Event::Apply(_))));

    // Unseen by the watcher: moves the counter past the version it will resume from.
    api.create(&PostParams::default(), &config_map("unwatched", &[]))
        .await
        .unwrap();
    control.compact();
    control.drop_watches();

    let mut gone = false;
    loop {
        match next_event().await {
            Err(watcher::Error::WatchError(status)) if status.code == 410 => gone = true,
            Err(watcher::Error::WatchStartFailed(kube::Error::Api(status)))
                if status.code == 410 =>
            {
                gone = true
            }
            Ok(watcher::Event::Init) => break,
            other => panic!("unexpected before the relist: {other:?}"),
        }
    }
    assert!(gone, "the relist was not caused by 410 Gone");
    let Ok(watcher::Event::InitApply(cm)) = next_event().await else {
        panic!("the relist lists the object")
    };
    assert_eq!(cm.metadata.name.as_deref(), Some("watched"));
    assert!(matches!(next_event().await, Ok(watcher::Event::InitDone)));
    server.shutdown().await;
}
