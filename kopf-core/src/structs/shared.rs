//! What the whole operator shares with every handler: the indices and the operator-wide
//! memo; and with its engines: the gate. Cheap to clone; handed to each cause.

use crate::structs::gate::Gate;
use crate::structs::indices::Indices;
use crate::structs::memo::Memos;

#[derive(Clone, Debug, Default)]
pub struct OperatorShared {
    pub indices: Indices,
    pub memos: Memos,
    /// Paused by peering or leader election; the shards held.
    pub gate: Gate,
}
