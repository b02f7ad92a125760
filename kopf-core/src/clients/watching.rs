//! kopf's watch-stream: LIST, then WATCH from the list's resourceVersion, resuming from
//! the last seen version (bookmarks included) after disconnects and inactivity, and
//! re-listing only on 410 Gone.

use crate::clients::client::error_backoff;
use crate::clients::health::Pulse;
use crate::structs::resource::Resource;
use futures::StreamExt;
use kube::Client;
use kube::api::{ListParams, WatchParams};
use kube::core::{Request, WatchEvent};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

pub use crate::clients::raw_event::{EventKind, RawEvent};

const TARGET: &str = "kopf._cogs.clients.watching";
/// Objects per LIST page.
const LIST_PAGE_SIZE: u32 = 500;

/// A list page: the items are kept as text.
#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    metadata: PageMeta,
    #[serde(default)]
    items: Vec<Box<RawValue>>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageMeta {
    #[serde(default, rename = "continue")]
    continue_token: Option<String>,
    #[serde(default)]
    resource_version: Option<String>,
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
    /// Told of every answer and failure, for the liveness endpoint.
    pub pulse: Arc<Pulse>,
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
        let pulse = self.pulse.clone();
        let result = self.stream(sink).await;
        pulse.retire();
        result
    }

    async fn stream(self, sink: mpsc::UnboundedSender<StreamMessage>) -> Result<(), WatchError> {
        let scope = describe_scope(self.namespace.as_deref());
        tracing::debug!(target: TARGET, "Starting the watch-stream for {} {scope}.", self.resource);
        let mut backoff = Backoff::default();
        loop {
            let mut version = match self.list(&sink).await {
                Ok(Some(version)) => version,
                Ok(None) => return Ok(()),
                Err(err) if backoff.retryable(&err) => {
                    self.pulse.lost();
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
                        self.pulse.lost();
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
        // Pages bound the response held at once; the items stay text until processed.
        let mut params = ListParams::default().limit(LIST_PAGE_SIZE);
        loop {
            let http = request
                .list(&params)
                .map_err(|e| self.api_error(kube::Error::BuildRequest(e)))?;
            let text = self
                .client
                .request_text(http)
                .await
                .map_err(|e| self.api_error(e))?;
            let page: Page = serde_json::from_str(&text)
                .map_err(|e| self.api_error(kube::Error::SerdeError(e)))?;
            drop(text);
            self.pulse.beat();
            for raw in page.items {
                let event = RawEvent::new(EventKind::Listed, &raw);
                if sink.send(StreamMessage::Event(event)).is_err() {
                    return Ok(None);
                }
            }
            match page.metadata.continue_token.filter(|c| !c.is_empty()) {
                Some(token) => params.continue_token = Some(token),
                None => {
                    if sink.send(StreamMessage::Listed).is_err() {
                        return Ok(None);
                    }
                    let version = page.metadata.resource_version.unwrap_or_default();
                    return Ok(Some(if version.is_empty() {
                        "0".into()
                    } else {
                        version
                    }));
                }
            }
        }
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
            .request_events::<Box<RawValue>>(http)
            .await
            .map_err(|e| self.api_error(e))?;
        self.pulse.beat();
        let mut stream = std::pin::pin!(stream);
        loop {
            let next = match tokio::time::timeout(self.inactivity_timeout, stream.next()).await {
                Err(_) => return Ok(WatchEnd::Inactive),
                Ok(None) => return Ok(WatchEnd::Closed),
                Ok(Some(next)) => next,
            };
            let event = match next {
                Ok(event) => {
                    self.pulse.beat();
                    event
                }
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
            let event = RawEvent::new(kind, &object);
            if let Some(rv) = event.resource_version() {
                *version = rv.to_string();
            }
            if sink.send(StreamMessage::Event(event)).is_err() {
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

/// Retries of transient failures (connection errors, 5xx, 429, 403, and 401 while the
/// login handlers log in again), as kopf's backoffs.
#[derive(Default)]
struct Backoff {
    attempt: usize,
}

impl Backoff {
    fn retryable(&self, err: &WatchError) -> bool {
        match err {
            WatchError::Api {
                source: kube::Error::Api(status),
                ..
            } => status.code >= 500 || matches!(status.code, 401 | 403 | 410 | 429),
            WatchError::Api { .. } => true,
            WatchError::Status { .. } => false,
        }
    }

    async fn wait(&mut self) {
        let delay = error_backoff(self.attempt);
        self.attempt += 1;
        tokio::time::sleep(delay).await;
    }

    fn reset(&mut self) {
        self.attempt = 0;
    }
}
