//! An embedded Kubernetes API server: real HTTP(S), real semantics, for `kopf run`,
//! `kopf cluster` and every test of the project.
//!
//! Start one with [`RunningServer::start`]; point kubectl, the `kube` client or
//! Python kopf at [`RunningServer::kubeconfig`].
//!
//! Layout: `server` (listener, TLS, lifecycle, test hooks) → `http` (auth, faults, routing,
//! discovery, reads) → `ops` (writes: create, update, patch, delete, cascades) on `store`
//! (objects, the global resourceVersion, the watch history), with `watch` streaming from
//! that history. `registry` knows the served resources (built-ins and CRDs); `glue` is the
//! one seam to the pure algorithms in `algo`. `rbac` says who a request is from and, when
//! enforced, what a service account may do. `writes` sends writes through `admission`
//! (the webhooks of stored webhook configurations) when any are configured.

mod admission;
mod aggregated;
pub mod algo;
mod columns;
pub mod config;
pub(crate) mod defaults;
mod events;
pub mod faults;
mod glue;
mod http;
pub mod kubeconfig;
mod openapi_routes;
mod ops;
pub mod persistence;
mod protobuf;
mod protobuf_kinds;
mod protobuf_wire;
mod rbac;
mod registry;
mod responses;
mod reviews;
mod scale;
mod server;
mod shared;
mod status;
mod store;
mod tables;
pub mod tls;
mod typed;
mod watch;
mod writes;

pub use config::{FaultConfig, ServerConfig, Storage, Transport};
pub use registry::{BuiltinName, builtin_names};
pub use server::{Control, RecordedRequest, RunningServer, ServerError};
