//! kopf's peering: operators announce themselves in a `KopfPeering` (namespaced operators,
//! one per namespace) or `ClusterKopfPeering` object, and pause while a live peer has a
//! higher priority, or the same one (kopf pauses everyone then, and warns). Wire-compatible
//! with Python kopf: both see and pause each other.

use crate::clients::discovery;
use crate::clients::health::WatchHealth;
use crate::clients::peering::{PeeringObject, clean, find_resource, touch};
use crate::clients::watching::{StreamMessage, WatchStream};
use crate::settings::PeeringSettings;
use crate::structs::gate::Gate;
use crate::structs::peers::{Verdict, list_repr};
use jiff::Timestamp;
use kube::Client;
use serde_json::Value;
use std::time::Duration;
use tokio::task::JoinSet;

const TARGET: &str = "kopf._core.engines.peering";

/// The running peering: keep-alives and observers, one pair per peering object.
pub struct Peering {
    tasks: JoinSet<()>,
    client: Client,
    objects: Vec<PeeringObject>,
    identity: String,
    settings: PeeringSettings,
}

/// Starts peering unless standalone: finds the peering resource (waiting for it, paused,
/// when peering is mandatory), then keeps our keep-alive and watches the peers. `None`:
/// no peering (standalone, or no peering resource and not mandatory).
pub async fn start(
    client: &Client,
    settings: &PeeringSettings,
    namespaces: Option<Vec<String>>,
    identity: &str,
    gate: &Gate,
    health: &WatchHealth,
) -> Option<Peering> {
    if settings.standalone {
        return None;
    }
    let clusterwide = settings.clusterwide || namespaces.is_none();
    const MISSING: &str = "peering CRD is missing";
    let resource = loop {
        let resources = discovery::scan(client).await.unwrap_or_default();
        if let Some(resource) = find_resource(&resources, clusterwide) {
            break resource.clone();
        }
        if !settings.mandatory {
            tracing::debug!(target: TARGET, "No peering resource in the cluster: running standalone.");
            return None;
        }
        if !gate.state().blockers.contains(MISSING) {
            let kind = if clusterwide {
                "clusterkopfpeerings"
            } else {
                "kopfpeerings"
            };
            tracing::warn!(
                target: TARGET,
                "Peering {:?} is required, but {kind}.kopf.dev is not in the cluster: the operator is paused until its CRD is created (kopf's peering.yaml).",
                settings.name
            );
            gate.set_blocker(MISSING, true);
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
    };
    gate.set_blocker(MISSING, false);

    let identity = identity.to_string();
    let scopes: Vec<Option<String>> = match (&namespaces, clusterwide) {
        (Some(names), false) => names.iter().cloned().map(Some).collect(),
        _ => vec![None],
    };
    let mut peering = Peering {
        tasks: JoinSet::new(),
        client: client.clone(),
        objects: Vec::new(),
        identity: identity.clone(),
        settings: settings.clone(),
    };
    for namespace in scopes {
        let object = PeeringObject {
            resource: resource.clone(),
            namespace,
            name: settings.name.clone(),
        };
        let blocker = format!(
            "{}@{}",
            settings.name,
            object.namespace.as_deref().unwrap_or("None")
        );
        if settings.mandatory {
            gate.set_blocker(&blocker, true); // Until the peers are seen.
        }
        let observer = Observer {
            client: client.clone(),
            object: object.clone(),
            identity: identity.clone(),
            settings: settings.clone(),
            gate: gate.clone(),
            blocker,
        };
        let stream = WatchStream {
            client: client.clone(),
            resource: resource.clone(),
            namespace: object.namespace.clone(),
            inactivity_timeout: Duration::from_secs(70),
            server_timeout: None,
            pulse: health.register(
                format!("the peering stream {}", object.whereabouts()),
                Duration::from_secs(70),
            ),
        };
        peering
            .tasks
            .spawn(crate::logging::in_current_dispatch(observer.run(stream)));
        peering
            .tasks
            .spawn(crate::logging::in_current_dispatch(keepalive(
                client.clone(),
                object.clone(),
                identity.clone(),
                settings.clone(),
            )));
        peering.objects.push(object);
    }
    Some(peering)
}

impl Peering {
    /// Stops observing and removes our keep-alives (kopf's exit), so that paused peers
    /// resume at once instead of after our lifetime.
    pub async fn stop(mut self) {
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
        for object in &self.objects {
            let removed = touch(
                &self.client,
                object,
                &self.identity,
                self.settings.priority,
                0,
                self.settings.stealth,
            );
            if let Err(err) = removed.await {
                tracing::warn!(target: TARGET, "Couldn't remove self from the peering. Ignoring. {err}");
            }
        }
    }
}

/// Writes our keep-alive a little more often than its lifetime, with jitter.
async fn keepalive(
    client: Client,
    object: PeeringObject,
    identity: String,
    settings: PeeringSettings,
) {
    let lifetime = settings.lifetime.max(1) as i64;
    loop {
        if let Err(err) = touch(
            &client,
            &object,
            &identity,
            settings.priority,
            lifetime,
            settings.stealth,
        )
        .await
        {
            tracing::warn!(target: TARGET, "Keep-alive in '{}' {} failed: {err}", object.name, object.whereabouts());
        }
        let jitter = rand::random_range(5..=10);
        let duration = lifetime.min((lifetime - jitter).max(1)).max(1);
        tokio::time::sleep(Duration::from_secs(duration as u64)).await;
    }
}

/// Watches one peering object and turns its blocker on and off.
struct Observer {
    client: Client,
    object: PeeringObject,
    identity: String,
    settings: PeeringSettings,
    gate: Gate,
    blocker: String,
}

impl Observer {
    async fn run(self, stream: WatchStream) {
        let (sink, mut source) = tokio::sync::mpsc::unbounded_channel();
        let mut watching = std::pin::pin!(stream.run(sink));
        let mut status = Value::Null;
        let mut next_check: Option<Timestamp> = None;
        let mut known = None; // Our last verdict, to log each change once.
        loop {
            let sleep = next_check
                .map(|at| at.duration_since(Timestamp::now()).unsigned_abs())
                .unwrap_or(Duration::from_secs(3600));
            tokio::select! {
                result = &mut watching => {
                    if let Err(err) = result {
                        tracing::warn!(target: TARGET, "Peering stream {} has stopped: {err}", self.object.whereabouts());
                    }
                    return;
                }
                message = source.recv() => match message {
                    Some(StreamMessage::Event(event)) if event.name() == Some(self.object.name.as_str()) => {
                        status = event.object(&self.object.resource)["status"].take();
                        next_check = self.evaluate(&status, &mut known).await;
                    }
                    Some(_) => {}
                    None => return,
                },
                _ = tokio::time::sleep(sleep), if next_check.is_some() => {
                    next_check = self.evaluate(&status, &mut known).await;
                }
            }
        }
    }

    /// kopf's `process_peering_event`: cleans the dead, pauses or resumes, and says when
    /// to look again if nothing changes (when a blocking peer would expire).
    async fn evaluate(&self, status: &Value, known: &mut Option<bool>) -> Option<Timestamp> {
        let verdict = Verdict::of(
            status,
            &self.identity,
            self.settings.priority,
            Timestamp::now(),
        );
        if !verdict.dead.is_empty() {
            let dead = verdict.dead.iter().map(|p| p.identity.clone());
            if let Err(err) = clean(&self.client, &self.object, dead).await {
                tracing::warn!(target: TARGET, "Cleaning the dead peers failed: {err}");
            }
        }
        // Paused before the first look (mandatory peering) still says in whose favour.
        let paused = self.gate.state().blockers.contains(&self.blocker) && known.is_some();
        *known = Some(verdict.pauses());
        if !verdict.higher.is_empty() {
            if !paused {
                tracing::info!(target: TARGET, "Pausing operations in favour of {}.", list_repr(&verdict.higher));
                self.gate.set_blocker(&self.blocker, true);
            }
        } else if !verdict.same.is_empty() {
            tracing::warn!(target: TARGET, "Possibly conflicting operators with the same priority: {}.", list_repr(&verdict.same));
            if !paused {
                tracing::warn!(target: TARGET, "Pausing all operators, including self: {}", list_repr(&verdict.peers));
                self.gate.set_blocker(&self.blocker, true);
            }
        } else if paused || self.gate.state().blockers.contains(&self.blocker) {
            tracing::info!(target: TARGET, "Resuming operations after the pause. Conflicting operators with the same priority are gone.");
            self.gate.set_blocker(&self.blocker, false);
        }
        verdict.next_check()
    }
}

/// `kopf freeze` and `kopf resume`: write (or remove, with a lifetime of 0) a keep-alive of
/// this priority in the peering objects of these namespaces (`None`: cluster-wide).
pub async fn touch_command(
    client: &Client,
    name: &str,
    namespaces: Option<Vec<String>>,
    identity: &str,
    priority: i64,
    lifetime: i64,
) -> Result<(), PeeringCommandError> {
    let resources = discovery::scan(client).await?;
    let clusterwide = namespaces.is_none();
    let resource = find_resource(&resources, clusterwide)
        .ok_or(PeeringCommandError::NoResource { clusterwide })?;
    let scopes: Vec<Option<String>> = match namespaces {
        Some(names) => names.into_iter().map(Some).collect(),
        None => vec![None],
    };
    for namespace in scopes {
        let object = PeeringObject {
            resource: resource.clone(),
            namespace,
            name: name.to_string(),
        };
        if !touch(client, &object, identity, priority, lifetime, false).await? {
            return Err(PeeringCommandError::NoObject {
                name: name.to_string(),
                whereabouts: object.whereabouts(),
            });
        }
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum PeeringCommandError {
    #[error("cannot talk to the cluster: {0}")]
    Api(#[from] kube::Error),
    #[error(
        "the peering resource ({}.kopf.dev) is not in the cluster; apply kopf's peering.yaml first",
        if *clusterwide { "clusterkopfpeerings" } else { "kopfpeerings" }
    )]
    NoResource { clusterwide: bool },
    #[error("the peering object {name:?} {whereabouts} does not exist; create it first")]
    NoObject { name: String, whereabouts: String },
}
