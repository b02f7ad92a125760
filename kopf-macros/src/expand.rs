//! Code generation: the user's function, unchanged, plus a descriptor in `KOPF_HANDLERS`.

use crate::attr::{Args, Family, Kind, OptionValue, Selector};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, FnArg, ItemFn, Lit, Path};

/// The user's item plus the errors, so IDEs and later passes still see the function.
fn with_errors(item: TokenStream, error: syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    quote! { #item #errors }
}

pub fn handler(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            let error = syn::Error::new_spanned(
                &item,
                format!("`#[{}]` can only be applied to functions", kind.path()),
            );
            return with_errors(item, error);
        }
    };
    let parsed = Args::parse(kind, args);
    let checked = check_signature(&function);
    let args = match (parsed, checked) {
        (Ok(args), Ok(())) => args,
        (Err(mut e), Err(more)) => {
            e.combine(more);
            return with_errors(item, e);
        }
        (Err(e), _) | (_, Err(e)) => return with_errors(item, e),
    };
    match generate(kind, &args, &function) {
        Ok(registration) => quote! { #function #registration },
        Err(e) => with_errors(item, e),
    }
}

/// Handlers are plain functions: no receivers, no generics.
fn check_signature(function: &ItemFn) -> syn::Result<()> {
    let sig = &function.sig;
    if !sig.generics.params.is_empty() {
        let has_type_generics = sig
            .generics
            .params
            .iter()
            .any(|p| !matches!(p, syn::GenericParam::Lifetime(_)));
        if has_type_generics {
            return Err(syn::Error::new_spanned(
                &sig.generics,
                "kopf handlers cannot be generic",
            ));
        }
    }
    if let Some(FnArg::Receiver(receiver)) = sig.inputs.first() {
        return Err(syn::Error::new_spanned(
            receiver,
            "kopf handlers are free functions, not methods",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(syn::Error::new_spanned(
            variadic,
            "kopf handlers cannot be variadic",
        ));
    }
    Ok(())
}

/// The last identifier of a path: to recognise `kopf::PRESENT` and `kopf::ABSENT`.
fn is_marker(expr: &Expr) -> bool {
    match expr {
        Expr::Path(p) => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "PRESENT" || s.ident == "ABSENT"),
        _ => false,
    }
}

/// A closure whose parameters have no types: it is called with the plain value (or body),
/// so that the compiler can infer them; typed closures and functions get injected arguments.
fn is_untyped_closure(expr: &Expr) -> bool {
    match expr {
        Expr::Closure(closure) => {
            !closure.inputs.is_empty()
                && closure
                    .inputs
                    .iter()
                    .all(|input| !matches!(input, syn::Pat::Type(_)))
        }
        _ => false,
    }
}

/// A callback of any shape, checked by `kopf::filters::check`.
fn injected(krate: &Path, expr: &Expr) -> TokenStream {
    let span = expr.span();
    quote_spanned!(span=> #krate::__private::check(#expr))
}

fn meta_filter(krate: &Path, expr: &Expr) -> TokenStream {
    let span = expr.span();
    match expr {
        Expr::Lit(lit) if matches!(lit.lit, Lit::Str(_)) => {
            quote_spanned!(span=> #krate::__private::MetaFilter::from(#expr))
        }
        _ if is_marker(expr) => quote_spanned!(span=> #krate::__private::MetaFilter::from(#expr)),
        _ if is_untyped_closure(expr) => {
            quote_spanned!(span=> #krate::__private::MetaFilter::callback(#expr))
        }
        _ => {
            let check = injected(krate, expr);
            quote_spanned!(span=> #krate::__private::MetaFilter::Check(#check))
        }
    }
}

fn value_filter(krate: &Path, expr: &Expr) -> TokenStream {
    let span = expr.span();
    match expr {
        _ if is_marker(expr) => quote_spanned!(span=> #krate::__private::ValueFilter::from(#expr)),
        _ if is_untyped_closure(expr) => {
            quote_spanned!(span=> #krate::__private::ValueFilter::callback(#expr))
        }
        Expr::Closure(_) | Expr::Path(_) | Expr::Call(_) => {
            let check = injected(krate, expr);
            quote_spanned!(span=> #krate::__private::ValueFilter::Check(#check))
        }
        _ => quote_spanned!(span=> #krate::__private::ValueFilter::equals(#expr)),
    }
}

fn as_expr(value: &OptionValue) -> TokenStream {
    match value {
        OptionValue::Str(s) => quote!(#s),
        OptionValue::Bool(b) => quote!(#b),
        OptionValue::Expr(e) => quote!(#e),
        OptionValue::Path(p) => quote!(#p),
        OptionValue::Map(_) | OptionValue::Strings(_) => quote!(()),
    }
}

fn generate(kind: Kind, args: &Args, function: &ItemFn) -> syn::Result<TokenStream> {
    let krate: Path = match args.get("crate") {
        Some(OptionValue::Str(s)) => s.parse()?,
        _ => syn::parse_quote!(::kopf),
    };
    let p = quote!(#krate::__private);
    let ident = &function.sig.ident;
    let fn_name = ident.to_string();
    let kind_variant = format_ident!("{}", kind.variant());

    let selector = match &args.selector {
        Some(Selector::Strings(parts)) => quote!(#p::selector_from_parts(&[#(#parts),*])),
        Some(Selector::Type(ty)) => quote_spanned!(ty.span()=> #p::selector_of::<#ty>()),
        None if kind.family() == Family::Activity => quote!(#p::no_selector()),
        None => {
            return Err(syn::Error::new(
                Span::call_site(),
                "a resource selector is required",
            ));
        }
    };
    let id = match args.get("id") {
        Some(OptionValue::Str(s)) => quote!(::core::option::Option::Some(#s)),
        _ => quote!(::core::option::Option::None),
    };
    let field = match args.get("field") {
        Some(OptionValue::Str(s)) => quote!(::core::option::Option::Some(#s)),
        _ => quote!(::core::option::Option::None),
    };
    let flag = |key: &str| match args.get(key) {
        Some(OptionValue::Bool(b)) => quote!(#b),
        _ => quote!(false),
    };
    let optional = flag("optional");
    let deleted = flag("deleted");
    let family = match kind.family() {
        Family::Changing => quote!(#p::Changing),
        Family::Watching => quote!(#p::Watching),
        Family::Spawning => quote!(#p::Spawning),
        Family::Indexing => quote!(#p::Indexing),
        Family::Activity => quote!(#p::Activity),
        Family::Admission => quote!(#p::Admission),
    };

    let errors = match args.get("errors") {
        Some(v) => as_expr(v),
        None if matches!(
            kind.family(),
            Family::Changing | Family::Spawning | Family::Activity
        ) =>
        {
            quote!(#p::ErrorsMode::Temporary)
        }
        // Every error of an admission handler refuses the request (kopf's PERMANENT).
        None if kind.family() == Family::Admission => quote!(#p::ErrorsMode::Permanent),
        // Event handlers' errors are logged and ignored, as kopf's `on.event`.
        None => quote!(#p::ErrorsMode::Ignored),
    };
    let number = |key: &str, ty: TokenStream| match args.get(key) {
        Some(v) => {
            let e = as_expr(v);
            quote!(::core::option::Option::Some((#e) as #ty))
        }
        None => quote!(::core::option::Option::None),
    };
    let retries = number("retries", quote!(u32));
    let timeout = number("timeout", quote!(f64));
    let backoff = number("backoff", quote!(f64));

    let param = match args.get("param") {
        Some(v) => {
            let e = as_expr(v);
            quote!(#p::param_value(#e))
        }
        None => quote!(::core::option::Option::None),
    };

    let map = |key: &str| -> TokenStream {
        match args.get(key) {
            Some(OptionValue::Map(entries)) => {
                let items = entries.iter().map(|entry| {
                    let k = &entry.key;
                    let v = meta_filter(&krate, &entry.value);
                    quote!((::std::string::String::from(#k), #v))
                });
                quote!(::std::vec![#(#items),*])
            }
            _ => quote!(::std::vec::Vec::new()),
        }
    };
    let labels = map("labels");
    let annotations = map("annotations");
    let value_opt = |key: &str| -> TokenStream {
        match args.get(key) {
            Some(OptionValue::Expr(e)) => {
                let f = value_filter(&krate, e);
                quote!(::core::option::Option::Some(#f))
            }
            Some(other) => {
                let e = as_expr(other);
                quote!(::core::option::Option::Some(#p::ValueFilter::equals(#e)))
            }
            None => quote!(::core::option::Option::None),
        }
    };
    let value = value_opt("value");
    let old = value_opt("old");
    let new = value_opt("new");
    let when = match args.get("when") {
        Some(OptionValue::Expr(e)) if is_untyped_closure(e) => {
            quote!(::core::option::Option::Some(#p::Filters::when(#e)))
        }
        Some(OptionValue::Expr(e)) => {
            let check = injected(&krate, e);
            quote!(::core::option::Option::Some(#check))
        }
        Some(v) => {
            let e = as_expr(v);
            quote!(::core::option::Option::Some(#p::Filters::when(#e)))
        }
        None => quote!(::core::option::Option::None),
    };

    // One check per parameter, spanned at its type: a bad argument is reported right there.
    let mut checks = Vec::new();
    let mut extracts = Vec::new();
    let mut names = Vec::new();
    for (index, input) in function.sig.inputs.iter().enumerate() {
        let FnArg::Typed(typed) = input else { continue };
        let ty = &typed.ty;
        let name = format_ident!("__kopf_arg{}", index);
        checks.push(quote_spanned! {ty.span()=>
            const _: () = #p::assert_injectable::<#family, #ty>();
        });
        extracts.push(quote! {
            let #name = match #p::extract::<#family, #ty>(&cause) {
                ::core::result::Result::Ok(value) => value,
                ::core::result::Result::Err(outcome) => return #p::ready(outcome),
            };
        });
        names.push(name);
    }
    // Spanned at the return type: an unsupported return is reported there.
    let ret_span = match &function.sig.output {
        syn::ReturnType::Type(_, ty) => ty.span(),
        syn::ReturnType::Default => ident.span(),
    };
    let call = if function.sig.asyncness.is_some() {
        quote_spanned!(ret_span=> #p::run_async(#ident(#(#names),*)).await)
    } else {
        quote_spanned!(ret_span=> #p::run_sync(move || #ident(#(#names),*)).await)
    };

    let family_descriptor = match kind.family() {
        Family::Changing => quote!(#p::FamilyDescriptor::Changing {
            invoke: __kopf_invoke,
            optional: #optional,
            deleted: #deleted,
        }),
        Family::Watching => quote!(#p::FamilyDescriptor::Watching {
            invoke: __kopf_invoke,
        }),
        Family::Indexing => quote!(#p::FamilyDescriptor::Indexing {
            invoke: __kopf_invoke,
        }),
        Family::Activity => quote!(#p::FamilyDescriptor::Activity {
            invoke: __kopf_invoke,
        }),
        Family::Admission => admission_descriptor(&p, kind, args),
        Family::Spawning => {
            let seconds = |key: &str| number(key, quote!(f64));
            let initial_delay = seconds("initial_delay");
            let options = if kind == Kind::Daemon {
                let (backoff, timeout, polling) = (
                    seconds("cancellation_backoff"),
                    seconds("cancellation_timeout"),
                    seconds("cancellation_polling"),
                );
                quote!(#p::SpawningOptions::Daemon {
                    initial_delay: #initial_delay,
                    cancellation_backoff: #backoff,
                    cancellation_timeout: #timeout,
                    cancellation_polling: #polling,
                })
            } else {
                let (interval, idle, sharp) = (seconds("interval"), seconds("idle"), flag("sharp"));
                quote!(#p::SpawningOptions::Timer {
                    interval: #interval,
                    initial_delay: #initial_delay,
                    idle: #idle,
                    sharp: #sharp,
                })
            };
            quote!(#p::FamilyDescriptor::Spawning {
                invoke: __kopf_invoke,
                options: #options,
            })
        }
    };
    let linkme_path = quote!(#p::linkme);
    // A typed resource's CRD, if it is a custom resource, for `kopf manifests`.
    let crd = match &args.selector {
        Some(Selector::Type(ty)) => quote_spanned! {ty.span()=>
            fn __kopf_crd() -> ::core::option::Option<#p::serde_json::Value> {
                #[allow(unused_imports)]
                use #p::{CrdOfAnyResource as _, CrdOfCustomResource as _};
                (&&#p::CrdProbe::<#ty>::new()).crd_json()
            }

            #[#p::linkme::distributed_slice(#p::KOPF_CRDS)]
            #[linkme(crate = #linkme_path)]
            static __KOPF_CRD: fn() -> ::core::option::Option<#p::serde_json::Value> = __kopf_crd;
        },
        _ => TokenStream::new(),
    };
    let index_type = if kind == Kind::Index {
        index_type(&krate, function, args)
    } else {
        TokenStream::new()
    };
    Ok(quote! {
        #index_type

        #[allow(non_upper_case_globals, clippy::all)]
        const _: () = {
            #(#checks)*

            #crd

            fn __kopf_invoke(
                cause: <#family as #p::Family>::Cause,
            ) -> #p::BoxFuture<'static, #p::Outcome> {
                // The arguments are taken now (the invoker catches a panic in it), so the
                // future holds them and not the cause as well.
                #(#extracts)*
                ::core::mem::drop(cause);
                ::std::boxed::Box::pin(async move { #call })
            }

            fn __kopf_selector() -> #p::Selector {
                #selector
            }

            fn __kopf_param() -> ::core::option::Option<#p::serde_json::Value> {
                #param
            }

            fn __kopf_filters() -> #p::Filters {
                #p::Filters {
                    labels: #labels,
                    annotations: #annotations,
                    value: #value,
                    old: #old,
                    new: #new,
                    when: #when,
                }
            }

            #[#p::linkme::distributed_slice(#p::KOPF_HANDLERS)]
            #[linkme(crate = #linkme_path)]
            static __KOPF_HANDLER: #p::HandlerDescriptor = #p::HandlerDescriptor {
                kind: #p::HandlerKind::#kind_variant,
                fn_name: #fn_name,
                module: ::core::module_path!(),
                id: #id,
                selector: __kopf_selector,
                field: #field,
                policy: #p::RetryPolicy {
                    errors: #errors,
                    retries: #retries,
                    timeout: #timeout,
                    backoff: #backoff,
                },
                param: __kopf_param,
                filters: __kopf_filters,
                family: #family_descriptor,
                location: #p::Location {
                    file: ::core::file!(),
                    line: ::core::line!(),
                    column: ::core::column!(),
                },
            };
        };
    })
}

/// The admission family's part: the webhook type and the webhook's options, as constants.
fn admission_descriptor(p: &TokenStream, kind: Kind, args: &Args) -> TokenStream {
    let reason = if kind == Kind::Mutate {
        quote!(#p::WebhookType::Mutating)
    } else {
        quote!(#p::WebhookType::Validating)
    };
    let operations = args.operations().into_iter().map(|lit| {
        let variant = match lit.value().as_str() {
            "CREATE" => quote!(Create),
            "UPDATE" => quote!(Update),
            "DELETE" => quote!(Delete),
            _ => quote!(Connect),
        };
        quote!(#p::Operation::#variant)
    });
    let subresource = match args.get("subresource") {
        Some(OptionValue::Str(s)) => {
            quote!(::core::option::Option::Some(#p::Cow::Borrowed(#s)))
        }
        _ => quote!(::core::option::Option::None),
    };
    let flag = |key: &str| match args.get(key) {
        Some(OptionValue::Bool(b)) => quote!(#b),
        _ => quote!(false),
    };
    let (persistent, side_effects, ignore_failures) = (
        flag("persistent"),
        flag("side_effects"),
        flag("ignore_failures"),
    );
    quote!(#p::FamilyDescriptor::Admission {
        invoke: __kopf_invoke,
        options: #p::AdmissionOptions {
            reason: #reason,
            operations: #p::Cow::Borrowed(&[#(#operations),*]),
            subresource: #subresource,
            persistent: #persistent,
            side_effects: #side_effects,
            ignore_failures: #ignore_failures,
        },
    })
}

/// `fn pods_by_namespace` → `PodsByNamespaceIndex`.
fn index_type_name(function: &ItemFn) -> syn::Ident {
    let camel: String = function
        .sig
        .ident
        .to_string()
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect();
    format_ident!("{}Index", camel, span = function.sig.ident.span())
}

/// The argument type that hands the index to handlers: checked at compile time, because
/// it exists only where the index does.
fn index_type(krate: &Path, function: &ItemFn, args: &Args) -> TokenStream {
    let p = quote!(#krate::__private);
    let vis = &function.vis;
    let name = index_type_name(function);
    let id = match args.get("id") {
        Some(OptionValue::Str(s)) => s.value(),
        _ => function.sig.ident.to_string(),
    };
    let doc = format!(
        "The index of `{}`, as handlers take it (generated by `#[kopf::index]`).",
        function.sig.ident
    );
    quote! {
        #[doc = #doc]
        #[derive(Clone)]
        #vis struct #name(pub #krate::Index);

        impl ::core::ops::Deref for #name {
            type Target = #krate::Index;
            fn deref(&self) -> &#krate::Index {
                &self.0
            }
        }

        impl<F: #p::Family> #p::FromCause<F> for #name
        where
            F::Cause: #p::OperatorCause,
        {
            fn from_cause(cause: &F::Cause) -> ::core::result::Result<Self, #p::Error> {
                ::core::result::Result::Ok(#name(#p::OperatorCause::shared(cause).indices.index(#id)))
            }
        }
    }
}
