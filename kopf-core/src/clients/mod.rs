//! Talking to the cluster: the HTTP/2 client, discovery, watch-streams and patches.

pub mod client;
pub mod discovery;
pub mod patching;
pub mod watching;
