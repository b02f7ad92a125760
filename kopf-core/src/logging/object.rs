//! The object logger (`kopf::Logger`): an object's lines under `kopf.objects` with its
//! `[namespace/name]` prefix, an activity's under `kopf.activities.<activity>`, and the
//! sink that posts them as Events when `posting.loggers` is on.

use crate::structs::body::Body;
use crate::structs::resource::Resource;
use serde_json::{Map, Value};
use std::fmt::Display;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

/// Where the object loggers' lines also go: the level, the object's reference and the
/// message (kopf's `K8sPoster`, which posts them as events when `posting.loggers` is on).
pub type LogSink = fn(tracing::Level, &Value, &str);

static LOG_SINK: RwLock<Option<LogSink>> = RwLock::new(None);
/// Whether a sink is set: a line checks only this while none is.
static LOG_SINK_ON: AtomicBool = AtomicBool::new(false);

/// Sends the object loggers' lines to `sink` from now on too (`None`: to the log only).
pub fn set_log_sink(sink: Option<LogSink>) {
    *LOG_SINK.write().unwrap_or_else(|p| p.into_inner()) = sink;
    LOG_SINK_ON.store(sink.is_some(), Ordering::Release);
}

fn to_sink(level: tracing::Level, reference: &Value, message: &dyn Display) {
    if !LOG_SINK_ON.load(Ordering::Acquire) {
        return;
    }
    // Copied out: the sink runs without the lock held.
    let sink = *LOG_SINK.read().unwrap_or_else(|p| p.into_inner());
    if let Some(sink) = sink {
        sink(level, reference, &message.to_string());
    }
}

/// Where a logger's lines go: kopf's logger names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LogTarget {
    Objects,
    Startup,
    Cleanup,
    Authentication,
    Probe,
}

/// One line to `target`, with the object's prefix and reference when there is an object.
macro_rules! emit {
    ($logger:expr, $level:ident, $message:expr) => {{
        let logger = $logger;
        let message = $message;
        match logger.target {
            LogTarget::Objects => tracing::$level!(
                target: "kopf.objects",
                kopf_prefix = logger.prefix.as_deref(),
                kopf_object = logger.reference.as_deref(),
                "{message}"
            ),
            LogTarget::Startup => tracing::$level!(target: "kopf.activities.startup", "{message}"),
            LogTarget::Cleanup => tracing::$level!(target: "kopf.activities.cleanup", "{message}"),
            LogTarget::Authentication => {
                tracing::$level!(target: "kopf.activities.authentication", "{message}")
            }
            LogTarget::Probe => tracing::$level!(target: "kopf.activities.probe", "{message}"),
        }
    }};
}

/// The logger handlers take (`kopf::Logger`): for an object, its lines go to
/// `kopf.objects`, prefixed `[namespace/name] `; for an activity, to
/// `kopf.activities.<activity>`.
#[derive(Clone, Debug)]
pub struct ObjectLogger {
    target: LogTarget,
    prefix: Option<Arc<str>>,
    /// Compact JSON: one per object, kept by its daemons and timers for their lifetime.
    reference: Option<Arc<str>>,
}

impl ObjectLogger {
    /// `reference` is the object's `{apiVersion, kind, name, uid, namespace}` (the JSON format's `object`).
    pub fn new(namespace: Option<&str>, name: &str, reference: Value) -> Self {
        let prefix = match namespace {
            Some(ns) => format!("{ns}/{name}"),
            None => name.to_string(),
        };
        ObjectLogger {
            target: LogTarget::Objects,
            prefix: Some(prefix.into()),
            reference: Some(reference.to_string().into()),
        }
    }

    /// The logger of an activity's handlers: `kopf.activities.startup`, … (`activity` is
    /// kopf's name of it: `startup`, `cleanup`, `authentication`, `probe`).
    pub fn for_activity(activity: &str) -> Self {
        let target = match activity {
            "startup" => LogTarget::Startup,
            "cleanup" => LogTarget::Cleanup,
            "authentication" => LogTarget::Authentication,
            "probe" => LogTarget::Probe,
            _ => LogTarget::Objects,
        };
        ObjectLogger {
            target,
            prefix: None,
            reference: None,
        }
    }

    /// `namespace/name` (empty for an activity's logger).
    pub fn prefix(&self) -> &str {
        self.prefix.as_deref().unwrap_or("")
    }

    /// The object's reference (`None` for an activity's logger).
    pub fn reference(&self) -> Option<Value> {
        self.reference
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok())
    }

    pub fn debug(&self, message: impl Display) {
        emit!(self, debug, &message);
        self.to_sink(tracing::Level::DEBUG, &message);
    }
    pub fn info(&self, message: impl Display) {
        emit!(self, info, &message);
        self.to_sink(tracing::Level::INFO, &message);
    }
    pub fn warning(&self, message: impl Display) {
        emit!(self, warn, &message);
        self.to_sink(tracing::Level::WARN, &message);
    }
    pub fn error(&self, message: impl Display) {
        emit!(self, error, &message);
        self.to_sink(tracing::Level::ERROR, &message);
    }

    /// An object's line, also to the sink that posts them as Events (when it is on).
    fn to_sink(&self, level: tracing::Level, message: &dyn Display) {
        if LOG_SINK_ON.load(Ordering::Acquire)
            && let Some(reference) = self.reference()
        {
            to_sink(level, &reference, message);
        }
    }

    /// Logs at a level chosen at run time.
    pub fn log(&self, level: tracing::Level, message: impl Display) {
        match level {
            tracing::Level::ERROR => self.error(message),
            tracing::Level::WARN => self.warning(message),
            tracing::Level::INFO => self.info(message),
            _ => self.debug(message),
        }
    }

    /// The logger of one object of a resource (its namespace only when namespaced).
    pub fn for_object(resource: &Resource, body: &Body) -> Self {
        let name = body.name().unwrap_or_default();
        let namespace = if resource.namespaced {
            body.namespace()
        } else {
            None
        };
        let mut reference = Map::new();
        reference.insert("apiVersion".into(), Value::String(resource.api_version()));
        reference.insert("kind".into(), Value::String(resource.kind.clone()));
        reference.insert("name".into(), Value::String(name.to_string()));
        reference.insert(
            "uid".into(),
            body.uid().map_or(Value::Null, |u| Value::String(u.into())),
        );
        if let Some(ns) = namespace {
            reference.insert("namespace".into(), Value::String(ns.into()));
        }
        ObjectLogger::new(namespace, name, Value::Object(reference))
    }
}
