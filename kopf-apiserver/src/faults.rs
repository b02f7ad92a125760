//! Fault injection: failing requests, dropped watches, latency.
//!
//! Ratios are probabilities drawn per request (or per watch event): 0 never fires, 1 always
//! does, so tests can be deterministic at the extremes.

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
        Faults {
            config: std::sync::RwLock::new(config),
        }
    }

    pub fn set(&self, config: FaultConfig) {
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = config;
    }

    pub fn get(&self) -> FaultConfig {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Called once per request, before routing: `Some` answers the request with that failure.
    pub fn before_request(&self, _method: &str, _path: &str) -> Option<InjectedFailure> {
        let config = self.get();
        if chance(config.error_500_ratio) {
            return Some(InjectedFailure {
                code: 500,
                retry_after: None,
            });
        }
        if chance(config.error_429_ratio) {
            return Some(InjectedFailure {
                code: 429,
                retry_after: Some(1),
            });
        }
        None
    }

    /// Added latency for a request.
    pub fn latency(&self) -> Duration {
        self.get().latency
    }

    /// Called after each event delivered on a watch stream (`delivered` counts them, from 1):
    /// `true` ends the stream abruptly.
    pub fn drop_watch_after_event(&self, delivered: u64) -> bool {
        let config = self.get();
        if config
            .watch_drop_after
            .is_some_and(|limit| delivered >= limit)
        {
            return true;
        }
        chance(config.watch_drop_ratio)
    }
}

/// `true` with probability `ratio`; 0 (or less, or NaN) never, 1 (or more) always.
fn chance(ratio: f64) -> bool {
    if ratio.is_nan() || ratio <= 0.0 {
        false
    } else if ratio >= 1.0 {
        true
    } else {
        rand::random::<f64>() < ratio
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_injected_by_default() {
        let faults = Faults::new(FaultConfig::default());
        for delivered in 1..1000 {
            assert_eq!(faults.before_request("GET", "/api/v1/namespaces"), None);
            assert!(!faults.drop_watch_after_event(delivered));
        }
        assert_eq!(faults.latency(), Duration::ZERO);
    }

    #[test]
    fn ratio_one_always_fails_with_500_first() {
        let faults = Faults::new(FaultConfig {
            error_500_ratio: 1.0,
            error_429_ratio: 1.0,
            ..FaultConfig::default()
        });
        for _ in 0..100 {
            assert_eq!(
                faults.before_request("GET", "/api"),
                Some(InjectedFailure {
                    code: 500,
                    retry_after: None
                })
            );
        }
    }

    #[test]
    fn ratio_one_of_429_carries_retry_after() {
        let faults = Faults::new(FaultConfig {
            error_429_ratio: 1.0,
            ..FaultConfig::default()
        });
        for _ in 0..100 {
            assert_eq!(
                faults.before_request(
                    "PATCH",
                    "/apis/kopf.dev/v1/namespaces/default/kopfexamples/x"
                ),
                Some(InjectedFailure {
                    code: 429,
                    retry_after: Some(1)
                })
            );
        }
    }

    #[test]
    fn settings_change_at_run_time() {
        let faults = Faults::new(FaultConfig {
            error_500_ratio: 1.0,
            ..FaultConfig::default()
        });
        assert!(faults.before_request("GET", "/api").is_some());
        faults.set(FaultConfig {
            latency: Duration::from_millis(7),
            ..FaultConfig::default()
        });
        assert!(faults.before_request("GET", "/api").is_none());
        assert_eq!(faults.latency(), Duration::from_millis(7));
    }

    #[test]
    fn watch_is_dropped_after_the_configured_count() {
        let faults = Faults::new(FaultConfig {
            watch_drop_after: Some(3),
            ..FaultConfig::default()
        });
        assert!(!faults.drop_watch_after_event(1));
        assert!(!faults.drop_watch_after_event(2));
        assert!(faults.drop_watch_after_event(3));
        assert!(faults.drop_watch_after_event(4));
    }

    #[test]
    fn watch_drop_ratio_extremes() {
        let always = Faults::new(FaultConfig {
            watch_drop_ratio: 1.0,
            ..FaultConfig::default()
        });
        let never = Faults::new(FaultConfig {
            watch_drop_ratio: 0.0,
            ..FaultConfig::default()
        });
        for delivered in 1..100 {
            assert!(always.drop_watch_after_event(delivered));
            assert!(!never.drop_watch_after_event(delivered));
        }
    }

    #[test]
    fn intermediate_ratio_fires_sometimes() {
        let faults = Faults::new(FaultConfig {
            error_500_ratio: 0.5,
            ..FaultConfig::default()
        });
        let fired = (0..2000)
            .filter(|_| faults.before_request("GET", "/api").is_some())
            .count();
        // 2000 draws at p=0.5: outside 700..1300 is astronomically unlikely.
        assert!((700..1300).contains(&fired), "fired {fired} times");
    }
}
