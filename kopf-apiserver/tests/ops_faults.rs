//! Fault injection as clients see it: 500s, 429s with Retry-After, added latency, watches
//! dropped after N events, and compaction making a resuming kube watcher relist (410).

mod ops_support;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kopf_apiserver::{FaultConfig, RunningServer, ServerConfig};
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::watcher;
use ops_support::{api_code, client_for, client_without_retries};
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

#[tokio::test]
async fn watch_is_dropped_after_n_events() {
    let faults = FaultConfig {
        watch_drop_after: Some(2),
        ..Default::default()
    };
    let server = RunningServer::start(with_faults(faults)).await.unwrap();
    let api = Api::<ConfigMap>::namespaced(client_for(&server.kubeconfig()).await, "default");
    let list = api.list(&ListParams::default()).await.unwrap();
    let rv = list.metadata.resource_version.unwrap();
    let mut stream = api
        .watch(&WatchParams::default().timeout(60), &rv)
        .await
        .unwrap()
        .boxed();
    for name in ["one", "two", "three"] {
        api.create(&PostParams::default(), &config_map(name, &[]))
            .await
            .unwrap();
    }
    let mut added = Vec::new();
    let ended = tokio::time::timeout(DEADLINE, async {
        while let Some(event) = stream.next().await {
            if let Ok(WatchEvent::Added(cm)) = event {
                added.push(cm.metadata.name.unwrap());
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the watch was not dropped; got {added:?}");
    assert_eq!(added, ["one", "two"]);
    server.shutdown().await;
}

#[tokio::test]
async fn watch_drop_ratio_one_ends_the_stream_after_the_first_event() {
    let faults = FaultConfig {
        watch_drop_ratio: 1.0,
        ..Default::default()
    };
    let server = RunningServer::start(with_faults(faults)).await.unwrap();
    let api = Api::<ConfigMap>::namespaced(client_for(&server.kubeconfig()).await, "default");
    let rv = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let stream = api
        .watch(&WatchParams::default().timeout(60), &rv)
        .await
        .unwrap()
        .boxed();
    api.create(&PostParams::default(), &config_map("a", &[]))
        .await
        .unwrap();
    api.create(&PostParams::default(), &config_map("b", &[]))
        .await
        .unwrap();
    let events: Vec<_> = tokio::time::timeout(DEADLINE, stream.collect::<Vec<_>>())
        .await
        .expect("the watch ends");
    assert_eq!(events.len(), 1, "{events:?}");
    server.shutdown().await;
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
            Ok(Some(event)) => event,
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
