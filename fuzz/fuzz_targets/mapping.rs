//! Arbitrary fields and structured values on a span: the mapping never panics, and every body
//! it makes is valid against the contract's schemas and within the size policy.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tracing_honeyhive::fuzzing::{FuzzSpan, FuzzValue, check};

#[derive(Debug, Arbitrary)]
enum Value {
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(String),
}

#[derive(Debug, Arbitrary)]
struct Input {
    fields: Vec<(u8, Value)>,
    /// Each parsed as JSON; what does not parse is skipped.
    json: Vec<(u8, Vec<u8>)>,
    root: bool,
    start_ms: i64,
    duration_ms: f64,
    children: u16,
    max_field_bytes: u16,
}

fuzz_target!(|input: Input| {
    let span = FuzzSpan {
        fields: input
            .fields
            .into_iter()
            .map(|(name, value)| {
                let value = match value {
                    Value::Bool(b) => FuzzValue::Bool(b),
                    Value::I64(n) => FuzzValue::I64(n),
                    Value::U64(n) => FuzzValue::U64(n),
                    Value::F64(n) => FuzzValue::F64(n),
                    Value::Str(s) => FuzzValue::Str(s),
                };
                (name, value)
            })
            .collect(),
        json: input
            .json
            .into_iter()
            .filter_map(|(bucket, bytes)| Some((bucket, serde_json::from_slice(&bytes).ok()?)))
            .collect(),
        root: input.root,
        start_ms: input.start_ms,
        duration_ms: input.duration_ms,
        children: input.children % 2048,
        max_field_bytes: input.max_field_bytes,
    };
    check(span);
});
