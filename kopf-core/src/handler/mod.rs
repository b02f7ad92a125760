//! Handlers as the runtime sees them: the context they are called with, the
//! arguments injected by type, their outcomes and their static descriptors.

pub mod cause;

pub use cause::Cause;

/// Per-object memory shared by that object's handlers (placeholder until the args module lands).
pub type Memo = std::sync::Arc<std::sync::Mutex<serde_json::Map<String, serde_json::Value>>>;
