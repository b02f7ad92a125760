//! kopf facade.
