//! The API server's tests, one module per concern, built as one binary.
//!
//! Run one module with `cargo test -p kopf-apiserver --test apiserver api_ssa::`.

mod admission_hook;
mod api_admission;
mod api_aggregated;
mod api_control;
mod api_core;
mod api_defaults;
mod api_kube_runtime;
mod api_kubectl;
mod api_objects;
mod api_protobuf_generators;
mod api_rbac;
mod api_reviews;
mod api_rules;
mod api_scale;
mod api_schema;
mod api_ssa;
mod api_ssa_lists;
mod api_tables;
mod api_typed;
mod api_validation;
mod api_watch;
mod bench_group_commit;
mod fuzz_algorithms;
mod fuzz_requests;
mod layering;
mod ops_durable;
mod ops_faults;
mod ops_https;
mod ops_persistence;
mod python_kopf;
mod python_kubeconfig;
