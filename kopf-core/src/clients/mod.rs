//! Talking to the cluster: the HTTP/2 client, discovery, watch-streams, patches and events.

pub mod client;
pub mod discovery;
pub mod events;
pub mod health;
pub mod leases;
pub mod patching;
pub mod peering;
pub mod raw_event;
pub mod vault;
pub mod watching;
