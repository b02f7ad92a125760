//! Attribute macros of kopf: `#[kopf::on::create]` and friends.
//!
//! Thin by design: they parse the attribute, check each parameter can be injected,
//! and register a const descriptor in a linker-collected slice. Behaviour lives in
//! `kopf-core`; generated code only touches `::kopf::__private`.
//! Use them through the `kopf` crate (`kopf::on::create`), not directly.

mod attr;
mod expand;

use attr::Kind;
use proc_macro::TokenStream;

fn entry(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    expand::handler(kind, args.into(), item.into()).into()
}

/// Registers a handler for the creation of objects (`on.create`).
#[proc_macro_attribute]
pub fn create(args: TokenStream, item: TokenStream) -> TokenStream {
    entry(Kind::Create, args, item)
}

/// Registers a handler for changes of objects (`on.update`); with `field=`, only when that field changed.
#[proc_macro_attribute]
pub fn update(args: TokenStream, item: TokenStream) -> TokenStream {
    entry(Kind::Update, args, item)
}

/// Registers a handler for the deletion of objects (`on.delete`); adds a finalizer unless `optional = true`.
#[proc_macro_attribute]
pub fn delete(args: TokenStream, item: TokenStream) -> TokenStream {
    entry(Kind::Delete, args, item)
}

/// Registers a handler for objects found when the operator starts (`on.resume`).
#[proc_macro_attribute]
pub fn resume(args: TokenStream, item: TokenStream) -> TokenStream {
    entry(Kind::Resume, args, item)
}

/// Registers a handler for changes of one field, on creation and updates (`on.field`); `field=` is required.
#[proc_macro_attribute]
pub fn field(args: TokenStream, item: TokenStream) -> TokenStream {
    entry(Kind::Field, args, item)
}

/// Registers a handler for every raw watch event of a resource, the initial listing
/// included (`on.event`); errors are logged and ignored, nothing is stored on the object.
#[proc_macro_attribute]
pub fn event(args: TokenStream, item: TokenStream) -> TokenStream {
    entry(Kind::Event, args, item)
}

/// Registers a daemon (`kopf.daemon`): one task per matching object, running while the
/// object exists and matches; stopped (signalled, then cancelled) when it goes.
#[proc_macro_attribute]
pub fn daemon(args: TokenStream, item: TokenStream) -> TokenStream {
    entry(Kind::Daemon, args, item)
}

/// Registers a timer (`kopf.timer`): called every `interval` seconds per matching object,
/// optionally only once the object has been idle for `idle` seconds.
#[proc_macro_attribute]
pub fn timer(args: TokenStream, item: TokenStream) -> TokenStream {
    entry(Kind::Timer, args, item)
}

/// Registers an index (`kopf.index`): what the function returns per object — a map of
/// key → value, or a value without a key — kept current from the watch. Handlers of any
/// family take it as an argument of the generated type `<FnName>Index` (for `fn
/// pods_by_namespace`, `PodsByNamespaceIndex`); resource handlers wait until every indexed
/// resource has been listed once.
#[proc_macro_attribute]
pub fn index(args: TokenStream, item: TokenStream) -> TokenStream {
    entry(Kind::Index, args, item)
}

/// Registers a startup handler (`on.startup`): run before anything is watched; the
/// settings (`kopf::OperatorSettings`) can be changed here; a final failure stops the
/// operator with a non-zero exit.
#[proc_macro_attribute]
pub fn startup(args: TokenStream, item: TokenStream) -> TokenStream {
    entry(Kind::Startup, args, item)
}

/// Registers a cleanup handler (`on.cleanup`): run once when the operator exits, after
/// the handlers and daemons have stopped.
#[proc_macro_attribute]
pub fn cleanup(args: TokenStream, item: TokenStream) -> TokenStream {
    entry(Kind::Cleanup, args, item)
}

/// Registers a login handler (`on.login`): returns a `kopf::ConnectionInfo` (the highest
/// `priority` wins); run again whenever the API answers 401.
#[proc_macro_attribute]
pub fn login(args: TokenStream, item: TokenStream) -> TokenStream {
    entry(Kind::Login, args, item)
}

/// Registers a probe handler (`on.probe`): its result appears under its id in the JSON of
/// the liveness endpoint (`--liveness http://HOST:PORT/PATH`).
#[proc_macro_attribute]
pub fn probe(args: TokenStream, item: TokenStream) -> TokenStream {
    entry(Kind::Probe, args, item)
}

/// Registers a validating admission handler (`on.validate`): called by the webhook server
/// for each admission review of a matching object; an error (`kopf::AdmissionError` with a
/// message and code) refuses the API operation.
#[proc_macro_attribute]
pub fn validate(args: TokenStream, item: TokenStream) -> TokenStream {
    entry(Kind::Validate, args, item)
}

/// Registers a mutating admission handler (`on.mutate`): what it sets on the `Patch`
/// argument is answered as a JSON Patch and applied by the API server before storing.
#[proc_macro_attribute]
pub fn mutate(args: TokenStream, item: TokenStream) -> TokenStream {
    entry(Kind::Mutate, args, item)
}
