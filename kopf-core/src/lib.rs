//! The runtime of kopf for Rust.
//!
//! Behaviour lives here; `kopf-macros` only parses attributes and registers
//! functions, and the `kopf` facade re-exports what users need.

pub mod body;
pub mod causes;
pub mod client;
pub mod diff;
pub mod errors;
pub mod essence;
pub mod execution;
pub mod handler;
pub mod logging;
pub mod namespaces;
pub mod patch;
pub mod progress;
pub mod reactor;
pub mod registry;
pub mod repr;
pub mod resource;
pub mod settings;

pub use body::Body;
pub use patch::Patch;
