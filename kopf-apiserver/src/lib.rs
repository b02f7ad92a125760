//! An embedded Kubernetes API server: real HTTP(S), real semantics, for `kopf run`,
//! `kopf cluster` and every test of the project.
//!
//! Start one with [`RunningServer::start`]; point kubectl, the `kube` client or
//! Python kopf at [`RunningServer::kubeconfig`].

pub mod algo;
pub mod config;
pub mod faults;
pub mod kubeconfig;
pub mod persistence;
pub mod tls;

pub use config::{FaultConfig, ServerConfig, Storage, Transport};
