//! Leader election and sharding on Leases (beyond kopf, which has neither).
//!
//! Leader election: only the holder of one Lease handles. A holder that cannot renew for
//! the renew deadline stops handling, and waits until the reactor has stopped, before the
//! lease can expire for the others (the deadline is shorter than the lease duration).
//!
//! Sharding: objects are split into N shards by their uid; each shard is a Lease; every
//! replica also renews a member Lease, so all know how many replicas are alive and hold a
//! fair share of the shards. A replica with too many stops handling a shard before it
//! releases its lease; one with too few takes free or expired shards.

use crate::clients::leases::{Holder, LeaseLock, list_labelled};
use crate::settings::LeaderElectionSettings;
use crate::structs::gate::{Gate, Shards, fnv1a};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use tokio::time::Instant;

const TARGET: &str = "kopf._core.engines.leadership";
/// The gate's blocker while this replica does not lead.
pub const NOT_LEADING: &str = "leader election: not the leader";
/// The label on member leases: the sharded operator's lease name.
const MEMBERS_LABEL: &str = "kopf.dev/shards";

/// The namespace of the leases: the setting, else `POD_NAMESPACE`, else the credentials'.
pub fn lease_namespace(client: &kube::Client, settings: &LeaderElectionSettings) -> String {
    settings
        .namespace
        .clone()
        .or_else(|| {
            std::env::var("POD_NAMESPACE")
                .ok()
                .filter(|ns| !ns.is_empty())
        })
        .unwrap_or_else(|| client.default_namespace().to_string())
}

/// Contends for the lease until `stop` is set; while held, the gate is open. Returns the
/// lease, to [`release`] once handling has stopped.
pub async fn lead(
    mut lock: LeaseLock,
    settings: LeaderElectionSettings,
    gate: Gate,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> LeaseLock {
    tokio::select! {
        () = contend(&mut lock, settings, gate) => {}
        _ = stop.wait_for(|stopped| *stopped) => {}
    }
    lock
}

async fn contend(lock: &mut LeaseLock, settings: LeaderElectionSettings, gate: Gate) {
    let what = format!("{}/{}", lock.namespace, lock.name);
    gate.set_blocker(NOT_LEADING, true);
    tracing::info!(target: TARGET, "Leader election: contending for the lease {what}.");
    let mut last_holder = None;
    loop {
        // Acquiring: until we hold the lease.
        loop {
            match attempt(lock, settings.retry_period).await {
                Ok(true) => break,
                Ok(false) => {
                    let holder = lock.holder();
                    if last_holder.as_ref() != Some(&holder) {
                        if let Holder::Other(other) = &holder {
                            tracing::info!(target: TARGET, "Leader election: the lease {what} is held by {other}; following.");
                        }
                        last_holder = Some(holder);
                    }
                }
                Err(err) => {
                    tracing::warn!(target: TARGET, "Leader election: cannot acquire the lease {what}: {err}")
                }
            }
            tokio::time::sleep(jittered(settings.retry_period)).await;
        }
        tracing::info!(target: TARGET, "Leader election: this operator leads now (the lease {what}).");
        last_holder = Some(Holder::Us);
        gate.set_blocker(NOT_LEADING, false);

        // Renewing: until the renew deadline passes without a successful renewal.
        let mut renewed = Instant::now();
        loop {
            tokio::time::sleep(settings.retry_period).await;
            let left = settings.renew_deadline.saturating_sub(renewed.elapsed());
            match attempt(lock, left).await {
                Ok(true) => renewed = Instant::now(),
                Ok(false) => break, // Somebody else holds it: we lost it.
                Err(err) => {
                    tracing::warn!(target: TARGET, "Leader election: cannot renew the lease {what}: {err}")
                }
            }
            if renewed.elapsed() >= settings.renew_deadline {
                break;
            }
        }
        tracing::warn!(target: TARGET, "Leader election: the lease {what} is lost or not renewed in time; stopping handling.");
        let generation = gate.set_blocker(NOT_LEADING, true);
        gate.applied(generation).await;
        tracing::info!(target: TARGET, "Leader election: handling has stopped; following.");
    }
}

/// One request, bounded: a hung request counts as a failure.
async fn attempt(lock: &mut LeaseLock, bound: Duration) -> Result<bool, String> {
    match tokio::time::timeout(
        bound.max(Duration::from_millis(100)),
        lock.try_acquire_or_renew(),
    )
    .await
    {
        Ok(result) => result.map_err(|err| err.to_string()),
        Err(_) => Err(format!("no answer within {bound:?}")),
    }
}

/// client-go's jitter: up to 20 % longer, so that candidates do not move in lockstep.
fn jittered(period: Duration) -> Duration {
    period.mul_f64(1.0 + rand::random_range(0.0..0.2))
}

/// Gives the lease up after handling has stopped (graceful shutdown): the next replica
/// takes over at once instead of after the lease duration.
pub async fn release(lock: &mut LeaseLock) {
    match lock.release().await {
        Ok(()) => {
            tracing::info!(target: TARGET, "Leader election: the lease {}/{} is released.", lock.namespace, lock.name)
        }
        Err(err) => {
            tracing::warn!(target: TARGET, "Leader election: cannot release the lease {}/{}: {err}", lock.namespace, lock.name)
        }
    }
}

/// The shards' leases and this replica's member lease.
pub struct Sharding {
    pub client: kube::Client,
    pub namespace: String,
    pub name: String,
    pub identity: String,
    pub total: u32,
    pub settings: LeaderElectionSettings,
    pub gate: Gate,
}

impl Sharding {
    fn shard_lock(&self, shard: u32) -> LeaseLock {
        let name = format!("{}-shard-{shard}", self.name);
        LeaseLock::new(
            &self.client,
            &self.namespace,
            &name,
            &self.identity,
            self.settings.lease_duration,
        )
    }

    /// Balances the shards for ever; returns the held leases when cancelled through `stop`.
    pub async fn run(self, stop: tokio::sync::watch::Receiver<bool>) -> Vec<LeaseLock> {
        let member_name = format!("{}-member-{:016x}", self.name, fnv1a(&self.identity));
        let mut member = LeaseLock::new(
            &self.client,
            &self.namespace,
            &member_name,
            &self.identity,
            self.settings.lease_duration,
        )
        .labelled(MEMBERS_LABEL, &self.name);
        let mut held: BTreeMap<u32, (LeaseLock, Instant)> = BTreeMap::new();
        let mut idle: BTreeMap<u32, LeaseLock> =
            (0..self.total).map(|i| (i, self.shard_lock(i))).collect();
        self.gate.set_shards(Some(Shards {
            total: self.total,
            held: BTreeSet::new(),
        }));
        // Announce ourselves and let the replicas starting with us do the same, so that the
        // first one up does not take every shard only to give most of them back.
        let _ = attempt(&mut member, self.settings.retry_period).await;
        tokio::time::sleep(self.settings.retry_period).await;
        while !*stop.borrow() {
            let _ = attempt(&mut member, self.settings.retry_period).await;
            let members = self.live_members().await.max(1);
            let fair = self.total.div_ceil(members) as usize;

            // Renew what is held; drop what could not be renewed in time.
            let mut lost = Vec::new();
            for (shard, (lock, renewed)) in held.iter_mut() {
                match attempt(lock, self.settings.retry_period).await {
                    Ok(true) => *renewed = Instant::now(),
                    Ok(false) => lost.push(*shard),
                    Err(_) if renewed.elapsed() >= self.settings.renew_deadline => {
                        lost.push(*shard)
                    }
                    Err(_) => {}
                }
            }
            // Give up the extras (the highest first), after handling them has stopped.
            let extras: Vec<u32> = held
                .keys()
                .rev()
                .take(held.len().saturating_sub(fair))
                .copied()
                .collect();
            if !lost.is_empty() || !extras.is_empty() {
                let keep: BTreeSet<u32> = held
                    .keys()
                    .filter(|s| !lost.contains(s) && !extras.contains(s))
                    .copied()
                    .collect();
                let generation = self.gate.set_shards(Some(Shards {
                    total: self.total,
                    held: keep,
                }));
                self.gate.applied(generation).await;
                for shard in lost.iter().chain(&extras) {
                    if let Some((mut lock, _)) = held.remove(shard) {
                        if extras.contains(shard) {
                            let _ = lock.release().await;
                        }
                        idle.insert(*shard, lock);
                    }
                }
            }
            // Watch the others' shards (to see when a holder stops renewing), and take free
            // ones up to the fair share.
            let mut gained = false;
            let candidates: Vec<u32> = idle.keys().copied().collect();
            for shard in candidates {
                let Some(lock) = idle.get_mut(&shard) else {
                    continue;
                };
                let _ = tokio::time::timeout(self.settings.retry_period, lock.refresh()).await;
                if held.len() >= fair || !lock.is_free() {
                    continue;
                }
                if let Some(lock) = idle.get_mut(&shard)
                    && let Ok(true) = attempt(lock, self.settings.retry_period).await
                    && let Some(lock) = idle.remove(&shard)
                {
                    held.insert(shard, (lock, Instant::now()));
                    gained = true;
                }
            }
            if gained || !lost.is_empty() || !extras.is_empty() {
                let shards: BTreeSet<u32> = held.keys().copied().collect();
                let list: Vec<String> = shards.iter().map(u32::to_string).collect();
                tracing::info!(target: TARGET, "Sharding: this replica handles shards [{}] of {} ({members} replicas).", list.join(", "), self.total);
                self.gate.set_shards(Some(Shards {
                    total: self.total,
                    held: shards,
                }));
            }
            let mut stop_changed = stop.clone();
            tokio::select! {
                _ = tokio::time::sleep(jittered(self.settings.retry_period)) => {}
                _ = stop_changed.changed() => {}
            }
        }
        let _ = member.release().await;
        held.into_values().map(|(lock, _)| lock).collect()
    }

    /// Replicas whose member lease has been renewed within the lease duration.
    async fn live_members(&self) -> u32 {
        let label = format!("{MEMBERS_LABEL}={}", self.name);
        let Ok(leases) = list_labelled(&self.client, &self.namespace, &label).await else {
            return 1;
        };
        let now = jiff::Timestamp::now();
        leases
            .iter()
            .filter_map(|lease| lease.spec.as_ref())
            .filter(|spec| {
                spec.holder_identity
                    .as_deref()
                    .is_some_and(|h| !h.is_empty())
            })
            .filter(|spec| {
                let duration = jiff::SignedDuration::from_secs(
                    spec.lease_duration_seconds.unwrap_or(15).into(),
                );
                spec.renew_time
                    .as_ref()
                    .is_some_and(|t| t.0.checked_add(duration).is_ok_and(|end| end > now))
            })
            .count() as u32
    }
}
