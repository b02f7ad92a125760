//! kopf's log lines: the object logger and the `full`/`plain`/`json` formats.

mod object;

pub use object::{LogSink, ObjectLogger, set_log_sink};

use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
        // One write per record, newline included: `writeln!` would write the newline
        // separately, and a line printed on stdout meanwhile (into the same terminal or
        // pipe) would land between the record and its end.
        use std::io::Write;
        let mut record = line;
        record.push('\n');
        let _ = std::io::stderr().lock().write_all(record.as_bytes());
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
