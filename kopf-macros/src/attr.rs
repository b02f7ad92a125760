//! Parsing of handler attributes: `("group", "v1", "plural", option = value, …)`.

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitBool, LitStr, Path, Token, Type, braced};

/// The operations an admission webhook can be for.
pub const OPERATIONS: [&str; 4] = ["CREATE", "UPDATE", "DELETE", "CONNECT"];

/// Which decorator.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Create,
    Update,
    Delete,
    Resume,
    Field,
    Event,
    Daemon,
    Timer,
    Index,
    Startup,
    Cleanup,
    Login,
    Probe,
    Validate,
    Mutate,
}

/// Which family a decorator's handlers belong to (the runtime's family types).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Changing,
    Watching,
    Spawning,
    Indexing,
    Activity,
    Admission,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Create => "create",
            Kind::Update => "update",
            Kind::Delete => "delete",
            Kind::Resume => "resume",
            Kind::Field => "field",
            Kind::Event => "event",
            Kind::Daemon => "daemon",
            Kind::Timer => "timer",
            Kind::Index => "index",
            Kind::Startup => "startup",
            Kind::Cleanup => "cleanup",
            Kind::Login => "login",
            Kind::Probe => "probe",
            Kind::Validate => "validate",
            Kind::Mutate => "mutate",
        }
    }

    /// The attribute as users write it: `kopf::on::create`, `kopf::daemon`, …
    pub fn path(self) -> String {
        match self.family() {
            Family::Spawning | Family::Indexing => format!("kopf::{}", self.name()),
            _ => format!("kopf::on::{}", self.name()),
        }
    }

    pub fn family(self) -> Family {
        match self {
            Kind::Event => Family::Watching,
            Kind::Daemon | Kind::Timer => Family::Spawning,
            Kind::Index => Family::Indexing,
            Kind::Startup | Kind::Cleanup | Kind::Login | Kind::Probe => Family::Activity,
            Kind::Validate | Kind::Mutate => Family::Admission,
            _ => Family::Changing,
        }
    }

    pub fn variant(self) -> &'static str {
        match self {
            Kind::Create => "Create",
            Kind::Update => "Update",
            Kind::Delete => "Delete",
            Kind::Resume => "Resume",
            Kind::Field => "Field",
            Kind::Event => "Event",
            Kind::Daemon => "Daemon",
            Kind::Timer => "Timer",
            Kind::Index => "Index",
            Kind::Startup => "Startup",
            Kind::Cleanup => "Cleanup",
            Kind::Login => "Login",
            Kind::Probe => "Probe",
            Kind::Validate => "Validate",
            Kind::Mutate => "Mutate",
        }
    }

    /// Options this decorator accepts, as kopf's (§1.1): every resource handler's, the
    /// retry options of changing and spawning handlers, and each decorator's own.
    fn options(self) -> Vec<&'static str> {
        const RESOURCE: &[&str] = &[
            "id",
            "field",
            "value",
            "labels",
            "annotations",
            "when",
            "param",
        ];
        const RETRY: &[&str] = &["errors", "retries", "backoff", "timeout"];
        if self.family() == Family::Activity {
            return [&["id", "param", "crate"], RETRY].concat();
        }
        if self.family() == Family::Admission {
            const ADMISSION: &[&str] = &[
                "operation",
                "operations",
                "subresource",
                "persistent",
                "side_effects",
                "ignore_failures",
            ];
            return [RESOURCE, &["crate"], ADMISSION].concat();
        }
        let own: &[&str] = match self {
            Kind::Update | Kind::Field => &["old", "new"],
            Kind::Delete => &["optional"],
            Kind::Resume => &["deleted"],
            Kind::Daemon => &[
                "initial_delay",
                "cancellation_backoff",
                "cancellation_timeout",
                "cancellation_polling",
            ],
            Kind::Timer => &["interval", "initial_delay", "idle", "sharp"],
            _ => &[],
        };
        let retry = if matches!(self.family(), Family::Watching | Family::Indexing) {
            &[]
        } else {
            RETRY
        };
        [RESOURCE, retry, &["crate"], own].concat()
    }
}

/// What the handler selects.
pub enum Selector {
    Strings(Vec<LitStr>),
    Type(Box<Type>),
}

/// One `key: filter` entry of `labels = {…}` / `annotations = {…}`.
pub struct MapEntry {
    pub key: LitStr,
    pub value: Expr,
}

impl Parse for MapEntry {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: LitStr = input.parse()?;
        input.parse::<Token![:]>()?;
        let value: Expr = input.parse()?;
        Ok(MapEntry { key, value })
    }
}

/// A parsed option value.
pub enum OptionValue {
    Str(LitStr),
    Bool(LitBool),
    Expr(Expr),
    Map(Vec<MapEntry>),
    Path(Path),
    /// `["CREATE", "UPDATE"]`.
    Strings(Vec<LitStr>),
}

/// One `name = value` option.
pub struct Opt {
    pub name: Ident,
    pub value: OptionValue,
}

/// The whole attribute.
pub struct Args {
    pub selector: Option<Selector>,
    pub options: Vec<Opt>,
}

/// Raw items in order, before validation.
enum Item {
    Str(LitStr),
    Type(Box<Type>),
    Opt(Ident, TokenStream),
}

impl Parse for Item {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(LitStr) {
            return Ok(Item::Str(input.parse()?));
        }
        if (input.peek(Ident) || input.peek(Token![crate]))
            && input.peek2(Token![=])
            && !input.peek2(Token![==])
        {
            let name = if input.peek(Token![crate]) {
                let kw: Token![crate] = input.parse()?;
                Ident::new("crate", kw.span)
            } else {
                input.parse::<Ident>()?
            };
            input.parse::<Token![=]>()?;
            // Keep the raw tokens up to the next top-level comma; typed per option later.
            let mut tokens = TokenStream::new();
            while !input.is_empty() && !input.peek(Token![,]) {
                let tt: proc_macro2::TokenTree = input.parse()?;
                tokens.extend(std::iter::once(tt));
            }
            return Ok(Item::Opt(name, tokens));
        }
        Ok(Item::Type(Box::new(input.parse()?)))
    }
}

fn parse_value(kind: Kind, name: &Ident, tokens: TokenStream) -> syn::Result<OptionValue> {
    if tokens.is_empty() {
        return Err(syn::Error::new_spanned(
            name,
            format!("option `{name}` needs a value"),
        ));
    }
    let key = name.to_string();
    let _ = kind;
    Ok(match key.as_str() {
        "id" | "field" | "crate" | "operation" | "subresource" => {
            OptionValue::Str(syn::parse2(tokens)?)
        }
        "optional" | "deleted" | "sharp" | "persistent" | "side_effects" | "ignore_failures" => {
            OptionValue::Bool(syn::parse2(tokens)?)
        }
        "operations" => {
            let parser = |input: ParseStream| {
                let content;
                syn::bracketed!(content in input);
                let items = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
                Ok(items.into_iter().collect::<Vec<_>>())
            };
            OptionValue::Strings(syn::parse::Parser::parse2(parser, tokens)?)
        }
        "labels" | "annotations" => {
            let parser = |input: ParseStream| {
                let content;
                braced!(content in input);
                let entries = Punctuated::<MapEntry, Token![,]>::parse_terminated(&content)?;
                Ok(entries.into_iter().collect::<Vec<_>>())
            };
            OptionValue::Map(syn::parse::Parser::parse2(parser, tokens)?)
        }
        "errors" => match syn::parse2::<Path>(tokens.clone()) {
            Ok(path) => OptionValue::Path(path),
            Err(_) => OptionValue::Expr(syn::parse2(tokens)?),
        },
        _ => OptionValue::Expr(syn::parse2(tokens)?),
    })
}

impl Args {
    /// Parses and validates the attribute arguments for one decorator.
    pub fn parse(kind: Kind, tokens: TokenStream) -> syn::Result<Args> {
        let items =
            syn::parse::Parser::parse2(Punctuated::<Item, Token![,]>::parse_terminated, tokens)?;
        let mut strings: Vec<LitStr> = Vec::new();
        let mut ty: Option<Box<Type>> = None;
        let mut options: Vec<Opt> = Vec::new();
        let mut errors: Option<syn::Error> = None;
        let mut push = |e: syn::Error| match &mut errors {
            Some(all) => all.combine(e),
            None => errors = Some(e),
        };
        for item in items {
            match item {
                Item::Str(lit) => {
                    if !options.is_empty() {
                        push(syn::Error::new_spanned(
                            &lit,
                            "the resource selector must come before the options",
                        ));
                    } else if ty.is_some() {
                        push(syn::Error::new_spanned(
                            &lit,
                            "select a resource either by strings or by a type, not both",
                        ));
                    } else if strings.len() == 3 {
                        push(syn::Error::new_spanned(
                            &lit,
                            "a resource is selected by 1 to 3 strings: (\"plural\"), (\"v1\", \"plural\"), or (\"group\", \"version\", \"plural\")",
                        ));
                    } else {
                        strings.push(lit);
                    }
                }
                Item::Type(t) => {
                    if !strings.is_empty() || ty.is_some() {
                        push(syn::Error::new_spanned(
                            &t,
                            "select a resource either by strings or by one type",
                        ));
                    } else if !options.is_empty() {
                        push(syn::Error::new_spanned(
                            &t,
                            "the resource selector must come before the options",
                        ));
                    } else {
                        ty = Some(t);
                    }
                }
                Item::Opt(name, tokens) => {
                    let key = name.to_string();
                    if !kind.options().contains(&key.as_str()) {
                        let hint = match key.as_str() {
                            "optional" => {
                                " (`optional` is only valid on `#[kopf::on::delete]`)".to_string()
                            }
                            "deleted" => {
                                " (`deleted` is only valid on `#[kopf::on::resume]`)".to_string()
                            }
                            "old" | "new" => format!(
                                " (`{key}` is only valid on `#[kopf::on::update]` and `#[kopf::on::field]`)"
                            ),
                            _ => format!("; expected one of: {}", kind.options().join(", ")),
                        };
                        push(syn::Error::new_spanned(
                            &name,
                            format!("unknown option `{key}` for `#[{}]`{hint}", kind.path()),
                        ));
                        continue;
                    }
                    if options.iter().any(|o| o.name == name) {
                        push(syn::Error::new_spanned(
                            &name,
                            format!("duplicate option `{key}`"),
                        ));
                        continue;
                    }
                    match parse_value(kind, &name, tokens) {
                        Ok(value) => options.push(Opt { name, value }),
                        Err(e) => push(e),
                    }
                }
            }
        }
        let selector = match (strings.is_empty(), ty) {
            _ if kind.family() == Family::Activity => {
                if let Some(first) = strings.first() {
                    push(syn::Error::new_spanned(
                        first,
                        format!(
                            "`#[{}]` is about the operator, not a resource: it takes no selector",
                            kind.path()
                        ),
                    ));
                }
                None
            }
            (false, _) => Some(Selector::Strings(strings)),
            (true, Some(t)) => Some(Selector::Type(t)),
            (true, None) => {
                push(syn::Error::new(
                    Span::call_site(),
                    format!(
                        "`#[{}]` needs a resource: 1 to 3 strings (\"kopfexamples\", \"v1\", \"pods\", …) or a resource type",
                        kind.path()
                    ),
                ));
                None
            }
        };
        let args = Args { selector, options };
        if kind == Kind::Field && args.get("field").is_none() {
            push(syn::Error::new(
                Span::call_site(),
                "`#[kopf::on::field]` needs `field = \"spec.…\"`",
            ));
        }
        for key in ["value", "old", "new"] {
            if let (Some(opt), None) = (args.option(key), args.get("field")) {
                push(syn::Error::new_spanned(
                    &opt.name,
                    format!("option `{key}` needs `field = \"…\"`"),
                ));
            }
        }
        if let Some(OptionValue::Str(field)) = args.get("field") {
            let text = field.value();
            if text.is_empty() || text.split('.').any(str::is_empty) {
                push(syn::Error::new_spanned(
                    field,
                    "`field` is a dotted path such as \"spec.field\"",
                ));
            }
        }
        for lit in args.operations() {
            if !OPERATIONS.contains(&lit.value().as_str()) {
                push(syn::Error::new_spanned(
                    lit,
                    format!(
                        "unknown operation {:?}; expected one of: {}",
                        lit.value(),
                        OPERATIONS.join(", ")
                    ),
                ));
            }
        }
        if let Some(OptionValue::Strings(list)) = args.get("operations")
            && list.is_empty()
            && let Some(opt) = args.option("operations")
        {
            push(syn::Error::new_spanned(
                &opt.name,
                "`operations` is either omitted (all operations) or not empty",
            ));
        }
        match errors {
            Some(e) => Err(e),
            None => Ok(args),
        }
    }

    /// `operation = …` and `operations = […]` together (kopf's union of both), in order.
    pub fn operations(&self) -> Vec<&LitStr> {
        let mut all: Vec<&LitStr> = Vec::new();
        if let Some(OptionValue::Strings(list)) = self.get("operations") {
            all.extend(list.iter());
        }
        if let Some(OptionValue::Str(one)) = self.get("operation") {
            all.push(one);
        }
        let mut seen: Vec<String> = Vec::new();
        all.retain(|lit| {
            let fresh = !seen.contains(&lit.value());
            seen.push(lit.value());
            fresh
        });
        all
    }

    pub fn option(&self, key: &str) -> Option<&Opt> {
        self.options.iter().find(|o| o.name == key)
    }

    pub fn get(&self, key: &str) -> Option<&OptionValue> {
        self.option(key).map(|o| &o.value)
    }
}
