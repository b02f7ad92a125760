//! kopf's log lines: the object logger and the `full`/`plain`/`json` formats.
//!
//! OWNER: helper "core-logic" (formatter, init); `ObjectLogger`'s API is shared.

use serde_json::Value;
use std::fmt::Display;
use std::sync::Arc;

/// A logger for one object: its lines go to `kopf.objects`, prefixed `[namespace/name] `.
#[derive(Clone, Debug)]
pub struct ObjectLogger {
    prefix: Arc<str>,
    reference: Arc<Value>,
}

impl ObjectLogger {
    /// `reference` is the object's `{apiVersion, kind, name, uid, namespace}` (the JSON format's `object`).
    pub fn new(namespace: Option<&str>, name: &str, reference: Value) -> Self {
        let prefix = match namespace {
            Some(ns) => format!("{ns}/{name}"),
            None => name.to_string(),
        };
        ObjectLogger { prefix: prefix.into(), reference: Arc::new(reference) }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn debug(&self, message: impl Display) {
        tracing::debug!(target: "kopf.objects", kopf_prefix = %self.prefix, kopf_object = %self.reference, "{message}");
    }
    pub fn info(&self, message: impl Display) {
        tracing::info!(target: "kopf.objects", kopf_prefix = %self.prefix, kopf_object = %self.reference, "{message}");
    }
    pub fn warning(&self, message: impl Display) {
        tracing::warn!(target: "kopf.objects", kopf_prefix = %self.prefix, kopf_object = %self.reference, "{message}");
    }
    pub fn error(&self, message: impl Display) {
        tracing::error!(target: "kopf.objects", kopf_prefix = %self.prefix, kopf_object = %self.reference, "{message}");
    }
}
