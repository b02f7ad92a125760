//! Recording a handler's outcome as kopf does: new progress state, log line, result.

use crate::intents::causes::Reason;
use crate::invocation::outcome::{ErrorsMode, Outcome, RetryPolicy};
use crate::storage::progress::HandlerState;
use jiff::Timestamp;
use serde_json::Value;
use tracing::Level;

/// What an invocation (or a limit check) comes to.
pub struct Recorded {
    pub state: HandlerState,
    pub level: Level,
    pub message: String,
    pub result: Option<Value>,
}

/// Seconds as Python prints the option (`60`, `1.5`).
fn seconds(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

fn runtime_seconds(state: &HandlerState, now: Timestamp) -> f64 {
    now.duration_since(state.started).as_secs_f64()
}

/// Python's `str(timedelta)`: `0:00:01.234567`.
fn timedelta(secs: f64) -> String {
    let total_micros = (secs.max(0.0) * 1e6).round() as u64;
    let (whole, micros) = (total_micros / 1_000_000, total_micros % 1_000_000);
    let (h, m, s) = (whole / 3600, (whole % 3600) / 60, whole % 60);
    if micros == 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{h}:{m:02}:{s:02}.{micros:06}")
    }
}

fn finish(
    state: &HandlerState,
    now: Timestamp,
    success: bool,
    message: Option<String>,
) -> HandlerState {
    HandlerState {
        stopped: Some(state.stopped.unwrap_or(now)),
        delayed: None,
        retries: state.retries + 1,
        success,
        failure: !success,
        message,
        ..state.clone()
    }
}

fn retry(state: &HandlerState, now: Timestamp, delay: f64, message: String) -> HandlerState {
    let delayed = now
        .checked_add(jiff::SignedDuration::from_secs_f64(delay.max(0.0)))
        .unwrap_or(now);
    HandlerState {
        delayed: Some(delayed),
        retries: state.retries + 1,
        success: false,
        failure: false,
        message: Some(message),
        ..state.clone()
    }
}

/// Strict limits, checked before invoking: a timed-out or exhausted handler fails for good.
pub fn check_limits(
    label: &str,
    state: &HandlerState,
    policy: &RetryPolicy,
    now: Timestamp,
) -> Option<Recorded> {
    let runtime = runtime_seconds(state, now);
    let message = match (policy.timeout, policy.retries) {
        (Some(timeout), _) if runtime >= timeout => {
            format!("{label} has timed out after {}.", timedelta(runtime))
        }
        (_, Some(retries)) if state.retries >= retries => {
            format!("{label} has exceeded {} retries.", state.retries)
        }
        _ => return None,
    };
    Some(Recorded {
        state: finish(state, now, false, Some(message.clone())),
        level: Level::ERROR,
        message,
        result: None,
    })
}

/// The new state, the log line and the result of one invocation.
pub fn record_outcome(
    label: &str,
    state: &HandlerState,
    outcome: &Outcome,
    policy: &RetryPolicy,
    default_backoff: f64,
    now: Timestamp,
) -> Recorded {
    let runtime = runtime_seconds(state, now);
    let next_exceeds_retries = policy.retries.is_some_and(|r| state.retries + 1 >= r);
    let error = |message: String, new_state: HandlerState| Recorded {
        state: new_state,
        level: Level::ERROR,
        message,
        result: None,
    };
    match outcome {
        Outcome::Success(result) => Recorded {
            state: finish(state, now, true, None),
            level: Level::INFO,
            message: format!("{label} succeeded."),
            result: result.clone(),
        },
        Outcome::Temporary { message, delay } => {
            let delay = delay.unwrap_or(60.0);
            if let Some(timeout) = policy.timeout.filter(|t| runtime + delay >= *t) {
                let text = format!(
                    "{label} failed temporarily but will time out after {} seconds: {message}",
                    seconds(timeout)
                );
                error(text.clone(), finish(state, now, false, Some(text)))
            } else if let Some(retries) = policy.retries.filter(|_| next_exceeds_retries) {
                let text = format!(
                    "{label} failed temporarily but will exceed {retries} retries: {message}"
                );
                error(text.clone(), finish(state, now, false, Some(text)))
            } else {
                error(
                    format!("{label} failed temporarily: {message}"),
                    retry(state, now, delay, message.clone()),
                )
            }
        }
        // kopf's quirk: the stored message is `str()` of an error without one.
        Outcome::Unfinished { delay } => Recorded {
            state: retry(state, now, *delay, "None".to_string()),
            level: Level::DEBUG,
            message: format!("{label} has unfinished sub-handlers. Will retry soon."),
            result: None,
        },
        Outcome::Permanent { message } | Outcome::Admission { message, .. } => error(
            format!("{label} failed permanently: {message}"),
            finish(state, now, false, Some(message.clone())),
        ),
        Outcome::Exception { message } => {
            let backoff = policy.backoff.unwrap_or(default_backoff);
            match policy.errors {
                ErrorsMode::Ignored => error(
                    format!("{label} failed with an exception and will ignore it: {message}"),
                    finish(state, now, true, None),
                ),
                ErrorsMode::Permanent => error(
                    format!("{label} failed with an exception and will stop now: {message}"),
                    finish(state, now, false, Some(message.clone())),
                ),
                ErrorsMode::Temporary => {
                    if let Some(timeout) = policy.timeout.filter(|t| runtime + backoff >= *t) {
                        let text = format!(
                            "{label} failed with an exception and will stop now (it would time out in {} seconds on the next attempt): {message}",
                            seconds(timeout)
                        );
                        error(text.clone(), finish(state, now, false, Some(text)))
                    } else if let Some(retries) = policy.retries.filter(|_| next_exceeds_retries) {
                        let text = format!(
                            "{label} failed with an exception and will stop now (it would exceed {retries} retries on the next attempt): {message}"
                        );
                        error(text.clone(), finish(state, now, false, Some(text)))
                    } else {
                        error(
                            format!(
                                "{label} failed with an exception and will try again in {} seconds: {message}",
                                seconds(backoff)
                            ),
                            retry(state, now, backoff, message.clone()),
                        )
                    }
                }
            }
        }
    }
}

/// `Creation is processed: 1 succeeded; 0 failed.`
pub fn processed_line(reason: Reason, succeeded: usize, failed: usize) -> String {
    format!(
        "{} is processed: {succeeded} succeeded; {failed} failed.",
        reason.capitalised_title()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(now: Timestamp, retries: u32) -> HandlerState {
        HandlerState {
            retries,
            ..HandlerState::new("create", now)
        }
    }

    #[test]
    fn outcomes_are_recorded_with_kopfs_words() {
        let now: Timestamp = "2026-11-25T05:38:23Z".parse().unwrap();
        let label = "Handler 'create_fn'";
        let unlimited = RetryPolicy::default();

        let ok = record_outcome(
            label,
            &state(now, 0),
            &Outcome::Success(Some(serde_json::json!({"x": 1}))),
            &unlimited,
            60.0,
            now,
        );
        assert_eq!(
            (ok.message.as_str(), ok.level),
            ("Handler 'create_fn' succeeded.", Level::INFO)
        );
        assert!(ok.state.success && ok.state.stopped.is_some() && ok.state.retries == 1);
        assert_eq!(ok.result, Some(serde_json::json!({"x": 1})));

        let temporary = Outcome::Temporary {
            message: "not yet".into(),
            delay: Some(1.0),
        };
        let retried = record_outcome(label, &state(now, 0), &temporary, &unlimited, 60.0, now);
        assert_eq!(
            retried.message,
            "Handler 'create_fn' failed temporarily: not yet"
        );
        assert!(!retried.state.is_finished());
        assert_eq!(
            retried.state.delayed,
            Some("2026-11-25T05:38:24Z".parse().unwrap())
        );
        assert_eq!(retried.state.message.as_deref(), Some("not yet"));

        let limited = RetryPolicy {
            retries: Some(2),
            backoff: Some(1.0),
            ..RetryPolicy::default()
        };
        let boom = Outcome::Exception {
            message: "boom".into(),
        };
        let first = record_outcome(label, &state(now, 0), &boom, &limited, 60.0, now);
        assert_eq!(
            first.message,
            "Handler 'create_fn' failed with an exception and will try again in 1 seconds: boom"
        );
        let last = record_outcome(label, &state(now, 1), &boom, &limited, 60.0, now);
        assert_eq!(
            last.message,
            "Handler 'create_fn' failed with an exception and will stop now (it would exceed 2 retries on the next attempt): boom"
        );
        assert!(last.state.failure);

        let permanent = Outcome::Permanent {
            message: "fatal".into(),
        };
        let failed = record_outcome(label, &state(now, 0), &permanent, &unlimited, 60.0, now);
        assert_eq!(
            failed.message,
            "Handler 'create_fn' failed permanently: fatal"
        );
        assert!(failed.state.failure && failed.state.retries == 1);

        let ignoring = RetryPolicy {
            errors: ErrorsMode::Ignored,
            ..RetryPolicy::default()
        };
        let ignored = record_outcome(label, &state(now, 0), &boom, &ignoring, 60.0, now);
        assert_eq!(
            ignored.message,
            "Handler 'create_fn' failed with an exception and will ignore it: boom"
        );
        assert!(ignored.state.success);

        let exhausted = check_limits(
            label,
            &state(now, 3),
            &RetryPolicy {
                retries: Some(3),
                ..RetryPolicy::default()
            },
            now,
        );
        assert_eq!(
            exhausted.map(|r| r.message),
            Some("Handler 'create_fn' has exceeded 3 retries.".to_string())
        );
        assert_eq!(
            processed_line(Reason::Create, 1, 2),
            "Creation is processed: 1 succeeded; 2 failed."
        );
    }
}
