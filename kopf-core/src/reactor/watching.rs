//! kopf's watch-stream: LIST, then WATCH from the list's resourceVersion, resuming from
//! the last seen version (bookmarks included) after disconnects and inactivity, and
//! re-listing only on 410 Gone.

use crate::resource::Resource;
use futures::StreamExt;
use kube::Client;
use kube::api::{ListParams, WatchParams};
use kube::core::{Request, WatchEvent};
use serde_json::Value;
use std::time::Duration;
use tokio::sync::mpsc;

const TARGET: &str = "kopf._cogs.clients.watching";

/// What kind of raw event an object arrived with. `Listed` is kopf's `type=None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Listed,
    Added,
    Modified,
    Deleted,
}

/// One raw event for the per-object queues.
#[derive(Clone, Debug)]
pub struct RawEvent {
    pub kind: EventKind,
    pub object: Value,
}

/// What the stream reports to the multiplexer besides objects.
#[derive(Debug)]
pub enum StreamMessage {
    Event(RawEvent),
    /// The initial (or a 410-forced) listing has been fully delivered.
    Listed,
}

/// Where a stream watches: one namespace or the whole cluster.
pub fn describe_scope(namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) => format!("in '{ns}'"),
        None => "cluster-wide".to_string(),
    }
}

pub struct WatchStream {
    pub client: Client,
    pub resource: Resource,
    pub namespace: Option<String>,
    pub inactivity_timeout: Duration,
    pub server_timeout: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("watching {resource} failed: {source}")]
    Api {
        resource: String,
        source: kube::Error,
    },
    #[error("the watch-stream of {resource} returned an error: {message}")]
    Status { resource: String, message: String },
}

impl WatchStream {
    fn url(&self) -> String {
        self.resource.url(self.namespace.as_deref())
    }

    /// Runs until the receiver is dropped or a non-recoverable error happens.
    pub async fn run(self, sink: mpsc::UnboundedSender<StreamMessage>) -> Result<(), WatchError> {
        let scope = describe_scope(self.namespace.as_deref());
        tracing::debug!(target: TARGET, "Starting the watch-stream for {} {scope}.", self.resource);
        let mut backoff = Backoff::default();
        loop {
            let mut version = match self.list(&sink).await {
                Ok(Some(version)) => version,
                Ok(None) => return Ok(()),
                Err(err) if backoff.retryable(&err) => {
                    tracing::debug!(target: TARGET, "Listing {} failed, retrying: {err}", self.resource);
                    backoff.wait().await;
                    continue;
                }
                Err(err) => return Err(err),
            };
            backoff.reset();
            // Watch, resuming from the last seen version, until the history is gone (410).
            loop {
                match self.watch_once(&mut version, &sink).await {
                    Ok(WatchEnd::Closed) => {
                        backoff.reset();
                        continue;
                    }
                    Ok(WatchEnd::Inactive) => {
                        tracing::debug!(
                            target: TARGET,
                            "Watch-stream for {} {scope} is inactive, reconnecting.",
                            self.resource
                        );
                        continue;
                    }
                    Ok(WatchEnd::Gone) => {
                        tracing::debug!(target: TARGET, "Restarting the watch-stream for {} {scope}.", self.resource);
                        break;
                    }
                    Ok(WatchEnd::ReceiverGone) => return Ok(()),
                    Err(err) if backoff.retryable(&err) => {
                        tracing::debug!(target: TARGET, "Watching {} failed, retrying: {err}", self.resource);
                        backoff.wait().await;
                    }
                    Err(err) => return Err(err),
                }
            }
        }
    }

    /// Lists all pages; sends each item as `Listed`; returns the list's resourceVersion.
    async fn list(
        &self,
        sink: &mpsc::UnboundedSender<StreamMessage>,
    ) -> Result<Option<String>, WatchError> {
        let request = Request::new(self.url());
        let mut params = ListParams::default();
        let mut items = Vec::new();
        let version = loop {
            let http = request
                .list(&params)
                .map_err(|e| self.api_error(kube::Error::BuildRequest(e)))?;
            let mut page: Value = self
                .client
                .request(http)
                .await
                .map_err(|e| self.api_error(e))?;
            let api_version = page.get("apiVersion").cloned();
            let kind = page
                .get("kind")
                .and_then(Value::as_str)
                .and_then(|k| k.strip_suffix("List"))
                .map(|k| Value::String(k.to_string()));
            if let Some(Value::Array(page_items)) = page.get_mut("items").map(Value::take) {
                for mut item in page_items {
                    // List items may lack kind/apiVersion; kopf adds them from the list.
                    if let Some(map) = item.as_object_mut() {
                        if let Some(kind) = kind.as_ref().filter(|_| !map.contains_key("kind")) {
                            map.insert("kind".into(), kind.clone());
                        }
                        if let Some(version) = api_version
                            .as_ref()
                            .filter(|_| !map.contains_key("apiVersion"))
                        {
                            map.insert("apiVersion".into(), version.clone());
                        }
                    }
                    items.push(item);
                }
            }
            let meta = page.get("metadata");
            let continue_token = meta
                .and_then(|m| m.get("continue"))
                .and_then(Value::as_str)
                .filter(|c| !c.is_empty())
                .map(str::to_string);
            match continue_token {
                Some(token) => params.continue_token = Some(token),
                None => {
                    break meta
                        .and_then(|m| m.get("resourceVersion"))
                        .and_then(Value::as_str)
                        .unwrap_or("0")
                        .to_string();
                }
            }
        };
        for object in items {
            let event = RawEvent {
                kind: EventKind::Listed,
                object,
            };
            if sink.send(StreamMessage::Event(event)).is_err() {
                return Ok(None);
            }
        }
        if sink.send(StreamMessage::Listed).is_err() {
            return Ok(None);
        }
        Ok(Some(version))
    }

    async fn watch_once(
        &self,
        version: &mut String,
        sink: &mpsc::UnboundedSender<StreamMessage>,
    ) -> Result<WatchEnd, WatchError> {
        let mut params = WatchParams {
            bookmarks: true,
            ..WatchParams::default()
        };
        if let Some(timeout) = self.server_timeout {
            params = params.timeout(timeout);
        }
        let http = Request::new(self.url())
            .watch(&params, version)
            .map_err(|e| self.api_error(kube::Error::BuildRequest(e)))?;
        let stream = self
            .client
            .request_events::<Value>(http)
            .await
            .map_err(|e| self.api_error(e))?;
        let mut stream = std::pin::pin!(stream);
        loop {
            let next = match tokio::time::timeout(self.inactivity_timeout, stream.next()).await {
                Err(_) => return Ok(WatchEnd::Inactive),
                Ok(None) => return Ok(WatchEnd::Closed),
                Ok(Some(next)) => next,
            };
            let event = match next {
                Ok(event) => event,
                // A dropped connection resumes from the last version, as a closed stream does.
                Err(kube::Error::ReadEvents(_)) => return Ok(WatchEnd::Closed),
                Err(err) => return Err(self.api_error(err)),
            };
            let (kind, object) = match event {
                WatchEvent::Added(o) => (EventKind::Added, o),
                WatchEvent::Modified(o) => (EventKind::Modified, o),
                WatchEvent::Deleted(o) => (EventKind::Deleted, o),
                WatchEvent::Bookmark(bookmark) => {
                    *version = bookmark.metadata.resource_version;
                    continue;
                }
                WatchEvent::Error(status) if status.code == 410 => return Ok(WatchEnd::Gone),
                WatchEvent::Error(status) => {
                    return Err(WatchError::Status {
                        resource: self.resource.to_string(),
                        message: status.message,
                    });
                }
            };
            if let Some(rv) = object
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
            {
                *version = rv.to_string();
            }
            if sink
                .send(StreamMessage::Event(RawEvent { kind, object }))
                .is_err()
            {
                return Ok(WatchEnd::ReceiverGone);
            }
        }
    }

    fn api_error(&self, source: kube::Error) -> WatchError {
        WatchError::Api {
            resource: self.resource.to_string(),
            source,
        }
    }
}

enum WatchEnd {
    Closed,
    Inactive,
    Gone,
    ReceiverGone,
}

/// Retries of transient failures (connection errors, 5xx, 429, 403), as kopf's backoffs.
#[derive(Default)]
struct Backoff {
    attempt: usize,
}

impl Backoff {
    const DELAYS: [u64; 8] = [1, 1, 2, 3, 5, 8, 13, 21];

    fn retryable(&self, err: &WatchError) -> bool {
        match err {
            WatchError::Api {
                source: kube::Error::Api(status),
                ..
            } => {
                status.code >= 500 || status.code == 429 || status.code == 403 || status.code == 410
            }
            WatchError::Api { .. } => true,
            WatchError::Status { .. } => false,
        }
    }

    async fn wait(&mut self) {
        let delay = Self::DELAYS[self.attempt.min(Self::DELAYS.len() - 1)];
        self.attempt += 1;
        tokio::time::sleep(Duration::from_secs(delay)).await;
    }

    fn reset(&mut self) {
        self.attempt = 0;
    }
}
