//! Attribute macros of kopf.
