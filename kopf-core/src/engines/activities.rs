//! kopf's activities: startup, cleanup, login and probes. The handlers of an activity run
//! all at once, each retried in memory by its own options until it succeeds or fails for
//! good; the activity fails when any handler has failed for good.

use crate::actions::execution::{self, Recorded};
use crate::intents::causes::{ActivityCause, ActivityKind};
use crate::intents::registry::Registry;
use crate::logging::ObjectLogger;
use crate::settings::OperatorSettings;
use crate::storage::progress::HandlerState;
use crate::structs::shared::OperatorShared;
use jiff::Timestamp;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// An activity whose handlers did not all succeed (kopf's `ActivityError`).
#[derive(Debug, thiserror::Error)]
#[error("One or more handlers failed.")]
pub struct ActivityError {
    pub activity: ActivityKind,
    /// The handlers that failed for good, with their last messages.
    pub failed: Vec<(String, String)>,
}

/// What an activity needs from the operator.
#[derive(Clone)]
pub struct ActivityContext {
    pub registry: std::sync::Arc<Registry>,
    pub settings: OperatorSettings,
    pub shared: OperatorShared,
}

impl ActivityContext {
    /// Runs every handler of `activity` until each has succeeded or failed for good;
    /// returns the results by handler id (handlers that returned nothing are absent).
    pub async fn run(
        &self,
        activity: ActivityKind,
    ) -> Result<BTreeMap<String, Value>, ActivityError> {
        let handlers = self.registry.activities(activity);
        let logger = ObjectLogger::for_activity(activity.as_str());
        let now = Timestamp::now();
        let mut states: Vec<HandlerState> = handlers
            .iter()
            .map(|_| HandlerState::new(activity.as_str(), now))
            .collect();
        let mut results = BTreeMap::new();
        let mut failed = Vec::new();
        loop {
            for (handler, state) in handlers.iter().zip(states.iter_mut()) {
                if state.is_finished() || state.is_sleeping(Timestamp::now()) {
                    continue;
                }
                let label = format!("Activity '{}'", handler.id);
                let now = Timestamp::now();
                let recorded = match execution::check_limits(&label, state, &handler.policy, now) {
                    Some(recorded) => recorded,
                    None => {
                        logger.debug(format!("{label} is invoked."));
                        let cause = ActivityCause {
                            activity,
                            logger: logger.clone(),
                            settings: self.settings.clone(),
                            shared: self.shared.clone(),
                            param: handler.param.clone(),
                            retry: state.retries,
                            started: state.started,
                        };
                        let outcome = handler.invoke(cause).await;
                        let backoff = self.settings.get().execution.default_backoff;
                        execution::record_outcome(
                            &label,
                            state,
                            &outcome,
                            &handler.policy,
                            backoff,
                            Timestamp::now(),
                        )
                    }
                };
                let Recorded {
                    state: new_state,
                    level,
                    message,
                    result,
                } = recorded;
                logger.log(level, &message);
                if new_state.failure {
                    failed.push((handler.id.clone(), message));
                } else if let (true, Some(result)) = (new_state.success, result) {
                    results.insert(handler.id.clone(), result);
                }
                *state = new_state;
            }
            let Some(wake) = states
                .iter()
                .filter(|s| !s.is_finished())
                .filter_map(|s| s.delayed)
                .min()
            else {
                if states.iter().all(HandlerState::is_finished) {
                    break;
                }
                continue;
            };
            let delay = Timestamp::now().duration_until(wake);
            tokio::time::sleep(Duration::try_from(delay).unwrap_or_default()).await;
        }
        if failed.is_empty() {
            Ok(results)
        } else {
            Err(ActivityError { activity, failed })
        }
    }
}
