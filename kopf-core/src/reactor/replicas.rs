//! The engines that decide whether this replica handles, started with the operator and
//! stopped after its reactor: kopf's peering, leader election and sharding.

use crate::clients::health::WatchHealth;
use crate::clients::leases::{Holder, LeaseLock};
use crate::clients::peering::detect_own_id;
use crate::engines::leadership::{self, NOT_LEADING, Sharding, lease_namespace};
use crate::engines::peering::{self, Peering};
use crate::settings::{DEFAULT_LEASE_NAME, LeaderElectionSettings, Settings};
use crate::structs::gate::{Gate, Shards};
use crate::structs::namespaces::NamespacePatterns;
use tokio::sync::watch;
use tokio::task::JoinHandle;

const TARGET: &str = "kopf._core.reactor.running";

pub(crate) struct Replicas {
    client: kube::Client,
    identity: String,
    gate: Gate,
    settings: Settings,
    /// `None`: cluster-wide; else the exact namespaces served.
    namespaces: Option<Vec<String>>,
    stop: watch::Sender<bool>,
    peering: Option<JoinHandle<Option<Peering>>>,
    leader: Option<JoinHandle<LeaseLock>>,
    sharding: Option<JoinHandle<Vec<LeaseLock>>>,
}

impl Replicas {
    /// Closes the gate where it must start closed (not leading yet, no shards yet) and
    /// starts contending; peering starts with [`Replicas::with_peering`].
    pub(crate) fn start(
        client: &kube::Client,
        settings: &Settings,
        cluster_wide: bool,
        namespaces: &NamespacePatterns,
        gate: &Gate,
    ) -> Self {
        let identity = detect_own_id(false);
        let namespaces = match (cluster_wide, namespaces.exact_names()) {
            (false, Some(names)) => Some(names),
            (false, None) => {
                if !settings.peering.standalone {
                    tracing::warn!(target: TARGET, "Namespace patterns (globs, exclusions) have no peering objects of their own: peering cluster-wide.");
                }
                None
            }
            (true, _) => None,
        };
        let (stop, stopped) = watch::channel(false);
        let mut replicas = Replicas {
            client: client.clone(),
            identity: identity.clone(),
            gate: gate.clone(),
            settings: settings.clone(),
            namespaces,
            stop,
            peering: None,
            leader: None,
            sharding: None,
        };
        let election = settings.replicas.leader_election.clone();
        if let Some(election) = election.clone() {
            let namespace = lease_namespace(client, &election);
            let lock = LeaseLock::new(
                client,
                &namespace,
                &election.name,
                &identity,
                election.lease_duration,
            );
            gate.set_blocker(NOT_LEADING, true);
            let task = leadership::lead(lock, election, gate.clone(), stopped.clone());
            replicas.leader = Some(tokio::spawn(crate::logging::in_current_dispatch(task)));
        }
        if let Some(total) = settings.replicas.shards {
            let timing =
                election.unwrap_or_else(|| LeaderElectionSettings::named(DEFAULT_LEASE_NAME));
            let sharding = Sharding {
                client: client.clone(),
                namespace: lease_namespace(client, &timing),
                name: format!("{}-shards", timing.name),
                identity: identity.clone(),
                total: total.max(1),
                settings: timing,
                gate: gate.clone(),
            };
            gate.set_shards(Some(Shards {
                total: total.max(1),
                held: Default::default(),
            }));
            let task = sharding.run(stopped);
            replicas.sharding = Some(tokio::spawn(crate::logging::in_current_dispatch(task)));
        }
        replicas
    }

    /// Starts kopf's peering (unless standalone), its streams watched for liveness.
    pub(crate) fn with_peering(mut self, health: &WatchHealth) -> Self {
        let mut settings = self.settings.peering.clone();
        settings.clusterwide = self.namespaces.is_none();
        let (client, gate, health) = (self.client.clone(), self.gate.clone(), health.clone());
        let (namespaces, identity) = (self.namespaces.clone(), self.identity.clone());
        let task = async move {
            peering::start(&client, &settings, namespaces, &identity, &gate, &health).await
        };
        self.peering = Some(tokio::spawn(crate::logging::in_current_dispatch(task)));
        self
    }

    /// After the reactor has stopped: removes our keep-alives and gives up the leases, so
    /// that other replicas take over at once.
    pub(crate) async fn stop(self) {
        // The reactor has stopped: nothing is handled, whatever an engine waits for.
        self.gate.acknowledge(u64::MAX);
        let _ = self.stop.send(true);
        if let Some(peering) = self.peering {
            if peering.is_finished() {
                if let Ok(Some(peering)) = peering.await {
                    peering.stop().await;
                }
            } else {
                peering.abort();
            }
        }
        if let Some(leader) = self.leader
            && let Ok(mut lock) = leader.await
            && lock.holder() == Holder::Us
        {
            leadership::release(&mut lock).await;
        }
        if let Some(sharding) = self.sharding
            && let Ok(locks) = sharding.await
        {
            for mut lock in locks {
                let _ = lock.release().await;
            }
        }
    }
}
