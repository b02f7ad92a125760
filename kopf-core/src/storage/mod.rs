//! What kopf keeps on the objects themselves: per-handler progress records, the
//! diff-base, and the touch-dummy that wakes a sleeping object up — each where
//! `settings.persistence` says, under kopf's naming conventions.

pub mod diffbase;
pub mod fields;
pub mod keys;
pub mod progress;
pub mod records;
pub mod touch;
