//! Engines: one file per handler family beyond the changing handlers, each called by the
//! reactor's processing with the object it is serving.
//!
//! Here today: `watching` (`on.event`), `spawning` (daemons and timers, with their loops
//! in `runners`), `indexing` (`index`) and `posting` (events, in the background). Where
//! the rest go, as their families land: `activities` (startup, cleanup, login, probes),
//! `admission` (webhooks), `peering` and `leadership` (which gate the reactor).

pub mod indexing;
pub mod posting;
pub mod runners;
pub mod spawning;
pub mod stopping;
pub mod watching;
