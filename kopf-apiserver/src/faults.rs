//! Fault injection: failing requests, dropped watches, latency. OWNER: helper "apiserver-ops".
//!
//! STUB: the API is fixed; the bodies are being written.

use crate::config::FaultConfig;
use std::time::Duration;

/// An injected failure for one request.
#[derive(Clone, Debug, PartialEq)]
pub struct InjectedFailure {
    /// 500 or 429.
    pub code: u16,
    /// Seconds for the `Retry-After` header (429 only).
    pub retry_after: Option<u64>,
}

/// Live fault settings; changeable at run time (tests flip them on and off).
#[derive(Debug, Default)]
pub struct Faults {
    config: std::sync::RwLock<FaultConfig>,
}

impl Faults {
    pub fn new(config: FaultConfig) -> Self {
        Faults { config: std::sync::RwLock::new(config) }
    }

    pub fn set(&self, config: FaultConfig) {
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = config;
    }

    pub fn get(&self) -> FaultConfig {
        self.config.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Called once per request, before routing: `Some` answers the request with that failure.
    pub fn before_request(&self, _method: &str, _path: &str) -> Option<InjectedFailure> {
        None
    }

    /// Added latency for a request.
    pub fn latency(&self) -> Duration {
        self.get().latency
    }

    /// Called after each event delivered on a watch stream (`delivered` counts them, from 1):
    /// `true` ends the stream abruptly.
    pub fn drop_watch_after_event(&self, _delivered: u64) -> bool {
        false
    }
}
