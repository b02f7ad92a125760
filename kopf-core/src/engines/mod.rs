//! Engines: one file per handler family beyond the changing handlers, each called by the
//! reactor's processing with the object it is serving.
//!
//! Here today: `watching` (`on.event`), `spawning` (daemons and timers, with their loops
//! in `runners` and their stopping in `stopping`), `indexing` (`index`), `posting`
//! (events, in the background), `activities` (startup, cleanup, login, probes) with
//! `authenticating` (login and re-login) and `probing` (the liveness endpoint);
//! `admission` (serving one admission review) with `webhooks` (the HTTPS server),
//! `webhook_tls` (its certificate) and `webhook_configs` (the managed configurations);
//! `peering` and `leadership` (which gate the reactor through the shared gate).

pub mod activities;
pub mod admission;
pub mod authenticating;
pub mod indexing;
pub mod leadership;
pub mod peering;
pub mod posting;
pub mod probing;
pub mod runners;
pub mod spawning;
pub mod stopping;
pub mod watching;
pub mod webhook_configs;
pub mod webhook_tls;
pub mod webhooks;
