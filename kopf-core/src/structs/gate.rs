//! The operator's gate: whether it handles at all (kopf's `operator_paused` toggles, set by
//! peering and leader election) and which shards of the objects it handles (sharding).
//!
//! Engines change the gate; the reactor applies each change (stops or starts serving) and
//! then acknowledges its generation, so that an engine can wait until handling has really
//! stopped before it lets another replica take over.

use std::collections::BTreeSet;
use std::sync::Arc;
use tokio::sync::watch;

/// The shards this replica handles, of how many.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shards {
    pub total: u32,
    pub held: BTreeSet<u32>,
}

impl Shards {
    /// Whether the object with this uid belongs to a held shard.
    pub fn holds(&self, uid: &str) -> bool {
        self.held.contains(&shard_of(uid, self.total))
    }
}

/// The shard of an object: FNV-1a of its uid, modulo the number of shards. Stable across
/// processes, versions and platforms, so that every replica agrees on it.
pub fn shard_of(uid: &str, total: u32) -> u32 {
    (fnv1a(uid) % u64::from(total.max(1))) as u32
}

/// FNV-1a, 64 bits: a hash that every process and platform computes alike.
pub fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// What the gate says now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GateState {
    /// Why the operator is paused (kopf's toggle names); empty: it handles.
    pub blockers: BTreeSet<String>,
    /// With sharding: the shards handled; `None`: all objects.
    pub shards: Option<Shards>,
    /// Bumped by every change, acknowledged by the reactor once applied.
    pub generation: u64,
}

impl GateState {
    pub fn is_paused(&self) -> bool {
        !self.blockers.is_empty()
    }
}

/// Shared by the engines that set it and the reactor that obeys it. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Gate {
    state: Arc<watch::Sender<GateState>>,
    applied: Arc<watch::Sender<u64>>,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            state: Arc::new(watch::Sender::new(GateState::default())),
            applied: Arc::new(watch::Sender::new(0)),
        }
    }
}

impl Gate {
    /// Turns the named blocker on or off; the generation of the resulting state.
    pub fn set_blocker(&self, name: &str, on: bool) -> u64 {
        self.modify(|state| {
            if on {
                state.blockers.insert(name.to_string())
            } else {
                state.blockers.remove(name)
            }
        })
    }

    /// Sets the shards handled; the generation of the resulting state.
    pub fn set_shards(&self, shards: Option<Shards>) -> u64 {
        self.modify(|state| {
            let changed = state.shards != shards;
            state.shards = shards;
            changed
        })
    }

    fn modify(&self, change: impl FnOnce(&mut GateState) -> bool) -> u64 {
        let mut generation = 0;
        self.state.send_if_modified(|state| {
            let changed = change(state);
            if changed {
                state.generation += 1;
            }
            generation = state.generation;
            changed
        });
        generation
    }

    pub fn state(&self) -> GateState {
        self.state.borrow().clone()
    }

    pub fn is_paused(&self) -> bool {
        self.state.borrow().is_paused()
    }

    pub fn subscribe(&self) -> watch::Receiver<GateState> {
        self.state.subscribe()
    }

    /// The reactor has applied the state of this generation (stopped or started serving).
    pub fn acknowledge(&self, generation: u64) {
        self.applied.send_if_modified(|applied| {
            let newer = generation > *applied;
            if newer {
                *applied = generation;
            }
            newer
        });
    }

    /// Waits until the reactor has applied this generation or a later one.
    pub async fn applied(&self, generation: u64) {
        let mut applied = self.applied.subscribe();
        let _ = applied.wait_for(|applied| *applied >= generation).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_stable_and_spread() {
        assert_eq!(shard_of("0b5d3c1e-1", 3), shard_of("0b5d3c1e-1", 3));
        let mut counts = [0u32; 3];
        for i in 0..3000 {
            counts[shard_of(&format!("uid-{i}"), 3) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| c > 800), "{counts:?}");
    }

    #[tokio::test]
    async fn blockers_pause_and_generations_are_acknowledged() {
        let gate = Gate::default();
        assert!(!gate.is_paused());
        let generation = gate.set_blocker("peering", true);
        assert!(gate.is_paused());
        assert_eq!(gate.set_blocker("peering", true), generation);
        gate.acknowledge(generation);
        gate.applied(generation).await;
        gate.set_blocker("peering", false);
        assert!(!gate.is_paused());
    }
}
