//! The `kopf` command's tests, one module per concern, built as one binary (and so sharing
//! the operators it builds: `e2e_support`).
//!
//! Run one module with `cargo test -p kopf-cli --test cli e2e_replicas::`.

mod cli_run;
mod cluster;
mod cluster_kill;
mod e2e_admission;
mod e2e_examples;
mod e2e_graceful;
mod e2e_least_privilege;
mod e2e_parity;
mod e2e_parity_persistence;
mod e2e_parity_subhandlers;
mod e2e_parity_timers;
mod e2e_progress;
mod e2e_reload;
mod e2e_replicas;
mod e2e_support;
mod e2e_walkthrough;
mod manifests;
mod new;
