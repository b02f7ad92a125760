//! kopf's log lines: the object logger and the `full`/`plain`/`json` formats.

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

/// Installs kopf's log formats on stderr: `full` (`[date] logger [LEVEL] [ns/name] msg`),
/// `plain` (message only) or `json`. Other crates' events appear only at TRACE (`--debug`).
pub fn init(format: crate::settings::LogFormat, level: tracing::Level, log_prefix: bool) {
    use tracing_subscriber::layer::SubscriberExt;
    let layer = KopfLayer {
        format,
        level,
        log_prefix,
        sink: None,
    };
    let subscriber = tracing_subscriber::registry().with(layer);
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// One captured line: its level, kopf's logger name, the object's `namespace/name`, the
/// message, and the line rendered in the chosen format.
#[derive(Clone, Debug)]
pub struct LogRecord {
    pub level: tracing::Level,
    pub target: String,
    pub object: Option<String>,
    pub message: String,
    pub line: String,
}

/// Whether a capturing dispatcher was ever made: only then do spawned tasks carry theirs.
static SCOPED: AtomicBool = AtomicBool::new(false);

/// kopf's log lines, as [`init`] filters and renders them, given to `sink` instead of
/// stderr: a dispatcher to run one operator under (`future.with_subscriber(dispatch)`);
/// the tasks it spawns keep it ([`in_current_dispatch`]).
pub fn capturing(
    format: crate::settings::LogFormat,
    level: tracing::Level,
    log_prefix: bool,
    sink: impl Fn(LogRecord) + Send + Sync + 'static,
) -> tracing::Dispatch {
    use tracing_subscriber::layer::SubscriberExt;
    SCOPED.store(true, Ordering::Release);
    let sink: Arc<dyn Fn(LogRecord) + Send + Sync> = Arc::new(sink);
    let layer = KopfLayer {
        format,
        level,
        log_prefix,
        sink: Some(sink),
    };
    tracing::Dispatch::new(tracing_subscriber::registry().with(layer))
}

/// A future to spawn, run under the dispatcher current here (once [`capturing`] is used).
pub fn in_current_dispatch<F: std::future::Future>(
    future: F,
) -> futures::future::Either<F, tracing::instrument::WithDispatch<F>> {
    use tracing::instrument::WithSubscriber;
    match SCOPED.load(Ordering::Acquire) {
        false => futures::future::Either::Left(future),
        true => futures::future::Either::Right(future.with_current_subscriber()),
    }
}

/// A call for another thread, run under the dispatcher current here.
pub fn blocking_in_current_dispatch<R>(call: impl FnOnce() -> R) -> impl FnOnce() -> R {
    let dispatch = SCOPED
        .load(Ordering::Acquire)
        .then(|| tracing::dispatcher::get_default(Clone::clone));
    move || match dispatch {
        Some(dispatch) => tracing::dispatcher::with_default(&dispatch, call),
        None => call(),
    }
}

struct KopfLayer {
    format: crate::settings::LogFormat,
    level: tracing::Level,
    log_prefix: bool,
    sink: Option<Arc<dyn Fn(LogRecord) + Send + Sync>>,
}

#[derive(Default)]
struct Fields {
    message: String,
    prefix: Option<String>,
    object: Option<String>,
}

impl tracing::field::Visit for Fields {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_string(),
            "kopf_prefix" => self.prefix = Some(value.to_string()),
            "kopf_object" => self.object = Some(value.to_string()),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "kopf_prefix" => self.prefix = Some(format!("{value:?}")),
            "kopf_object" => self.object = Some(format!("{value:?}")),
            name => {
                if !self.message.is_empty() {
                    self.message.push(' ');
                }
                self.message.push_str(&format!("{name}={value:?}"));
            }
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for KopfLayer {
    fn enabled(
        &self,
        metadata: &tracing::Metadata<'_>,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        let ours = metadata.target().starts_with("kopf");
        let limit = if ours {
            self.level
        } else {
            tracing::Level::TRACE.min(self.level)
        };
        let visible = *metadata.level() <= limit;
        visible && (ours || self.level == tracing::Level::TRACE)
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let line = render(self.format, self.log_prefix, event.metadata(), &fields);
        if let Some(sink) = &self.sink {
            let metadata = event.metadata();
            return sink(LogRecord {
                level: *metadata.level(),
                target: metadata.target().to_string(),
                object: fields.prefix,
                message: fields.message,
                line,
            });
        }
        use std::io::Write;
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "{line}");
    }
}

fn level_name(level: &tracing::Level) -> &'static str {
    match *level {
        tracing::Level::ERROR => "ERROR",
        tracing::Level::WARN => "WARNING",
        tracing::Level::INFO => "INFO",
        _ => "DEBUG",
    }
}

fn render(
    format: crate::settings::LogFormat,
    log_prefix: bool,
    metadata: &tracing::Metadata<'_>,
    fields: &Fields,
) -> String {
    use crate::settings::LogFormat;
    let prefixed = match (&fields.prefix, log_prefix) {
        (Some(prefix), true) => format!("[{prefix}] {}", fields.message),
        _ => fields.message.clone(),
    };
    match format {
        LogFormat::Plain => prefixed,
        LogFormat::Full => {
            let now = jiff::Zoned::now();
            let stamp = format!(
                "{},{:03}",
                now.strftime("%Y-%m-%d %H:%M:%S"),
                now.subsec_nanosecond() / 1_000_000
            );
            let target: String = metadata.target().chars().take(20).collect();
            let level: String = level_name(metadata.level()).chars().take(8).collect();
            format!("[{stamp}] {target:<20} [{level:<8}] {prefixed}")
        }
        LogFormat::Json => {
            let severity = match *metadata.level() {
                tracing::Level::ERROR => "error",
                tracing::Level::WARN => "warn",
                tracing::Level::INFO => "info",
                _ => "debug",
            };
            let mut map = serde_json::Map::new();
            map.insert("message".into(), Value::String(fields.message.clone()));
            map.insert(
                "timestamp".into(),
                Value::String(crate::storage::progress::format_timestamp(
                    jiff::Timestamp::now(),
                )),
            );
            if let Some(object) = fields
                .object
                .as_deref()
                .and_then(|o| serde_json::from_str(o).ok())
            {
                map.insert("object".into(), object);
            }
            map.insert("severity".into(), Value::String(severity.into()));
            python_json(&Value::Object(map))
        }
    }
}

/// `json.dumps` spacing: `{"a": 1, "b": [1, 2]}`.
fn python_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), python_json(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(python_json).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}
