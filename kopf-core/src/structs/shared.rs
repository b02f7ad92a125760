//! What the whole operator shares with every handler: the indices and the operator-wide
//! memo. Cheap to clone; handed to each cause.

use crate::structs::indices::Indices;
use crate::structs::memo::Memos;

#[derive(Clone, Debug, Default)]
pub struct OperatorShared {
    pub indices: Indices,
    pub memos: Memos,
}
