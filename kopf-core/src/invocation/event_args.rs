//! The arguments only watching handlers (`on.event`) take: the raw event and its type.

use crate::clients::watching::EventKind;
use crate::errors::Error;
use crate::intents::causes::WatchingCause;
use crate::intents::families::Watching;
use crate::invocation::kwargs::FromCause;
use crate::structs::body::Body;
use serde_json::{Value, json};
use std::fmt;
use std::ops::Deref;

/// The raw event's type: `ADDED`, `MODIFIED`, `DELETED`, or `None` for the initial listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EventType(pub EventKind);

impl Deref for EventType {
    type Target = EventKind;
    fn deref(&self) -> &EventKind {
        &self.0
    }
}

impl EventType {
    /// As kopf passes `type`: `"ADDED"`, `"MODIFIED"`, `"DELETED"`; `None` when listed.
    pub fn as_str(&self) -> Option<&'static str> {
        self.0.as_type()
    }
}

/// Displays as kopf's `type` does: the type, or `None` for the initial listing.
impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str().unwrap_or("None"))
    }
}

/// The raw event as kopf passes `event`: its type and the object.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub event_type: EventType,
    pub object: Body,
}

impl Event {
    /// kopf's `{"type": …, "object": …}`.
    pub fn to_json(&self) -> Value {
        json!({"type": self.event_type.as_str(), "object": self.object.raw()})
    }
}

impl FromCause<Watching> for EventType {
    fn from_cause(cause: &WatchingCause) -> Result<Self, Error> {
        Ok(EventType(cause.event_kind))
    }
}

impl FromCause<Watching> for Event {
    fn from_cause(cause: &WatchingCause) -> Result<Self, Error> {
        Ok(Event {
            event_type: EventType(cause.event_kind),
            object: cause.object.body.clone(),
        })
    }
}

impl FromCause<Watching> for WatchingCause {
    fn from_cause(cause: &WatchingCause) -> Result<Self, Error> {
        Ok(cause.clone())
    }
}
