//! Watching, queueing and processing: the operator's engine.
