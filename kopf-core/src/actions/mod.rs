//! Actions: what happens to a cause's handlers — executed with kopf's retry rules, in a
//! lifecycle's order, their progress kept, their results applied to the object.

pub mod application;
pub mod changing;
pub mod cycle;
pub mod execution;
pub mod lifecycles;
pub mod progression;
pub mod subhandlers;
