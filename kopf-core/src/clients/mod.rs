//! Talking to the cluster: the HTTP/2 client, discovery, watch-streams, patches and events.

pub mod client;
pub mod discovery;
pub mod events;
pub mod patching;
pub mod watching;
