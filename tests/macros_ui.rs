//! Compile-time behaviour of the handler attributes: what compiles, and the errors users see.
//!
//! Refresh the snapshots with `TRYBUILD=overwrite` after a compiler upgrade, then review them.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
