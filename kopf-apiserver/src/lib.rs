//! An embedded Kubernetes API server: real HTTP(S), real semantics, for `kopf run`,
//! `kopf cluster` and every test of the project.
//!
//! Start one with [`RunningServer::start`]; point kubectl, the `kube` client or
//! Python kopf at [`RunningServer::kubeconfig`].

pub mod algo;
pub mod config;
mod events;
pub mod faults;
mod glue;
mod http;
pub mod kubeconfig;
mod openapi_routes;
mod ops;
pub mod persistence;
mod protobuf;
mod registry;
mod server;
mod status;
mod store;
pub mod tls;
mod watch;

pub use config::{FaultConfig, ServerConfig, Storage, Transport};
pub use server::{Control, RecordedRequest, RunningServer, ServerError};
