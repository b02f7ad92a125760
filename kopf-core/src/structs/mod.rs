//! Plain data the rest of kopf passes around: bodies, diffs, patches, essences,
//! finalizer operations, resources, memos. Nothing here talks to the cluster.

pub mod body;
pub mod credentials;
pub mod diff;
pub mod essence;
pub mod finalizers;
pub mod indices;
pub mod memo;
pub mod namespaces;
pub mod patch;
pub mod repr;
pub mod resource;
pub mod shared;
