//! Filter callbacks (`labels = {"k": f}`, `annotations`, `value`/`old`/`new`, `when = f`)
//! that take injected arguments as handlers do — `fn big(spec: kopf::Spec, value:
//! kopf::FilterValue) -> bool` — and kopf's combinators of them: [`not_`], [`all_`],
//! [`any_`], [`none_`].

use crate::intents::filters::{Check, FilterInput};
use crate::invocation::kwargs::{
    Annotations, Labels, Meta, Name, Namespace, New, Old, Spec, Status, Uid, string_map,
};
use crate::structs::body::Body;
use crate::structs::diff::Diff;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;

/// The value a label, annotation or field filter looks at (`None` when absent): kopf's
/// `value` argument of filter callbacks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FilterValue(pub Option<Value>);

impl FilterValue {
    /// The value as text, if it is a string (labels and annotations always are).
    pub fn as_str(&self) -> Option<&str> {
        self.0.as_ref().and_then(Value::as_str)
    }
}

/// An argument a filter callback can take: built from the object (and the filtered value).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be injected into a kopf filter callback",
    label = "not an argument of filter callbacks",
    note = "filter callbacks take FilterValue, Body, Spec<T>, Status<T>, Meta, Name, Namespace, Uid, Labels, Annotations, and (for changing and admission handlers' `when`) Old<T>, New<T>, Diff"
)]
pub trait FromFilter: Sized {
    /// `None` when it cannot be built (e.g. a spec of another shape): the filter fails.
    fn from_filter(input: &FilterInput<'_>) -> Option<Self>;
}

macro_rules! from_body {
    ($($ty:ty => |$b:ident| $e:expr;)*) => {$(
        impl FromFilter for $ty {
            fn from_filter(input: &FilterInput<'_>) -> Option<Self> {
                let $b: &Body = input.body;
                Some($e)
            }
        }
    )*};
}

from_body! {
    Body => |b| b.clone();
    Meta => |b| Meta(b.metadata().clone());
    Name => |b| Name(b.name().unwrap_or_default().to_string());
    Uid => |b| Uid(b.uid().unwrap_or_default().to_string());
    Namespace => |b| Namespace(b.namespace().map(str::to_string));
    Labels => |b| Labels(string_map(b.labels()));
    Annotations => |b| Annotations(string_map(b.annotations()));
}

impl FromFilter for FilterValue {
    fn from_filter(input: &FilterInput<'_>) -> Option<Self> {
        Some(FilterValue(input.value.cloned()))
    }
}

/// For `when`: the old essence (changing handlers) or the whole old object (admission
/// handlers); `None` elsewhere or when absent.
impl<T: DeserializeOwned> FromFilter for Old<T> {
    fn from_filter(input: &FilterInput<'_>) -> Option<Self> {
        match input.change.and_then(|c| c.old) {
            Some(old) => serde_json::from_value(old.clone())
                .ok()
                .map(|v| Old(Some(v))),
            None => Some(Old(None)),
        }
    }
}

/// The new essence (changing handlers' `when`; `None` elsewhere).
impl<T: DeserializeOwned> FromFilter for New<T> {
    fn from_filter(input: &FilterInput<'_>) -> Option<Self> {
        match input.change.and_then(|c| c.new) {
            Some(new) => serde_json::from_value(new.clone())
                .ok()
                .map(|v| New(Some(v))),
            None => Some(New(None)),
        }
    }
}

/// The diff of the essences (changing handlers' `when`; empty elsewhere).
impl FromFilter for Diff {
    fn from_filter(input: &FilterInput<'_>) -> Option<Self> {
        Some(input.change.map(|c| c.diff.clone()).unwrap_or_default())
    }
}

impl<T: DeserializeOwned> FromFilter for Spec<T> {
    fn from_filter(input: &FilterInput<'_>) -> Option<Self> {
        serde_json::from_value(input.body.spec().clone())
            .ok()
            .map(Spec)
    }
}

impl<T: DeserializeOwned> FromFilter for Status<T> {
    fn from_filter(input: &FilterInput<'_>) -> Option<Self> {
        serde_json::from_value(input.body.status().clone())
            .ok()
            .map(Status)
    }
}

/// What can be a filter callback: a function of injected arguments returning `bool`, or
/// a [`Check`] (what the combinators return).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a kopf filter callback",
    note = "a filter callback is a function returning `bool` whose arguments are FilterValue, Body, Spec<T>, Status<T>, Meta, Name, Namespace, Uid, Labels, Annotations; or a combination with kopf::not_/all_/any_/none_"
)]
pub trait IntoCheck<Args> {
    fn into_check(self) -> Check;
}

impl IntoCheck<Check> for Check {
    fn into_check(self) -> Check {
        self
    }
}

/// Markers of the plain shapes of callbacks: the value only, or the body only.
pub struct ByText;
pub struct ByValue;
pub struct ByBody;

impl<Func> IntoCheck<ByText> for Func
where
    Func: Fn(Option<&str>) -> bool + Send + Sync + 'static,
{
    fn into_check(self) -> Check {
        Check(Arc::new(move |input: &FilterInput<'_>| {
            self(input.value.and_then(Value::as_str))
        }))
    }
}

impl<Func> IntoCheck<ByValue> for Func
where
    Func: Fn(Option<&Value>) -> bool + Send + Sync + 'static,
{
    fn into_check(self) -> Check {
        Check(Arc::new(move |input: &FilterInput<'_>| self(input.value)))
    }
}

impl<Func> IntoCheck<ByBody> for Func
where
    Func: Fn(&Body) -> bool + Send + Sync + 'static,
{
    fn into_check(self) -> Check {
        Check(Arc::new(move |input: &FilterInput<'_>| self(input.body)))
    }
}

macro_rules! callbacks {
    ($($arg:ident),*) => {
        impl<Func, $($arg,)*> IntoCheck<($($arg,)*)> for Func
        where
            Func: Fn($($arg),*) -> bool + Send + Sync + 'static,
            $($arg: FromFilter,)*
        {
            #[allow(non_snake_case, unused_variables)]
            fn into_check(self) -> Check {
                Check(Arc::new(move |input: &FilterInput<'_>| {
                    $(let Some($arg) = $arg::from_filter(input) else { return false };)*
                    (self)($($arg),*)
                }))
            }
        }
    };
}

callbacks!();
callbacks!(A1);
callbacks!(A1, A2);
callbacks!(A1, A2, A3);
callbacks!(A1, A2, A3, A4);
callbacks!(A1, A2, A3, A4, A5);
callbacks!(A1, A2, A3, A4, A5, A6);

/// A filter callback as a [`Check`] (what the attribute macros call).
pub fn check<Args>(callback: impl IntoCheck<Args>) -> Check {
    callback.into_check()
}

/// Several filter callbacks, for the combinators: a tuple `(f, g, …)` of callbacks.
pub trait IntoChecks<Args> {
    fn into_checks(self) -> Vec<Check>;
}

macro_rules! tuples {
    ($($f:ident: $m:ident),*) => {
        impl<$($f, $m,)*> IntoChecks<($($m,)*)> for ($($f,)*)
        where
            $($f: IntoCheck<$m>,)*
        {
            #[allow(non_snake_case)]
            fn into_checks(self) -> Vec<Check> {
                let ($($f,)*) = self;
                vec![$($f.into_check()),*]
            }
        }
    };
}

tuples!(F1: M1);
tuples!(F1: M1, F2: M2);
tuples!(F1: M1, F2: M2, F3: M3);
tuples!(F1: M1, F2: M2, F3: M3, F4: M4);
tuples!(F1: M1, F2: M2, F3: M3, F4: M4, F5: M5);
tuples!(F1: M1, F2: M2, F3: M3, F4: M4, F5: M5, F6: M6);

/// True where the callback is false (kopf's `kopf.not_`).
pub fn not_<Args>(callback: impl IntoCheck<Args>) -> Check {
    let inner = callback.into_check();
    Check(Arc::new(move |input| !inner.matches(input)))
}

/// True where every callback is (kopf's `kopf.all_`): `kopf::all_((is_big, is_red))`.
pub fn all_<Args>(callbacks: impl IntoChecks<Args>) -> Check {
    let checks = callbacks.into_checks();
    Check(Arc::new(move |input| {
        checks.iter().all(|c| c.matches(input))
    }))
}

/// True where any callback is (kopf's `kopf.any_`).
pub fn any_<Args>(callbacks: impl IntoChecks<Args>) -> Check {
    let checks = callbacks.into_checks();
    Check(Arc::new(move |input| {
        checks.iter().any(|c| c.matches(input))
    }))
}

/// True where no callback is (kopf's `kopf.none_`).
pub fn none_<Args>(callbacks: impl IntoChecks<Args>) -> Check {
    let checks = callbacks.into_checks();
    Check(Arc::new(move |input| {
        !checks.iter().any(|c| c.matches(input))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn is_somevalue(value: FilterValue) -> bool {
        value.as_str() == Some("somevalue")
    }

    fn has_field(spec: Spec) -> bool {
        spec.get("field").is_some()
    }

    #[test]
    fn callbacks_get_injected_arguments_and_combine() {
        let body = Body::new(json!({"metadata": {"name": "x"}, "spec": {"field": 1}}));
        let value = json!("somevalue");
        let input = FilterInput {
            body: &body,
            value: Some(&value),
            change: None,
        };
        assert!(check(is_somevalue).matches(&input));
        assert!(check(has_field).matches(&input));
        assert!(all_((is_somevalue, has_field)).matches(&input));
        assert!(!not_(has_field).matches(&input));
        assert!(any_((not_(has_field), is_somevalue)).matches(&input));
        assert!(none_((not_(has_field), |name: Name| *name == "y")).matches(&input));
        assert!(check(|| true).matches(&input));
        fn by_text(value: Option<&str>) -> bool {
            value == Some("somevalue")
        }
        fn by_body(body: &Body) -> bool {
            body.name() == Some("x")
        }
        assert!(all_((by_text, by_body, is_somevalue)).matches(&input));
        let absent = FilterInput {
            body: &body,
            value: None,
            change: None,
        };
        assert!(!check(is_somevalue).matches(&absent));
    }

    #[test]
    fn changing_handlers_when_callbacks_take_the_change() {
        let body = Body::new(json!({"metadata": {"name": "x"}, "spec": {"field": "b"}}));
        let (old, new) = (
            json!({"spec": {"field": "a"}}),
            json!({"spec": {"field": "b"}}),
        );
        let diff = crate::structs::diff::diff(Some(&old), Some(&new));
        let input = FilterInput {
            body: &body,
            value: None,
            change: Some(crate::intents::filters::Change {
                old: Some(&old),
                new: Some(&new),
                diff: &diff,
            }),
        };
        let changed = |old: Old, new: New, diff: Diff| {
            !diff.is_empty() && old.as_ref() != new.as_ref() && new.is_some()
        };
        assert!(check(changed).matches(&input));
        let no_change = FilterInput {
            body: &body,
            value: None,
            change: None,
        };
        assert!(!check(changed).matches(&no_change));
    }
}
