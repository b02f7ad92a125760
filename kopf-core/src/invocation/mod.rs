//! Invocation: turning a cause into a handler call — arguments injected by type per
//! family, returns turned into outcomes, panics contained.

pub mod admission_args;
pub mod attempt_args;
pub mod callbacks;
pub mod event_args;
pub mod guard;
pub mod handler_fn;
pub mod kwargs;
pub mod outcome;
pub mod subhandlers;
