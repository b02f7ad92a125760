//! A `coordination.k8s.io/v1` Lease as a lock, with client-go's leader-election rules: a
//! lease is taken when it is free (no holder) or its holder has not renewed it for the
//! lease duration as observed locally (clocks of different machines are never compared);
//! every write carries the read resourceVersion, so two candidates never both win.

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Api;
use kube::api::{ListParams, PostParams};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;

/// One lease, as one candidate sees it.
pub struct LeaseLock {
    api: Api<Lease>,
    pub name: String,
    pub namespace: String,
    identity: String,
    duration: Duration,
    labels: BTreeMap<String, String>,
    /// The last record read and when it was first seen as it is.
    observed: Option<(LeaseSpec, Instant)>,
}

/// Who holds a lease, as last read.
#[derive(Clone, Debug, PartialEq)]
pub enum Holder {
    Us,
    Other(String),
    Nobody,
}

impl LeaseLock {
    pub fn new(
        client: &kube::Client,
        namespace: &str,
        name: &str,
        identity: &str,
        duration: Duration,
    ) -> Self {
        LeaseLock {
            api: Api::namespaced(client.clone(), namespace),
            name: name.to_string(),
            namespace: namespace.to_string(),
            identity: identity.to_string(),
            duration,
            labels: BTreeMap::new(),
            observed: None,
        }
    }

    /// Labels put on the lease when this candidate creates it (to list a group of leases).
    pub fn labelled(mut self, key: &str, value: &str) -> Self {
        self.labels.insert(key.to_string(), value.to_string());
        self
    }

    /// client-go's `tryAcquireOrRenew`: `Ok(true)` if we hold the lease now.
    pub async fn try_acquire_or_renew(&mut self) -> Result<bool, kube::Error> {
        let now = MicroTime(Timestamp::now());
        let Some(mut lease) = self.api.get_opt(&self.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    labels: (!self.labels.is_empty()).then(|| self.labels.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(self.spec_held(now.clone(), now, 0)),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(created) => {
                    self.observe(created.spec.unwrap_or_default());
                    Ok(true)
                }
                Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
                Err(err) => Err(err),
            };
        };
        let spec = lease.spec.clone().unwrap_or_default();
        self.observe(spec.clone());
        let holder = holder_of(&spec, &self.identity);
        if let Holder::Other(_) = holder
            && !self.expired()
        {
            return Ok(false);
        }
        let (acquired, transitions) = match holder {
            Holder::Us => (
                spec.acquire_time.clone().unwrap_or(now.clone()),
                spec.lease_transitions.unwrap_or(0),
            ),
            _ => (now.clone(), spec.lease_transitions.unwrap_or(0) + 1),
        };
        lease.spec = Some(self.spec_held(acquired, now, transitions));
        match self
            .api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            Ok(replaced) => {
                self.observe(replaced.spec.unwrap_or_default());
                Ok(true)
            }
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Reads the lease without writing, to notice when its holder stops renewing it.
    pub async fn refresh(&mut self) -> Result<(), kube::Error> {
        match self.api.get_opt(&self.name).await? {
            Some(lease) => self.observe(lease.spec.unwrap_or_default()),
            None => self.observed = None,
        }
        Ok(())
    }

    /// Gives the lease up (client-go's release on cancel): no holder, so that the next
    /// candidate takes it at once. Only if we still hold it.
    pub async fn release(&mut self) -> Result<(), kube::Error> {
        let Some(mut lease) = self.api.get_opt(&self.name).await? else {
            return Ok(());
        };
        let spec = lease.spec.clone().unwrap_or_default();
        if holder_of(&spec, &self.identity) != Holder::Us {
            return Ok(());
        }
        let now = MicroTime(Timestamp::now());
        lease.spec = Some(LeaseSpec {
            holder_identity: None,
            lease_duration_seconds: Some(1),
            acquire_time: Some(now.clone()),
            renew_time: Some(now),
            ..spec
        });
        let released = self
            .api
            .replace(&self.name, &PostParams::default(), &lease)
            .await?;
        self.observe(released.spec.unwrap_or_default());
        Ok(())
    }

    /// Who held the lease when it was last read.
    pub fn holder(&self) -> Holder {
        match &self.observed {
            Some((spec, _)) => holder_of(spec, &self.identity),
            None => Holder::Nobody,
        }
    }

    /// Whether the lease, as last read, is ours to take: no holder, still our own (a lease
    /// we gave up after failed renewals, which nobody else could take meanwhile), or its
    /// holder has not renewed within the lease duration since we saw its last renewal.
    pub fn is_free(&self) -> bool {
        match self.holder() {
            Holder::Nobody | Holder::Us => true,
            Holder::Other(_) => self.expired(),
        }
    }

    fn expired(&self) -> bool {
        match &self.observed {
            Some((spec, since)) => {
                let duration = spec
                    .lease_duration_seconds
                    .map(|s| Duration::from_secs(s.max(0) as u64))
                    .unwrap_or(self.duration);
                since.elapsed() >= duration
            }
            None => true,
        }
    }

    fn observe(&mut self, spec: LeaseSpec) {
        match &self.observed {
            Some((seen, _)) if *seen == spec => {}
            _ => self.observed = Some((spec, Instant::now())),
        }
    }

    fn spec_held(&self, acquired: MicroTime, renewed: MicroTime, transitions: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(self.identity.clone()),
            lease_duration_seconds: Some(self.duration.as_secs() as i32),
            acquire_time: Some(acquired),
            renew_time: Some(renewed),
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        }
    }
}

fn holder_of(spec: &LeaseSpec, identity: &str) -> Holder {
    match spec.holder_identity.as_deref() {
        None | Some("") => Holder::Nobody,
        Some(holder) if holder == identity => Holder::Us,
        Some(holder) => Holder::Other(holder.to_string()),
    }
}

/// The leases with this label, e.g. the members of a sharded operator, with their specs.
pub async fn list_labelled(
    client: &kube::Client,
    namespace: &str,
    label: &str,
) -> Result<Vec<Lease>, kube::Error> {
    let api: Api<Lease> = Api::namespaced(client.clone(), namespace);
    Ok(api.list(&ListParams::default().labels(label)).await?.items)
}
