//! Engines: one file per handler family beyond the changing handlers, each called by the
//! reactor's processing with the object it is serving.
//!
//! Here today: `watching` (`on.event`) and `spawning` (daemons and timers, with their
//! loops in `runners`). Where the rest go, as their families land: `indexing`,
//! `activities` (startup, cleanup, login, probes), `admission` (webhooks), `peering` and
//! `leadership` (which gate the reactor).

pub mod runners;
pub mod spawning;
pub mod watching;
