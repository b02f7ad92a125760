//! The reactor: running the operator, serving resources, queueing events per object,
//! and processing each event.

pub mod admitting;
pub mod context;
pub mod errors;
mod gating;
pub mod observation;
pub mod orchestration;
pub mod processing;
pub mod queueing;
mod replicas;
pub mod running;

pub use errors::OperatorError;
#[cfg(feature = "cli")]
pub use running::run_main;
pub use running::{Operator, operator};
