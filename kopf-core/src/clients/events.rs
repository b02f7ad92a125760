//! Posting one Kubernetes Event about an object, with kopf's body: `POST
//! /api/v1/namespaces/{ns}/events`, retried while the failure may pass, and a warning —
//! never an error of the caller — when it does not.

use crate::settings::PostingSettings;
use crate::storage::progress::format_timestamp;
use crate::structs::repr::{python_repr, str_repr};
use serde_json::{Value, json};
use std::time::Duration;

/// Messages longer than this are cut in the middle (kopf's `MAX_MESSAGE_LENGTH`).
pub const MAX_MESSAGE_LENGTH: usize = 1024;
/// What replaces the middle of a cut message.
pub const CUT_MESSAGE_INFIX: &str = "...";

/// kopf logs about posting under its posting engine's name.
const TARGET: &str = "kopf._core.engines.posting";

/// One event to post, with everything needed even after the object is gone.
#[derive(Clone, Debug, PartialEq)]
pub struct K8sEvent {
    /// The object's reference: `{apiVersion, kind, name, uid, namespace}`.
    pub reference: Value,
    /// `Normal`, `Warning`, `Error` (or for logged lines also `Debug`).
    pub type_: String,
    pub reason: String,
    pub message: String,
}

/// The message, cut in its middle to [`MAX_MESSAGE_LENGTH`] characters if longer: its
/// first 511 characters, `...`, its last 510.
pub fn cut_message(message: &str) -> String {
    let length = message.chars().count();
    if length <= MAX_MESSAGE_LENGTH {
        return message.to_string();
    }
    let infix = CUT_MESSAGE_INFIX.len();
    let head = MAX_MESSAGE_LENGTH / 2 - infix / 2;
    let tail = MAX_MESSAGE_LENGTH / 2 - (infix - infix / 2);
    let prefix: String = message.chars().take(head).collect();
    let suffix: String = message.chars().skip(length - tail).collect();
    format!("{prefix}{CUT_MESSAGE_INFIX}{suffix}")
}

/// The namespace the event goes to: the object's, else the client's default one (which is
/// `default` unless the credentials say otherwise), as kopf does for cluster-scoped objects.
pub fn event_namespace<'a>(reference: &'a Value, default: &'a str) -> &'a str {
    let own = reference.get("namespace").and_then(Value::as_str);
    match own.filter(|ns| !ns.is_empty()) {
        Some(namespace) => namespace,
        None if !default.is_empty() => default,
        None => "default",
    }
}

/// kopf's event body, in kopf's key order; the message already cut.
pub fn event_body(
    event: &K8sEvent,
    namespace: &str,
    settings: &PostingSettings,
    now: jiff::Timestamp,
) -> Value {
    let mut involved = event.reference.clone();
    if let Some(reference) = involved.as_object_mut() {
        reference.insert("namespace".into(), Value::String(namespace.into()));
    }
    let now = format_timestamp(now);
    json!({
        "metadata": {"namespace": namespace, "generateName": settings.event_name_prefix},
        "action": "Action?",
        "type": event.type_,
        "reason": event.reason,
        "message": cut_message(&event.message),
        "reportingComponent": settings.reporting_component,
        "reportingInstance": settings.reporting_instance,
        "source": {"component": settings.reporting_component},
        "involvedObject": involved,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "eventTime": now,
    })
}

/// Whether the event is about a core Event: kopf never posts those, so that serving events
/// cannot make events about events without end.
fn about_an_event(reference: &Value) -> bool {
    reference.get("apiVersion").and_then(Value::as_str) == Some("v1")
        && reference.get("kind").and_then(Value::as_str) == Some("Event")
}

/// Worth another attempt: no answer at all, or 403 (seen during upgrades), 429 and 5xx.
fn retriable(err: &kube::Error) -> bool {
    match err {
        kube::Error::Api(status) => matches!(status.code, 403 | 429 | 500..=599),
        _ => true,
    }
}

/// Posts the event, retrying after each of `backoffs` (seconds) while the failure may
/// pass. A failure for good is logged as kopf's warning and otherwise ignored.
pub async fn post_event(
    client: &kube::Client,
    settings: &PostingSettings,
    event: &K8sEvent,
    backoffs: &[f64],
) {
    if about_an_event(&event.reference) {
        return;
    }
    let namespace = event_namespace(&event.reference, client.default_namespace());
    let url = format!("/api/v1/namespaces/{namespace}/events");
    let body = event_body(event, namespace, settings, jiff::Timestamp::now());
    let Ok(payload) = serde_json::to_vec(&body) else {
        return;
    };
    let attempts = backoffs.len() + 1;
    for attempt in 1..=attempts {
        let request = http::Request::post(&url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(payload.clone());
        let result = match request {
            Ok(request) => client.request::<Value>(request).await.map(drop),
            Err(err) => return warn(event, &format!("Message: {err}. ")),
        };
        let err = match result {
            Ok(()) => return,
            Err(err) => err,
        };
        let backoff = backoffs.get(attempt - 1).filter(|_| retriable(&err));
        let Some(backoff) = backoff else {
            if attempt > 1 {
                tracing::error!(target: TARGET, "Request attempt #{attempt}/{attempts} failed; escalating: POST {url} -> {err}");
            }
            return warn(event, &failure(&err));
        };
        tracing::error!(target: TARGET, "Request attempt #{attempt}/{attempts} failed; will retry: POST {url} -> {err}");
        tokio::time::sleep(Duration::from_secs_f64(backoff.max(0.0))).await;
    }
}

/// What kopf says of a failure: the API's code, message and details, or the error.
fn failure(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) => {
            let details = status
                .details
                .as_ref()
                .and_then(|d| serde_json::to_value(d).ok())
                .map_or("None".to_string(), |d| python_repr(&d));
            // kopf's wording, without a separator after the details.
            format!(
                "Code: {}. Message: {}. Details: {details}",
                status.code, status.message
            )
        }
        other => format!("Message: {other}. "),
    }
}

fn warn(event: &K8sEvent, failure: &str) {
    tracing::warn!(
        target: TARGET,
        "Failed to post an event. Ignoring and continuing. {failure}Event: type={}, reason={}, message={}.",
        str_repr(&event.type_),
        str_repr(&event.reason),
        str_repr(&cut_message(&event.message)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(reference: Value, message: &str) -> K8sEvent {
        K8sEvent {
            reference,
            type_: "Normal".into(),
            reason: "SomeReason".into(),
            message: message.into(),
        }
    }

    #[test]
    fn bodies_are_kopfs_in_kopfs_key_order() {
        let reference = json!({"apiVersion": "kopf.dev/v1", "kind": "KopfExample", "name": "kex-g", "uid": "u1", "namespace": "ns1"});
        let now: jiff::Timestamp = "2026-11-25T05:47:20.85595Z".parse().unwrap();
        let body = event_body(
            &event(reference, "Some message"),
            "ns1",
            &PostingSettings::default(),
            now,
        );
        let stamp = "2026-11-25T05:47:20.855950+00:00";
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            format!(
                "{{\"metadata\":{{\"namespace\":\"ns1\",\"generateName\":\"kopf-event-\"}},\"action\":\"Action?\",\
                 \"type\":\"Normal\",\"reason\":\"SomeReason\",\"message\":\"Some message\",\
                 \"reportingComponent\":\"kopf\",\"reportingInstance\":\"dev\",\"source\":{{\"component\":\"kopf\"}},\
                 \"involvedObject\":{{\"apiVersion\":\"kopf.dev/v1\",\"kind\":\"KopfExample\",\"name\":\"kex-g\",\"uid\":\"u1\",\"namespace\":\"ns1\"}},\
                 \"firstTimestamp\":\"{stamp}\",\"lastTimestamp\":\"{stamp}\",\"eventTime\":\"{stamp}\"}}"
            )
        );
    }

    #[test]
    fn cluster_scoped_objects_have_their_events_in_the_default_namespace() {
        let node = json!({"apiVersion": "v1", "kind": "Node", "name": "n1", "uid": "u"});
        assert_eq!(event_namespace(&node, "default"), "default");
        assert_eq!(event_namespace(&node, "mine"), "mine");
        assert_eq!(event_namespace(&node, ""), "default");
        let body = event_body(
            &event(node, ""),
            "default",
            &PostingSettings::default(),
            jiff::Timestamp::UNIX_EPOCH,
        );
        assert_eq!(body["involvedObject"]["namespace"], "default");
        assert_eq!(body["eventTime"], "1970-01-01T00:00:00+00:00");
    }

    #[test]
    fn long_messages_are_cut_in_the_middle_to_1024_characters() {
        assert_eq!(cut_message("short"), "short");
        let exact = "x".repeat(1024);
        assert_eq!(cut_message(&exact), exact);
        let long = format!("{}{}{}", "a".repeat(600), "m".repeat(100), "ż".repeat(600));
        let cut = cut_message(&long);
        assert_eq!(cut.chars().count(), 1024);
        assert_eq!(cut, format!("{}...{}", "a".repeat(511), "ż".repeat(510)));
    }

    #[test]
    fn events_about_events_are_never_posted_and_failures_say_what_kopf_says() {
        assert!(about_an_event(
            &json!({"apiVersion": "v1", "kind": "Event"})
        ));
        assert!(!about_an_event(
            &json!({"apiVersion": "events.k8s.io/v1", "kind": "Event"})
        ));
        let status =
            kube::core::Status::failure("namespaces \"x\" not found", "NotFound").with_code(404);
        let err = kube::Error::Api(status.boxed());
        assert!(!retriable(&err));
        assert_eq!(
            failure(&err),
            "Code: 404. Message: namespaces \"x\" not found. Details: None"
        );
    }
}
