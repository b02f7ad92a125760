//! What kopf keeps on the objects themselves: per-handler progress records, the
//! diff-base, and the touch-dummy that wakes a sleeping object up.

pub mod diffbase;
pub mod progress;
pub mod touch;
