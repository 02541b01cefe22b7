//! `#[trace]` and `traced!` at compile time: each misuse in `trace_ui/fail/` is a compile error
//! pointing at the offending token (its `.stderr` snapshot shows where), and each case in
//! `trace_ui/pass/` — generics, `impl Trait`, methods, borrowed returns, `?` — compiles and runs.
//!
//! Refresh the snapshots after a deliberate change with `TRYBUILD=overwrite`, then read them.
#![cfg(feature = "macros")]

#[test]
fn trace_ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/trace_ui/fail/*.rs");
    cases.pass("tests/trace_ui/pass/*.rs");
}
