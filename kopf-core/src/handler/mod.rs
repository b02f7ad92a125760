//! Handlers as the runtime sees them: the context they are called with, the
//! arguments injected by type, their outcomes and their static descriptors.

pub mod cause;
pub mod outcome;

pub use cause::Cause;
pub use outcome::{ErrorsMode, Outcome, RetryPolicy};

/// Per-object memory shared by that object's handlers (placeholder until the args module lands).
pub type Memo = std::sync::Arc<std::sync::Mutex<serde_json::Map<String, serde_json::Value>>>;
