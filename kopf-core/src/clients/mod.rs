//! Talking to the cluster: the HTTP/2 client, discovery, watch-streams and patches.

pub mod client;
pub mod discovery;
pub mod health;
pub mod patching;
pub mod vault;
pub mod watching;
