//! The lines one runner's operator logged, and the handlers' outcomes read from them.

use kopf_core::logging::LogRecord;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// The captured lines, shared by the operator's dispatcher (writing) and the runner (reading).
#[derive(Clone, Default)]
pub(crate) struct Logs {
    records: Arc<Mutex<Vec<LogRecord>>>,
    added: Arc<Notify>,
}

impl Logs {
    pub(crate) fn push(&self, record: LogRecord) {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(record);
        self.added.notify_waiters();
    }

    pub(crate) fn records(&self) -> Vec<LogRecord> {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The first line (as rendered) at or after `from` that contains `text`.
    pub(crate) fn find(&self, from: usize, text: &str) -> Option<String> {
        let records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        records
            .iter()
            .skip(from)
            .find(|r| r.line.contains(text) || r.message.contains(text))
            .map(|r| r.line.clone())
    }

    /// Resolves at the next added line (or soon, as a safety net against a missed wake-up).
    pub(crate) async fn changed(&self) {
        let _ = tokio::time::timeout(std::time::Duration::from_millis(100), self.added.notified())
            .await;
    }

    pub(crate) fn tail(&self, n: usize) -> Vec<String> {
        let records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let start = records.len().saturating_sub(n);
        records[start..].iter().map(|r| r.line.clone()).collect()
    }

    pub(crate) fn outcomes(&self) -> Vec<HandlerOutcome> {
        let records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        records.iter().filter_map(HandlerOutcome::parse).collect()
    }
}

/// How one attempt of a handler ended, as kopf logged it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// `Handler 'id' succeeded.`
    Succeeded,
    /// A temporary failure or an exception that will be retried.
    Retrying,
    /// A permanent failure, or retries or the timeout exhausted: the handler is done, failed.
    Failed,
    /// An exception ignored as the handler's `errors = "ignored"` says.
    Ignored,
}

/// One handler's attempt and how it ended: `Handler 'id' …`, `Activity 'id' …`,
/// `Timer 'id' …` or `Daemon 'id' …` lines of kopf's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandlerOutcome {
    /// The handler's id (`parent/child` for sub-handlers).
    pub handler: String,
    /// The object's `namespace/name` (`name` if cluster-scoped); `None` for activities.
    pub object: Option<String>,
    pub verdict: Verdict,
    /// The message as logged.
    pub message: String,
}

impl HandlerOutcome {
    fn parse(record: &LogRecord) -> Option<HandlerOutcome> {
        let message = record.message.as_str();
        let rest = ["Handler '", "Activity '", "Timer '", "Daemon '"]
            .iter()
            .find_map(|label| message.strip_prefix(label))?;
        let (handler, rest) = rest.split_once("' ")?;
        let verdict = if rest == "succeeded." {
            Verdict::Succeeded
        } else if rest.contains("will ignore it") {
            Verdict::Ignored
        } else if rest.starts_with("failed permanently")
            || rest.contains("will stop now")
            || rest.contains("but will time out")
            || rest.contains("but will exceed")
            || rest.starts_with("has timed out")
            || rest.starts_with("has exceeded")
        {
            Verdict::Failed
        } else if rest.starts_with("failed") {
            Verdict::Retrying
        } else {
            return None;
        };
        Some(HandlerOutcome {
            handler: handler.to_string(),
            object: record.object.clone(),
            verdict,
            message: message.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(object: Option<&str>, message: &str) -> LogRecord {
        LogRecord {
            level: tracing::Level::INFO,
            target: "kopf.objects".into(),
            object: object.map(Into::into),
            message: message.into(),
            line: message.into(),
        }
    }

    #[test]
    fn kopfs_lines_are_read_as_outcomes() {
        let cases = [
            ("Handler 'a' succeeded.", Some(Verdict::Succeeded)),
            (
                "Handler 'a' failed temporarily: not yet",
                Some(Verdict::Retrying),
            ),
            (
                "Handler 'a/b' failed with an exception and will try again in 1 seconds: boom",
                Some(Verdict::Retrying),
            ),
            ("Handler 'a' failed permanently: no", Some(Verdict::Failed)),
            (
                "Handler 'a' failed with an exception and will stop now: boom",
                Some(Verdict::Failed),
            ),
            ("Handler 'a' has exceeded 3 retries.", Some(Verdict::Failed)),
            (
                "Handler 'a' failed with an exception and will ignore it: boom",
                Some(Verdict::Ignored),
            ),
            ("Activity 'start' succeeded.", Some(Verdict::Succeeded)),
            ("Creation is processed: 1 succeeded; 0 failed.", None),
            (
                "Handler 'a' has unfinished sub-handlers. Will retry soon.",
                None,
            ),
        ];
        for (line, expected) in cases {
            let parsed = HandlerOutcome::parse(&record(Some("default/x"), line));
            assert_eq!(parsed.map(|o| o.verdict), expected, "{line}");
        }
        let parsed = HandlerOutcome::parse(&record(Some("ns/x"), "Handler 'a/b' succeeded."));
        let parsed = parsed.expect("parsed");
        assert_eq!(
            (parsed.handler.as_str(), parsed.object.as_deref()),
            ("a/b", Some("ns/x"))
        );
    }
}
