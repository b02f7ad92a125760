//! Engines: one file per handler family beyond the changing handlers, each called by the
//! reactor's processing with the object it is serving.
//!
//! Here today: `watching` (`on.event`). Where the rest go, as their families land:
//! `spawning` (daemons and timers), `indexing`, `activities` (startup, cleanup, login,
//! probes), `admission` (webhooks), `peering` and `leadership` (which gate the reactor).

pub mod watching;
