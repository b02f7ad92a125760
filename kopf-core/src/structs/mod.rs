//! Plain data the rest of kopf passes around: bodies, diffs, patches, essences,
//! finalizer operations, resources, memos, references to objects, and the hierarchies of
//! owners and children. Nothing here talks to the cluster.

pub mod body;
pub mod children;
pub mod credentials;
pub mod diff;
pub mod essence;
pub mod finalizers;
pub mod gate;
pub mod hierarchies;
pub mod indices;
pub mod memo;
pub mod namespaces;
pub mod patch;
pub mod peers;
pub mod references;
pub mod repr;
pub mod resource;
pub mod reviews;
pub mod shared;
