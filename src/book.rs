//! The book's chapters (`docs/src/*.md`) as doctests: every ```rust block in them is
//! compiled (and run, unless marked `no_run`) by `cargo test -p kopf --doc --all-features`.
//! `tests/docs_links.rs` checks that this list and `docs/src/SUMMARY.md` agree.

macro_rules! chapters {
    ($($name:ident => $file:literal),* $(,)?) => {$(
        #[doc = include_str!(concat!("../docs/src/", $file))]
        pub struct $name;
    )*};
}

chapters! {
    Introduction => "introduction.md",
    QuickStart => "quick-start.md",
    Walkthrough => "walkthrough.md",
    Handlers => "handlers.md",
    Arguments => "arguments.md",
    Errors => "errors.md",
    State => "state.md",
    SubHandlers => "subhandlers.md",
    DaemonsTimers => "daemons-timers.md",
    EventsIndexing => "events-indexing.md",
    Activities => "activities.md",
    Admission => "admission.md",
    PostingHierarchies => "posting-hierarchies.md",
    Replicas => "replicas.md",
    Testing => "testing.md",
    Deployment => "deployment.md",
    Cli => "cli.md",
    Migrating => "migrating.md",
}
