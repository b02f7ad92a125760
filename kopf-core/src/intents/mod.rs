//! Intents: what the operator's author declared — handler families, their filters, their
//! descriptors and runtime forms, the registry — and the causes handlers are called for.

pub mod causes;
pub mod crds;
pub mod descriptors;
pub mod families;
pub mod filters;
pub mod handlers;
pub mod registry;
pub mod stoppers;
pub mod webhooks;
