//! Waiting on conditions with deadlines: polls until a check yields a value, failing with
//! a message that names what was awaited instead of hanging the test run.

use std::future::Future;
use std::time::{Duration, Instant};

/// Pause between polls of an async check (in-process requests are cheap).
const ASYNC_INTERVAL: Duration = Duration::from_millis(50);
/// Pause between polls of a blocking check (which usually runs kubectl).
const BLOCKING_INTERVAL: Duration = Duration::from_millis(100);

/// Polls `check` until it returns `Some`, or returns `None` once `deadline` has passed:
/// for callers that build their own failure message.
pub async fn poll_until<T, F, Fut>(deadline: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let until = Instant::now() + deadline;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if Instant::now() >= until {
            return None;
        }
        tokio::time::sleep(ASYNC_INTERVAL).await;
    }
}

/// Polls `check` until it returns `Some`; panics naming `what` after `deadline`.
pub async fn wait_for<T, F, Fut>(what: &str, deadline: Duration, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    poll_until(deadline, check)
        .await
        .unwrap_or_else(|| panic!("timed out waiting for {what}"))
}

/// The same for tests without an async runtime of their own.
pub fn wait_for_blocking<T>(what: &str, deadline: Duration, check: impl FnMut() -> Option<T>) -> T {
    poll_until_blocking(deadline, check).unwrap_or_else(|| panic!("timed out waiting for {what}"))
}

/// Polls a blocking `check` until it returns `Some`, or returns `None` once `deadline`
/// has passed: for callers that build their own failure message.
pub fn poll_until_blocking<T>(
    deadline: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> Option<T> {
    let until = Instant::now() + deadline;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if Instant::now() >= until {
            return None;
        }
        std::thread::sleep(BLOCKING_INTERVAL);
    }
}
