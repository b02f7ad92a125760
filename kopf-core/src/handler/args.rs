//! Handler arguments injected by type, axum style: each implements [`FromCause`].

use super::cause::Cause;
use crate::causes::Reason;
use crate::diff::Diff;
use crate::errors::{Error, PermanentError};
use crate::logging::ObjectLogger;
use crate::resource::Resource;
use crate::{Body, Patch};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// A type that a kopf handler can take as an argument; built from the invocation's [`Cause`].
///
/// An `Err` fails the attempt without calling the handler.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be injected into a kopf handler",
    label = "not an injectable kopf handler argument",
    note = "handler arguments must implement `kopf::FromCause` (Body, Spec<T>, Status<T>, Meta, Name, Namespace, Uid, Labels, Annotations, Patch, Logger, Diff, Old, New, Reason, Retry, Started, Runtime, Memo, Param, Resource, kube::Client, …)"
)]
pub trait FromCause: Sized + Send + 'static {
    fn from_cause(cause: &Cause) -> Result<Self, Error>;
}

/// A compile-time check the macros emit per parameter, so errors point at that parameter.
#[doc(hidden)]
pub const fn assert_injectable<T: FromCause>() {}

fn deserialize<T: DeserializeOwned>(what: &str, value: &Value) -> Result<T, Error> {
    serde_json::from_value(value.clone()).map_err(|err| {
        Error::from(PermanentError::new(format!(
            "cannot deserialize `{what}` as {}: {err}",
            std::any::type_name::<T>()
        )))
    })
}

/// Wraps a value: derefs to it, displays as it does.
macro_rules! newtype_basics {
    ($name:ident < $t:ident >) => {
        impl<$t> Deref for $name<$t> {
            type Target = $t;
            fn deref(&self) -> &$t {
                &self.0
            }
        }
        impl<$t> DerefMut for $name<$t> {
            fn deref_mut(&mut self) -> &mut $t {
                &mut self.0
            }
        }
        impl<$t: fmt::Display> fmt::Display for $name<$t> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
        impl<$t> $name<$t> {
            pub fn into_inner(self) -> $t {
                self.0
            }
        }
    };
    ($name:ident : $t:ty) => {
        impl Deref for $name {
            type Target = $t;
            fn deref(&self) -> &$t {
                &self.0
            }
        }
        impl $name {
            pub fn into_inner(self) -> $t {
                self.0
            }
        }
    };
}

/// The object's `spec`, deserialized into `T` (a failure is a permanent failure of the attempt).
#[derive(Clone, Debug, PartialEq)]
pub struct Spec<T = Value>(pub T);
newtype_basics!(Spec<T>);

impl<T: DeserializeOwned + Send + 'static> FromCause for Spec<T> {
    fn from_cause(cause: &Cause) -> Result<Self, Error> {
        deserialize("spec", cause.body.spec()).map(Spec)
    }
}

/// The object's `status`, deserialized into `T`.
#[derive(Clone, Debug, PartialEq)]
pub struct Status<T = Value>(pub T);
newtype_basics!(Status<T>);

impl<T: DeserializeOwned + Send + 'static> FromCause for Status<T> {
    fn from_cause(cause: &Cause) -> Result<Self, Error> {
        deserialize("status", cause.body.status()).map(Status)
    }
}

/// The old essence (or the old field value for field handlers); `None` when absent.
#[derive(Clone, Debug, PartialEq)]
pub struct Old<T = Value>(pub Option<T>);

impl<T> Deref for Old<T> {
    type Target = Option<T>;
    fn deref(&self) -> &Option<T> {
        &self.0
    }
}

/// The new essence (or the new field value for field handlers); `None` when absent.
#[derive(Clone, Debug, PartialEq)]
pub struct New<T = Value>(pub Option<T>);

impl<T> Deref for New<T> {
    type Target = Option<T>;
    fn deref(&self) -> &Option<T> {
        &self.0
    }
}

fn optional<T: DeserializeOwned>(what: &str, value: Option<&Value>) -> Result<Option<T>, Error> {
    value.map(|v| deserialize(what, v)).transpose()
}

impl<T: DeserializeOwned + Send + 'static> FromCause for Old<T> {
    fn from_cause(cause: &Cause) -> Result<Self, Error> {
        optional("old", cause.old.as_ref()).map(Old)
    }
}

impl<T: DeserializeOwned + Send + 'static> FromCause for New<T> {
    fn from_cause(cause: &Cause) -> Result<Self, Error> {
        optional("new", cause.new.as_ref()).map(New)
    }
}

/// The handler's `param = …` value, deserialized into `T` (`Null` when not given).
#[derive(Clone, Debug, PartialEq)]
pub struct Param<T = Value>(pub T);
newtype_basics!(Param<T>);

impl<T: DeserializeOwned + Send + 'static> FromCause for Param<T> {
    fn from_cause(cause: &Cause) -> Result<Self, Error> {
        deserialize("param", cause.param.as_ref().unwrap_or(&Value::Null)).map(Param)
    }
}

/// The object's `metadata`.
#[derive(Clone, Debug, PartialEq)]
pub struct Meta(pub Value);
newtype_basics!(Meta: Value);

impl fmt::Display for Meta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromCause for Meta {
    fn from_cause(cause: &Cause) -> Result<Self, Error> {
        Ok(Meta(cause.body.metadata().clone()))
    }
}

/// `metadata.name` (empty when absent).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Name(pub String);
newtype_basics!(Name: String);

/// `metadata.uid` (empty when absent).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Uid(pub String);
newtype_basics!(Uid: String);

/// `metadata.namespace`; `None` for cluster-scoped objects.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Namespace(pub Option<String>);
newtype_basics!(Namespace: Option<String>);

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Displays the namespace, or nothing for cluster-scoped objects.
impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_deref().unwrap_or(""))
    }
}

impl FromCause for Name {
    fn from_cause(cause: &Cause) -> Result<Self, Error> {
        Ok(Name(cause.body.name().unwrap_or_default().to_string()))
    }
}

impl FromCause for Uid {
    fn from_cause(cause: &Cause) -> Result<Self, Error> {
        Ok(Uid(cause.body.uid().unwrap_or_default().to_string()))
    }
}

impl FromCause for Namespace {
    fn from_cause(cause: &Cause) -> Result<Self, Error> {
        Ok(Namespace(cause.body.namespace().map(str::to_string)))
    }
}

fn string_map(value: &Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `metadata.labels`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Labels(pub BTreeMap<String, String>);
newtype_basics!(Labels: BTreeMap<String, String>);

/// `metadata.annotations`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Annotations(pub BTreeMap<String, String>);
newtype_basics!(Annotations: BTreeMap<String, String>);

impl FromCause for Labels {
    fn from_cause(cause: &Cause) -> Result<Self, Error> {
        Ok(Labels(string_map(cause.body.labels())))
    }
}

impl FromCause for Annotations {
    fn from_cause(cause: &Cause) -> Result<Self, Error> {
        Ok(Annotations(string_map(cause.body.annotations())))
    }
}

/// Attempts made before this one (0 on the first attempt).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Retry(pub u32);
newtype_basics!(Retry: u32);

impl fmt::Display for Retry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromCause for Retry {
    fn from_cause(cause: &Cause) -> Result<Self, Error> {
        Ok(Retry(cause.retry))
    }
}

/// When the first attempt of this handler started (persisted across restarts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Started(pub jiff::Timestamp);
newtype_basics!(Started: jiff::Timestamp);

impl fmt::Display for Started {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromCause for Started {
    fn from_cause(cause: &Cause) -> Result<Self, Error> {
        Ok(Started(cause.started))
    }
}

/// Time since the first attempt started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Runtime(pub Duration);
newtype_basics!(Runtime: Duration);

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl FromCause for Runtime {
    fn from_cause(cause: &Cause) -> Result<Self, Error> {
        let elapsed = jiff::Timestamp::now().duration_since(cause.started);
        Ok(Runtime(Duration::try_from(elapsed).unwrap_or_default()))
    }
}

/// Per-object memory shared by all handlers of that object (in memory only, lost on restart).
#[derive(Clone, Debug, Default)]
pub struct Memo(Arc<Mutex<Map<String, Value>>>);

impl Memo {
    pub fn new() -> Self {
        Memo::default()
    }

    /// Locks the map; a panicking handler does not poison it for others.
    pub fn lock(&self) -> MutexGuard<'_, Map<String, Value>> {
        self.0.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    pub fn get(&self, key: &str) -> Option<Value> {
        self.lock().get(key).cloned()
    }

    pub fn set(&self, key: impl Into<String>, value: Value) {
        self.lock().insert(key.into(), value);
    }

    pub fn remove(&self, key: &str) -> Option<Value> {
        self.lock().remove(key)
    }
}

impl FromCause for Memo {
    fn from_cause(cause: &Cause) -> Result<Self, Error> {
        Ok(cause.memo.clone())
    }
}

macro_rules! cloned_from_cause {
    ($($ty:ty => |$c:ident| $e:expr;)*) => {$(
        impl FromCause for $ty {
            fn from_cause($c: &Cause) -> Result<Self, Error> {
                Ok($e)
            }
        }
    )*};
}

cloned_from_cause! {
    Body => |c| c.body.clone();
    Patch => |c| c.patch.clone();
    ObjectLogger => |c| c.logger.clone();
    Diff => |c| c.diff.clone();
    Reason => |c| c.reason;
    Resource => |c| (*c.resource).clone();
    Arc<Resource> => |c| c.resource.clone();
    kube::Client => |c| c.client.clone();
    Cause => |c| c.clone();
}
