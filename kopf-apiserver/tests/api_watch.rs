//! Conformance: watches (API-60..69) with raw streams and `kube::runtime::watcher`.

use futures::{StreamExt, TryStreamExt};
use http_body_util::BodyExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kopf_test_support::*;
use kube::api::{Api, PostParams};
use kube::runtime::watcher;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn cm(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"a": "1"}})).unwrap()
}

/// A raw watch stream: status, headers, and a line reader.
struct RawWatch {
    body: kube::client::Body,
    buffer: Vec<u8>,
    pub code: u16,
    pub content_type: String,
}

impl RawWatch {
    async fn open(ts: &TestServer, path: &str) -> RawWatch {
        let request = http::Request::get(path).body(Vec::new()).unwrap();
        let response = ts
            .client
            .send(request.map(kube::client::Body::from))
            .await
            .unwrap();
        let code = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        RawWatch {
            body: response.into_body(),
            buffer: Vec::new(),
            code,
            content_type,
        }
    }

    /// The next event, or `None` when the stream ends (or `timeout` passes).
    async fn next(&mut self, timeout: Duration) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(pos) = self.buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=pos).collect();
                return Some(serde_json::from_slice(&line).unwrap());
            }
            let remaining = deadline.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(remaining, self.body.frame()).await {
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        self.buffer.extend_from_slice(&data);
                    }
                }
                _ => return None,
            }
        }
    }
}

const T: Duration = Duration::from_secs(10);

#[tokio::test]
async fn api_60_61_watch_answers_at_once_with_synthetic_added() {
    let ts = start().await;
    let api = Api::<ConfigMap>::namespaced(ts.client.clone(), "default");
    api.create(&PostParams::default(), &cm("a")).await.unwrap();
    let mut watch = RawWatch::open(&ts, "/api/v1/namespaces/default/configmaps?watch=true").await;
    assert_eq!(watch.code, 200);
    assert_eq!(watch.content_type, "application/json");
    let event = watch.next(T).await.unwrap();
    assert_eq!(event["type"], "ADDED");
    assert_eq!(event["object"]["metadata"]["name"], "a");
    api.create(&PostParams::default(), &cm("b")).await.unwrap();
    let event = watch.next(T).await.unwrap();
    assert_eq!(event["type"], "ADDED");
    assert_eq!(event["object"]["metadata"]["name"], "b");
}

#[tokio::test]
async fn api_60_headers_arrive_before_any_event() {
    let ts = start().await;
    // No objects: the response (headers) must still arrive promptly.
    let opened = tokio::time::timeout(
        T,
        RawWatch::open(
            &ts,
            "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=1",
        ),
    )
    .await;
    assert_eq!(opened.unwrap().code, 200);
}

#[tokio::test]
async fn api_62_64_resume_from_a_version_in_history() {
    let ts = start().await;
    let api = Api::<ConfigMap>::namespaced(ts.client.clone(), "default");
    let a = api.create(&PostParams::default(), &cm("a")).await.unwrap();
    let rv = a.metadata.resource_version.clone().unwrap();
    api.patch(
        "a",
        &Default::default(),
        &kube::api::Patch::Merge(json!({"data": {"a": "2"}})),
    )
    .await
    .unwrap();
    api.delete("a", &Default::default()).await.unwrap();
    let mut watch = RawWatch::open(
        &ts,
        &format!("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv}"),
    )
    .await;
    let modified = watch.next(T).await.unwrap();
    assert_eq!(modified["type"], "MODIFIED");
    assert_eq!(modified["object"]["data"]["a"], "2");
    let deleted = watch.next(T).await.unwrap();
    assert_eq!(deleted["type"], "DELETED");
    let rv_of = |e: &Value| {
        e["object"]["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    assert!(rv_of(&deleted) > rv_of(&modified));
    assert!(rv_of(&modified) > rv.parse::<u64>().unwrap());
}

#[tokio::test]
async fn api_63_compacted_history_gives_410_as_an_error_event() {
    let ts = start().await;
    let api = Api::<ConfigMap>::namespaced(ts.client.clone(), "default");
    let a = api.create(&PostParams::default(), &cm("a")).await.unwrap();
    api.create(&PostParams::default(), &cm("b")).await.unwrap();
    ts.server.control().compact();
    let rv = a.metadata.resource_version.unwrap();
    let mut watch = RawWatch::open(
        &ts,
        &format!("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv}"),
    )
    .await;
    let event = watch.next(T).await.unwrap();
    assert_eq!(event["type"], "ERROR");
    assert_eq!(event["object"]["code"], 410);
    assert_eq!(event["object"]["reason"], "Expired");
    assert!(
        event["object"]["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!("too old resource version: {rv} ("))
    );
    assert!(
        watch.next(T).await.is_none(),
        "the stream ends after the error"
    );
}

#[tokio::test]
async fn api_65_bookmarks_carry_kind_and_api_version() {
    let ts = start_with(kopf_apiserver::ServerConfig {
        bookmark_interval: Duration::from_millis(200),
        ..kopf_apiserver::ServerConfig::in_memory()
    })
    .await;
    let rv = ts.server.control().resource_version();
    let mut watch =
        RawWatch::open(&ts, &format!("/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&resourceVersion={rv}")).await;
    let event = watch.next(T).await.unwrap();
    assert_eq!(event["type"], "BOOKMARK");
    assert_eq!(event["object"]["kind"], "ConfigMap");
    assert_eq!(event["object"]["apiVersion"], "v1");
    assert!(
        event["object"]["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= rv
    );
    // Without the flag: no bookmarks.
    let mut quiet = RawWatch::open(
        &ts,
        &format!("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv}"),
    )
    .await;
    assert!(quiet.next(Duration::from_millis(800)).await.is_none());
}

#[tokio::test]
async fn api_66_timeout_ends_the_stream_cleanly_after_a_final_bookmark() {
    let ts = start().await;
    let rv = ts.server.control().resource_version();
    let started = Instant::now();
    let mut watch = RawWatch::open(
        &ts,
        &format!("/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&timeoutSeconds=3&resourceVersion={rv}"),
    )
    .await;
    let bookmark = watch.next(T).await.unwrap();
    assert_eq!(bookmark["type"], "BOOKMARK");
    assert!(watch.next(T).await.is_none());
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(2900) && elapsed < Duration::from_secs(6),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn api_67_selector_transitions() {
    let ts = start().await;
    let api = Api::<ConfigMap>::namespaced(ts.client.clone(), "default");
    api.create(&PostParams::default(), &cm("a")).await.unwrap();
    let rv = ts.server.control().resource_version();
    let mut watch =
        RawWatch::open(&ts, &format!("/api/v1/namespaces/default/configmaps?watch=true&labelSelector=on%3Dyes&resourceVersion={rv}")).await;
    api.patch(
        "a",
        &Default::default(),
        &kube::api::Patch::Merge(json!({"metadata": {"labels": {"on": "yes"}}})),
    )
    .await
    .unwrap();
    let added = watch.next(T).await.unwrap();
    assert_eq!(added["type"], "ADDED");
    api.patch(
        "a",
        &Default::default(),
        &kube::api::Patch::Merge(json!({"metadata": {"labels": {"on": "no"}}})),
    )
    .await
    .unwrap();
    let deleted = watch.next(T).await.unwrap();
    assert_eq!(deleted["type"], "DELETED");
    assert_eq!(deleted["object"]["metadata"]["labels"]["on"], "yes");
}

#[tokio::test]
async fn api_68_streaming_lists() {
    let ts = start().await;
    let api = Api::<ConfigMap>::namespaced(ts.client.clone(), "default");
    api.create(&PostParams::default(), &cm("a")).await.unwrap();
    let mut watch = RawWatch::open(
        &ts,
        "/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true",
    )
    .await;
    assert_eq!(watch.next(T).await.unwrap()["type"], "ADDED");
    let end = watch.next(T).await.unwrap();
    assert_eq!(end["type"], "BOOKMARK");
    assert_eq!(
        end["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    let (code, _) = ts
        .raw(
            "GET",
            "/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true",
            None,
            "",
        )
        .await;
    assert_eq!(code, 422);
}

#[tokio::test]
async fn api_69_deleting_a_crd_ends_its_watches() {
    let ts = start().await;
    create_crd(&ts).await;
    let path = "/apis/kopf.dev/v1/namespaces/default/kopfexamples";
    ts.raw(
        "POST",
        path,
        Some("application/json"),
        r#"{"metadata":{"name":"k"},"spec":{}}"#,
    )
    .await;
    let mut watch = RawWatch::open(&ts, &format!("{path}?watch=true")).await;
    assert_eq!(watch.next(T).await.unwrap()["type"], "ADDED");
    let (code, _) = ts
        .raw(
            "DELETE",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/kopfexamples.kopf.dev",
            None,
            "",
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(watch.next(T).await.unwrap()["type"], "DELETED");
    assert!(watch.next(T).await.is_none());
    let (code, _) = ts.raw("GET", "/apis/kopf.dev/v1", None, "").await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn kube_watcher_relists_after_a_forced_410() {
    let ts = start().await;
    let api = Api::<ConfigMap>::namespaced(ts.client.clone(), "default");
    let all = Api::<ConfigMap>::all(ts.client.clone());
    api.create(&PostParams::default(), &cm("a")).await.unwrap();
    ts.server.control().reset_request_counts();
    let mut stream = watcher(all, watcher::Config::default()).boxed();
    let mut inits = 0;
    let mut applied = Vec::new();
    let mut errors = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !applied.contains(&"c".to_string()) {
        assert!(Instant::now() < deadline, "applied only {applied:?}");
        let event = match tokio::time::timeout(T, stream.next())
            .await
            .unwrap()
            .unwrap()
        {
            Ok(event) => event,
            Err(err) => {
                errors.push(err.to_string());
                continue;
            }
        };
        match event {
            watcher::Event::Init => inits += 1,
            watcher::Event::InitDone if inits == 1 => {
                api.create(&PostParams::default(), &cm("b")).await.unwrap();
            }
            watcher::Event::InitDone => {
                api.create(&PostParams::default(), &cm("c")).await.unwrap();
            }
            watcher::Event::Apply(o) => {
                let name = o.metadata.name.unwrap();
                if name == "b" {
                    // The resumed watch will start below the compaction: 410, then a re-list.
                    ts.server.control().compact();
                    ts.server.control().drop_watches();
                }
                applied.push(name);
            }
            _ => {}
        }
    }
    assert_eq!(inits, 2);
    assert_eq!(applied, ["b", "c"]);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("too old resource version")),
        "{errors:?}"
    );
    assert_eq!(ts.server.control().request_counts()["list"], 2);
}

#[tokio::test]
async fn kube_watcher_with_streaming_lists() {
    let ts = start().await;
    let api = Api::<ConfigMap>::namespaced(ts.client.clone(), "default");
    api.create(&PostParams::default(), &cm("a")).await.unwrap();
    let stream = watcher(api.clone(), watcher::Config::default().streaming_lists()).boxed();
    let mut stream = stream;
    let mut names = Vec::new();
    loop {
        let event = tokio::time::timeout(T, stream.try_next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        match event {
            watcher::Event::InitApply(o) => names.push(o.metadata.name.unwrap()),
            watcher::Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(names, ["a"]);
    api.create(&PostParams::default(), &cm("b")).await.unwrap();
    loop {
        let event = tokio::time::timeout(T, stream.try_next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let watcher::Event::Apply(o) = event {
            assert_eq!(o.metadata.name.unwrap(), "b");
            break;
        }
    }
}

#[tokio::test]
async fn a_slow_watch_does_not_block_writes() {
    let ts = start().await;
    // Opened and never read.
    let _idle = RawWatch::open(&ts, "/api/v1/namespaces/default/configmaps?watch=true").await;
    let api = Api::<ConfigMap>::namespaced(ts.client.clone(), "default");
    let big = "x".repeat(100_000);
    let started = Instant::now();
    for i in 0..60 {
        let obj: ConfigMap = serde_json::from_value(
            json!({"metadata": {"name": format!("c{i}")}, "data": {"a": big}}),
        )
        .unwrap();
        api.create(&PostParams::default(), &obj).await.unwrap();
    }
    assert!(started.elapsed() < Duration::from_secs(20));
    let mut other = RawWatch::open(&ts, "/api/v1/namespaces/default/configmaps?watch=true").await;
    assert!(other.next(T).await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_watches_each_get_every_event() {
    let ts = start_http().await;
    let client =
        kube::Client::try_from(kube::Config::new(ts.server.url().parse().unwrap())).unwrap();
    let api = Api::<ConfigMap>::namespaced(client, "default");
    let rv = ts.server.control().resource_version().to_string();
    let mut watchers = Vec::new();
    for _ in 0..100 {
        let stream = api
            .watch(&kube::api::WatchParams::default().timeout(60), &rv)
            .await
            .unwrap();
        watchers.push(tokio::spawn(async move {
            let mut stream = stream.boxed();
            let mut n = 0;
            while n < 200 {
                match stream.next().await {
                    Some(Ok(kube::api::WatchEvent::Added(_))) => n += 1,
                    Some(_) => {}
                    None => break,
                }
            }
            n
        }));
    }
    let started = Instant::now();
    for i in 0..200 {
        api.create(&PostParams::default(), &cm(&format!("c{i}")))
            .await
            .unwrap();
    }
    for watcher in watchers {
        let n = tokio::time::timeout(Duration::from_secs(30), watcher)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n, 200);
    }
    eprintln!("100 watchers x 200 events in {:?}", started.elapsed());
}
