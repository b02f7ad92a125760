//! How the watch-streams fare, for the liveness endpoint: a stream that has not been
//! connected for longer than its timeout is blind — the operator would miss every change
//! of its resource (kopf's most reported failure), so the probe fails and Kubernetes
//! restarts the operator.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// One stream's pulse: when it last got something from the server, and whether it is
/// connected now.
#[derive(Debug)]
pub struct Pulse {
    name: String,
    timeout: Duration,
    last_ok: Mutex<Instant>,
    connected: AtomicBool,
    /// The stream has ended (its resource is no longer served): never blind.
    retired: AtomicBool,
}

impl Pulse {
    /// The server answered: a listing page, an opened watch, an event, a bookmark.
    pub fn beat(&self) {
        *self.last_ok.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        self.connected.store(true, Ordering::Relaxed);
    }

    /// The request or the connection failed.
    pub fn lost(&self) {
        self.connected.store(false, Ordering::Relaxed);
    }

    /// The stream has ended for good.
    pub fn retire(&self) {
        self.retired.store(true, Ordering::Relaxed);
    }

    /// Why the stream is blind, if it is: disconnected past its timeout, or silent past
    /// twice its timeout (a healthy silent stream reconnects once per timeout).
    fn blindness(&self) -> Option<String> {
        if self.retired.load(Ordering::Relaxed) {
            return None;
        }
        let silent = self
            .last_ok
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .elapsed();
        let connected = self.connected.load(Ordering::Relaxed);
        let limit = if connected {
            self.timeout * 2
        } else {
            self.timeout
        };
        (silent > limit).then(|| {
            let state = if connected { "silent" } else { "disconnected" };
            format!("{} is {state} for {}s", self.name, silent.as_secs())
        })
    }
}

/// Every stream's pulse.
#[derive(Clone, Debug, Default)]
pub struct WatchHealth {
    pulses: Arc<Mutex<Vec<Arc<Pulse>>>>,
}

impl WatchHealth {
    /// A new stream, counted as connected until it fails.
    pub fn register(&self, name: String, timeout: Duration) -> Arc<Pulse> {
        let pulse = Arc::new(Pulse {
            name,
            timeout,
            last_ok: Mutex::new(Instant::now()),
            connected: AtomicBool::new(true),
            retired: AtomicBool::new(false),
        });
        self.pulses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(pulse.clone());
        pulse
    }

    /// The blind streams, described.
    pub fn blind(&self) -> Vec<String> {
        self.pulses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter_map(|pulse| pulse.blindness())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_stream_disconnected_past_its_timeout_is_blind() {
        let health = WatchHealth::default();
        let pulse = health.register("pods cluster-wide".into(), Duration::from_secs(10));
        pulse.lost();
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(health.blind().is_empty());
        tokio::time::advance(Duration::from_secs(6)).await;
        assert_eq!(
            health.blind(),
            vec!["pods cluster-wide is disconnected for 11s".to_string()]
        );
        pulse.beat();
        assert!(health.blind().is_empty());
        tokio::time::advance(Duration::from_secs(15)).await;
        assert!(health.blind().is_empty(), "connected and silent: not yet");
        tokio::time::advance(Duration::from_secs(6)).await;
        assert_eq!(health.blind().len(), 1);
    }
}
