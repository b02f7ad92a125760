//! Obeying the gate: when peering or leader election pauses the operator, every served
//! resource stops (its watch-streams closed, its workers finished within the exit timeout,
//! its daemons and timers stopped); when the gate opens, the resources are served afresh,
//! and the new listing resumes what was left (the state lives on the objects). A change of
//! the shards held restarts serving the same way, with the new shards.

use crate::reactor::orchestration::Reactor;
use crate::structs::gate::GateState;

const TARGET: &str = "kopf._cogs.clients.watching";

impl Reactor {
    /// Applies the gate's state, then acknowledges it: once acknowledged, nothing of what
    /// the state excludes is being handled any more.
    pub(super) async fn apply_gate(&mut self, state: GateState) {
        let reshard = state.shards != self.applied.shards;
        let pausing = state.is_paused() && !self.applied.is_paused();
        let resuming = !state.is_paused() && (self.applied.is_paused() || reshard);
        if pausing || (reshard && !self.served.is_empty()) {
            let why = if state.is_paused() {
                blockers(&state)
            } else {
                " (the shards held have changed)".to_string()
            };
            self.stop_serving(&why).await;
        }
        let generation = state.generation;
        self.applied = state;
        if resuming {
            let how = describe_shards(&self.applied);
            tracing::debug!(target: TARGET, "Resuming the watch-streams{how}.");
            let _ = self.rescan(false).await; // Failures are retried.
        }
        self.shared.gate.acknowledge(generation);
    }

    /// Stops every served resource and waits until its workers and daemons are done.
    async fn stop_serving(&mut self, why: &str) {
        let exit_timeout = self.settings.queueing.exit_timeout;
        let mut stopping = Vec::new();
        for (resource, served) in self.served.drain() {
            tracing::debug!(target: TARGET, "Pausing the watch-stream for {resource}{why}.");
            for stream in &served.streams {
                stream.abort();
            }
            if served.listings_left > 0 {
                // The indices must not wait for a listing that will not come.
                self.shared.indices.listing_done();
            }
            stopping.push(served.dispatcher.shutdown(exit_timeout));
        }
        futures::future::join_all(stopping).await;
    }
}

fn blockers(state: &GateState) -> String {
    let names: Vec<&str> = state.blockers.iter().map(String::as_str).collect();
    format!(" (blockers: {})", names.join(", "))
}

fn describe_shards(state: &GateState) -> String {
    match &state.shards {
        None => String::new(),
        Some(shards) => {
            let held: Vec<String> = shards.held.iter().map(u32::to_string).collect();
            format!(" for shards [{}] of {}", held.join(", "), shards.total)
        }
    }
}

pub(super) async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
