//! The runtime of kopf for Rust, in kopf's own layers (lower ones never use higher ones):
//!
//! - foundations: [`errors`], [`settings`], [`logging`], [`structs`] (bodies, diffs,
//!   patches, essences, finalizers, resources, memos), [`storage`] (progress records,
//!   diff-base, touch-dummy on the objects), [`clients`] (the HTTP/2 client, discovery,
//!   watch-streams, patches);
//! - [`intents`]: handler families, filters, descriptors, the registry, causes;
//! - [`invocation`]: arguments injected by type per family, outcomes, the panic guard;
//! - [`actions`]: execution with kopf's retry rules, lifecycles, progression, application,
//!   running a changing cause;
//! - [`engines`]: one file per further handler family (watching today);
//! - [`reactor`]: running, orchestration, observation, queueing, processing.
//!
//! `kopf-macros` only parses attributes and registers functions; the `kopf` facade
//! re-exports what users need.

pub mod actions;
pub mod clients;
pub mod engines;
pub mod errors;
pub mod intents;
pub mod invocation;
pub mod logging;
pub mod reactor;
pub mod settings;
pub mod storage;
pub mod structs;
