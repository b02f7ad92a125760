//! Settings for running more than one replica: kopf's `settings.peering`, and beyond kopf,
//! leader election and sharding on `coordination.k8s.io/v1` Leases.

use std::time::Duration;

/// kopf's `settings.peering`: operators see each other through a `KopfPeering` (or
/// `ClusterKopfPeering`) object; those of lower priority pause.
#[derive(Clone, Debug, PartialEq)]
pub struct PeeringSettings {
    /// The peering object's name (kopf: `default`).
    pub name: String,
    /// Higher wins; `--dev` is 666 (kopf: 0).
    pub priority: i64,
    /// Seconds a keep-alive stays valid (kopf: 60).
    pub lifetime: u64,
    /// `--peering NAME`: without the peering resource the operator pauses (kopf: false, i.e.
    /// peering is used when its resource exists).
    pub mandatory: bool,
    /// `--standalone`: no peering at all.
    pub standalone: bool,
    /// Cluster-wide operators use `ClusterKopfPeering`, namespaced ones `KopfPeering`.
    pub clusterwide: bool,
    /// Do not log the keep-alives (kopf: false).
    pub stealth: bool,
}

impl Default for PeeringSettings {
    fn default() -> Self {
        PeeringSettings {
            name: "default".into(),
            priority: 0,
            lifetime: 60,
            mandatory: false,
            standalone: false,
            clusterwide: false,
            stealth: false,
        }
    }
}

/// The priority of `--dev` operators (kopf's).
pub const DEV_PRIORITY: i64 = 666;

/// Leader election on a Lease, with client-go's timing: only the holder handles.
#[derive(Clone, Debug, PartialEq)]
pub struct LeaderElectionSettings {
    /// The Lease's name.
    pub name: String,
    /// The Lease's namespace; `None`: `POD_NAMESPACE`, else the credentials' namespace,
    /// else `default`.
    pub namespace: Option<String>,
    /// How long a lease is valid after its last renewal (client-go: 15 s).
    pub lease_duration: Duration,
    /// A holder that cannot renew for this long stops handling (client-go: 10 s); shorter
    /// than the lease duration, so it stops before anyone else may take over.
    pub renew_deadline: Duration,
    /// Between attempts to acquire or renew (client-go: 2 s).
    pub retry_period: Duration,
}

/// The Lease name of `--leader-election` without a name.
pub const DEFAULT_LEASE_NAME: &str = "kopf-leader";

impl LeaderElectionSettings {
    pub fn named(name: impl Into<String>) -> Self {
        LeaderElectionSettings {
            name: name.into(),
            namespace: None,
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }
}

/// Settings of the operator's replicas: peering, leader election, sharding.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReplicaSettings {
    /// `--leader-election[=NAME]`.
    pub leader_election: Option<LeaderElectionSettings>,
    /// `--shards N`: the objects are split into N shards by their uid, each held by one
    /// replica through a Lease named `{lease name}-shard-{i}`; the lease timing is
    /// `leader_election`'s (or client-go's defaults).
    pub shards: Option<u32>,
}
