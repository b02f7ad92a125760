//! Handler arguments injected by type, axum style: each implements [`FromCause`] for the
//! families whose causes have what it needs.

use crate::errors::{Error, PermanentError};
use crate::intents::causes::{
    ActivityCause, ActivityKind, ChangingCause, OperatorCause, Reason, ResourceCause, SpawningCause,
};
use crate::intents::families::{Activity, Changing, Family, Spawning};
use crate::intents::stoppers::Stopped;
use crate::logging::ObjectLogger;
use crate::settings::OperatorSettings;
use crate::structs::body::Body;
use crate::structs::diff::Diff;
use crate::structs::memo::Memo;
use crate::structs::patch::Patch;
use crate::structs::resource::Resource;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// A type that a handler of family `F` can take as an argument; built from the
/// invocation's cause. An `Err` fails the attempt without calling the handler.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be injected into a kopf handler of the `{F}` family",
    label = "not an argument of `{F}` handlers",
    note = "every resource handler can take Body, Spec<T>, Status<T>, Meta, Name, Namespace, Uid, Labels, Annotations, Patch, Logger, Memo, Param<T>, Resource, kube::Client",
    note = "`Changing` handlers (create/update/delete/resume/field) also take Reason, Diff, Old<T>, New<T>, Retry, Started, Runtime, SubHandlers; `Watching` handlers (event) also take Event and EventType; `Spawning` handlers (daemon/timer) also take Stopped, Retry, Started, Runtime",
    note = "`Activity` handlers (startup/cleanup/login/probe) take ActivityKind, OperatorSettings, Logger, OperatorMemo<T>, Param<T>, the indices, Retry, Started, Runtime",
    note = "`Admission` handlers (validate/mutate) also take Operation, DryRun, Warnings, UserInfo, Headers, Subresource, Old<T>, New<T>, Diff"
)]
pub trait FromCause<F: Family = Changing>: Sized + Send + 'static {
    fn from_cause(cause: &F::Cause) -> Result<Self, Error>;
}

/// A compile-time check the macros emit per parameter, so errors point at that parameter.
#[doc(hidden)]
pub const fn assert_injectable<F: Family, T: FromCause<F>>() {}

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
pub(crate) use newtype_basics;

/// The object's `spec`, deserialized into `T` (a failure is a permanent failure of the attempt).
#[derive(Clone, Debug, PartialEq)]
pub struct Spec<T = Value>(pub T);
newtype_basics!(Spec<T>);

impl<F: Family, T: DeserializeOwned + Send + 'static> FromCause<F> for Spec<T>
where
    F::Cause: ResourceCause,
{
    fn from_cause(cause: &F::Cause) -> Result<Self, Error> {
        deserialize("spec", cause.object().body.spec()).map(Spec)
    }
}

/// The object's `status`, deserialized into `T`.
#[derive(Clone, Debug, PartialEq)]
pub struct Status<T = Value>(pub T);
newtype_basics!(Status<T>);

impl<F: Family, T: DeserializeOwned + Send + 'static> FromCause<F> for Status<T>
where
    F::Cause: ResourceCause,
{
    fn from_cause(cause: &F::Cause) -> Result<Self, Error> {
        deserialize("status", cause.object().body.status()).map(Status)
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

/// As kopf's `f"{old}"` and `f"{new}"` print them: `None`, a string as it is, else its repr.
macro_rules! python_display {
    ($($name:ident),*) => {$(
        impl std::fmt::Display for $name<Value> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&crate::structs::repr::python_str_or_none(self.0.as_ref()))
            }
        }
    )*};
}
python_display!(Old, New);

fn optional<T: DeserializeOwned>(what: &str, value: Option<&Value>) -> Result<Option<T>, Error> {
    value.map(|v| deserialize(what, v)).transpose()
}

impl<T: DeserializeOwned + Send + 'static> FromCause<Changing> for Old<T> {
    fn from_cause(cause: &ChangingCause) -> Result<Self, Error> {
        optional("old", cause.old.as_ref()).map(Old)
    }
}

impl<T: DeserializeOwned + Send + 'static> FromCause<Changing> for New<T> {
    fn from_cause(cause: &ChangingCause) -> Result<Self, Error> {
        optional("new", cause.new.as_ref()).map(New)
    }
}

/// The handler's `param = …` value, deserialized into `T` (`Null` when not given).
#[derive(Clone, Debug, PartialEq)]
pub struct Param<T = Value>(pub T);
newtype_basics!(Param<T>);

impl<F: Family, T: DeserializeOwned + Send + 'static> FromCause<F> for Param<T>
where
    F::Cause: OperatorCause,
{
    fn from_cause(cause: &F::Cause) -> Result<Self, Error> {
        let param = cause.param().unwrap_or(&Value::Null);
        deserialize("param", param).map(Param)
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

impl<F: Family> FromCause<F> for Meta
where
    F::Cause: ResourceCause,
{
    fn from_cause(cause: &F::Cause) -> Result<Self, Error> {
        Ok(Meta(cause.object().body.metadata().clone()))
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

impl<F: Family> FromCause<F> for Name
where
    F::Cause: ResourceCause,
{
    fn from_cause(cause: &F::Cause) -> Result<Self, Error> {
        Ok(Name(
            cause.object().body.name().unwrap_or_default().to_string(),
        ))
    }
}

impl<F: Family> FromCause<F> for Uid
where
    F::Cause: ResourceCause,
{
    fn from_cause(cause: &F::Cause) -> Result<Self, Error> {
        Ok(Uid(cause
            .object()
            .body
            .uid()
            .unwrap_or_default()
            .to_string()))
    }
}

impl<F: Family> FromCause<F> for Namespace
where
    F::Cause: ResourceCause,
{
    fn from_cause(cause: &F::Cause) -> Result<Self, Error> {
        Ok(Namespace(
            cause.object().body.namespace().map(str::to_string),
        ))
    }
}

pub(crate) fn string_map(value: &Value) -> BTreeMap<String, String> {
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

impl<F: Family> FromCause<F> for Labels
where
    F::Cause: ResourceCause,
{
    fn from_cause(cause: &F::Cause) -> Result<Self, Error> {
        Ok(Labels(string_map(cause.object().body.labels())))
    }
}

impl<F: Family> FromCause<F> for Annotations
where
    F::Cause: ResourceCause,
{
    fn from_cause(cause: &F::Cause) -> Result<Self, Error> {
        Ok(Annotations(string_map(cause.object().body.annotations())))
    }
}

/// A value of the operator-wide memo, given with `kopf::Operator::memo(value)`; a handler
/// asking for a type the operator was not given fails permanently, saying so.
pub struct OperatorMemo<T>(pub Arc<T>);

impl<T> Deref for OperatorMemo<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<F: Family, T: Send + Sync + 'static> FromCause<F> for OperatorMemo<T>
where
    F::Cause: OperatorCause,
{
    fn from_cause(cause: &F::Cause) -> Result<Self, Error> {
        match cause.shared().memos.get::<T>() {
            Some(value) => Ok(OperatorMemo(value)),
            None => Err(Error::from(PermanentError::new(format!(
                "the operator has no memo of type {}: give it with `kopf::Operator::memo(…)`",
                std::any::type_name::<T>()
            )))),
        }
    }
}

/// Arguments every resource handler can take, cloned from the cause's object.
macro_rules! object_args {
    ($($ty:ty => |$o:ident| $e:expr;)*) => {$(
        impl<F: Family> FromCause<F> for $ty
        where
            F::Cause: ResourceCause,
        {
            fn from_cause(cause: &F::Cause) -> Result<Self, Error> {
                let $o = cause.object();
                Ok($e)
            }
        }
    )*};
}

object_args! {
    Body => |o| o.body.clone();
    Patch => |o| o.patch.clone();
    ObjectLogger => |o| o.logger.clone();
    Memo => |o| o.memo.clone();
    Resource => |o| (*o.resource).clone();
    Arc<Resource> => |o| o.resource.clone();
    kube::Client => |o| o.client.clone();
}

/// Arguments of one family only, cloned from its cause.
macro_rules! family_args {
    ($family:ty, $cause:ty: $($ty:ty => |$c:ident| $e:expr;)*) => {$(
        impl FromCause<$family> for $ty {
            fn from_cause($c: &$cause) -> Result<Self, Error> {
                Ok($e)
            }
        }
    )*};
}

family_args! { Changing, ChangingCause:
    Diff => |c| c.diff.clone();
    Reason => |c| c.reason;
    ChangingCause => |c| c.clone();
}

family_args! { Activity, ActivityCause:
    ActivityKind => |c| c.activity;
    OperatorSettings => |c| c.settings.clone();
    ObjectLogger => |c| c.logger.clone();
    ActivityCause => |c| c.clone();
}

family_args! { Spawning, SpawningCause:
    Stopped => |c| c.stopped.clone();
    SpawningCause => |c| c.clone();
}
