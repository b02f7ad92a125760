//! One raw watch event as the per-object queues keep it: the object's text, and the few
//! fields read before processing found in that text.

use crate::structs::body::Body;
use crate::structs::resource::Resource;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::sync::Arc;

/// What kind of raw event an object arrived with. `Listed` is kopf's `type=None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    Listed,
    Added,
    Modified,
    Deleted,
}

impl EventKind {
    /// The watch event's `type`; `None` for a listed object, as kopf's `type=None`.
    pub fn as_type(self) -> Option<&'static str> {
        match self {
            EventKind::Listed => None,
            EventKind::Added => Some("ADDED"),
            EventKind::Modified => Some("MODIFIED"),
            EventKind::Deleted => Some("DELETED"),
        }
    }
}

/// One raw event for the per-object queues.
///
/// The object stays the compact JSON text the server sent until a worker processes it:
/// thousands of queued objects (a catch-up listing) cost their text, not parsed trees.
#[derive(Debug)]
pub struct RawEvent {
    pub kind: EventKind,
    /// Shared: the body handed to daemons and timers is this very text, not a copy.
    text: Arc<str>,
    head: Head,
}

/// The few fields read before processing (routing, queueing, consistency) as places in
/// the text: no allocation per event for them, and a small event wherever it is held.
#[derive(Debug, Default)]
struct Head {
    /// uid, name, namespace, resourceVersion: byte ranges of the text.
    spans: [Option<(u32, u32)>; 4],
    /// Copies, in the rare case one of them had JSON escapes in the text.
    escaped: Option<Box<[Option<String>; 4]>>,
    /// Whether the text names its apiVersion and kind (list items of built-in kinds
    /// come without them).
    complete: bool,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HeadText<'a> {
    #[serde(default, borrow)]
    metadata: HeadMetaText<'a>,
    api_version: Option<serde::de::IgnoredAny>,
    kind: Option<serde::de::IgnoredAny>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HeadMetaText<'a> {
    #[serde(borrow)]
    uid: Option<Text<'a>>,
    #[serde(borrow)]
    name: Option<Text<'a>>,
    #[serde(borrow)]
    namespace: Option<Text<'a>>,
    #[serde(borrow)]
    resource_version: Option<Text<'a>>,
}

/// A string borrowed from the text unless it had escapes (serde borrows a `Cow` only as
/// a field of its own, not inside an `Option`).
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// The head's fields, in the order of `Head::spans`.
const UID: usize = 0;
const NAME: usize = 1;
const NAMESPACE: usize = 2;
const RESOURCE_VERSION: usize = 3;

impl Head {
    fn read(text: &str) -> Head {
        let parsed: HeadText<'_> = serde_json::from_str(text).unwrap_or_default();
        let meta = parsed.metadata;
        let fields = [meta.uid, meta.name, meta.namespace, meta.resource_version]
            .map(|field| field.map(|Text(text)| text));
        let mut head = Head {
            complete: parsed.api_version.is_some() && parsed.kind.is_some(),
            ..Head::default()
        };
        if fields.iter().any(|f| matches!(f, Some(Cow::Owned(_)))) {
            head.escaped = Some(Box::new(fields.map(|f| f.map(Cow::into_owned))));
            return head;
        }
        for (span, field) in head.spans.iter_mut().zip(&fields) {
            if let Some(Cow::Borrowed(value)) = field {
                let start = value.as_ptr() as usize - text.as_ptr() as usize;
                *span = Some((start as u32, (start + value.len()) as u32));
            }
        }
        head
    }

    fn get<'t>(&'t self, text: &'t str, field: usize) -> Option<&'t str> {
        match &self.escaped {
            Some(copies) => copies[field].as_deref(),
            None => {
                let (start, end) = self.spans[field]?;
                text.get(start as usize..end as usize)
            }
        }
    }
}

impl RawEvent {
    pub fn new(kind: EventKind, raw: &RawValue) -> Self {
        let text: Arc<str> = raw.get().into();
        let head = Head::read(&text);
        RawEvent { kind, text, head }
    }

    /// The object as a body: its own text, parsed when first read, if it names its kind
    /// and apiVersion (watch events do); else parsed now, with them added.
    pub fn body(&self, resource: &Resource) -> Body {
        if self.head.complete {
            Body::from_text(self.text.clone())
        } else {
            Body::new(self.object(resource))
        }
    }

    /// The object, parsed; list items get the list's kind and apiVersion, as kopf adds them.
    pub fn object(&self, resource: &Resource) -> Value {
        let mut object: Value = serde_json::from_str(&self.text).unwrap_or(Value::Null);
        if let Some(map) = object.as_object_mut() {
            if !map.contains_key("apiVersion") {
                map.insert("apiVersion".into(), Value::String(resource.api_version()));
            }
            if !map.contains_key("kind") {
                map.insert("kind".into(), Value::String(resource.kind.clone()));
            }
        }
        object
    }

    pub fn uid(&self) -> Option<&str> {
        self.head.get(&self.text, UID)
    }

    pub fn name(&self) -> Option<&str> {
        self.head.get(&self.text, NAME)
    }

    pub fn namespace(&self) -> Option<&str> {
        self.head.get(&self.text, NAMESPACE)
    }

    pub fn resource_version(&self) -> Option<&str> {
        self.head.get(&self.text, RESOURCE_VERSION)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> RawEvent {
        let raw: Box<RawValue> = serde_json::from_str(json).expect("JSON");
        RawEvent::new(EventKind::Added, &raw)
    }

    #[test]
    fn the_head_is_read_from_the_text() {
        let e = event(
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p1","namespace":"ns","uid":"u-1","resourceVersion":"42","labels":{"name":"not-this"}}}"#,
        );
        assert_eq!(
            (e.uid(), e.name(), e.namespace(), e.resource_version()),
            (Some("u-1"), Some("p1"), Some("ns"), Some("42"))
        );
        assert!(e.head.complete && e.head.escaped.is_none());
    }

    #[test]
    fn escaped_and_missing_fields_are_read_too() {
        let e = event(r#"{"metadata":{"name":"a\u0062c","uid":"u"}}"#);
        assert_eq!(
            (e.name(), e.uid(), e.namespace()),
            (Some("abc"), Some("u"), None)
        );
        assert!(!e.head.complete);
        let e = event(r#"[1, 2]"#);
        assert_eq!((e.name(), e.resource_version()), (None, None));
    }

    #[test]
    fn a_complete_body_shares_the_text_and_an_incomplete_one_gets_kind_and_version() {
        let resource = Resource {
            group: String::new(),
            version: "v1".into(),
            plural: "pods".into(),
            kind: "Pod".into(),
            singular: "pod".into(),
            short_names: Vec::new(),
            categories: Vec::new(),
            namespaced: true,
            has_status_subresource: true,
            verbs: Vec::new(),
        };
        let text = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}"#;
        let body = event(text).body(&resource);
        assert_eq!(&*body.to_text(), text);
        let body = event(r#"{"metadata":{"name":"p"}}"#).body(&resource);
        assert_eq!(
            (
                body.raw()["kind"].as_str(),
                body.raw()["apiVersion"].as_str()
            ),
            (Some("Pod"), Some("v1"))
        );
    }
}
