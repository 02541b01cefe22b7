//! JSON bodies nested as deeply as HoneyHive accepts them, without overflowing a stack: an
//! iterative pre-scan that bounds the depth, serde_json without its recursion limit, and large
//! stacks for the work that recurses once per level (parsing, schema validation, cloning,
//! serialising, dropping).

use serde::Deserialize;
use serde_json::{Map, Value};

/// The deepest nesting of arrays and objects the local server accepts in a request body,
/// counting the body's own object as level 1; a deeper body is answered 400 with a message that
/// names this limit.
///
/// HoneyHive's API (Node.js) parses bodies of any depth, far beyond serde_json's default limit
/// of 128 levels; this limit only keeps the server's own stack bounded and leaves every field
/// room for more than 16,000 levels.
pub const MAX_JSON_DEPTH: usize = 16_384;

/// The stack of the server's thread and of the helper threads that clone or drop deep values.
///
/// In a debug build, the server's deepest work on a body of [`MAX_JSON_DEPTH`] nested objects
/// (parse, validate, clone, store, answer, drop) overflows 16 MiB but fits in 32 MiB; this is
/// four times that. Only the pages touched are committed.
pub(crate) const STACK_SIZE: usize = 128 * 1024 * 1024;

/// Nesting that a thread with an ordinary stack handles: serde_json's default recursion limit.
pub(crate) const SHALLOW_DEPTH: usize = 128;

/// Why bytes are not a JSON value the server takes.
#[derive(Debug)]
pub(crate) enum Refused {
    /// Nested deeper than [`MAX_JSON_DEPTH`].
    TooDeep,
    /// Not JSON.
    Invalid(serde_json::Error),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::TooDeep => write!(
                f,
                "nested more than {MAX_JSON_DEPTH} levels deep, the local server's limit"
            ),
            Refused::Invalid(e) => write!(f, "not valid JSON: {e}"),
        }
    }
}

/// The deepest nesting of arrays and objects in `bytes` (brackets inside strings do not count),
/// counted in one pass without recursion; counting stops just past [`MAX_JSON_DEPTH`]. Exact for
/// valid JSON; for anything else a number the parser refuses afterwards anyway.
pub(crate) fn depth(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &byte in bytes {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > deepest {
                    deepest = depth;
                    if deepest > MAX_JSON_DEPTH {
                        break;
                    }
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// `bytes` as one JSON value of any depth up to [`MAX_JSON_DEPTH`]. Parsing recurses once per
/// level: deep input needs a thread with a [`STACK_SIZE`] stack.
pub(crate) fn parse(bytes: &[u8]) -> Result<Value, Refused> {
    if depth(bytes) > MAX_JSON_DEPTH {
        return Err(Refused::TooDeep);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    deserializer.disable_recursion_limit();
    let value = Value::deserialize(&mut deserializer).map_err(Refused::Invalid)?;
    deserializer.end().map_err(Refused::Invalid)?;
    Ok(value)
}

/// How deeply the object `map` nests arrays and objects (the object itself is level 1), walked
/// without recursion.
pub(crate) fn map_depth(map: &Map<String, Value>) -> usize {
    let mut deepest = 1;
    let mut pending: Vec<(&Value, usize)> = map.values().map(|v| (v, 2)).collect();
    while let Some((value, level)) = pending.pop() {
        match value {
            Value::Array(items) => {
                deepest = deepest.max(level);
                pending.extend(items.iter().map(|v| (v, level + 1)));
            }
            Value::Object(map) => {
                deepest = deepest.max(level);
                pending.extend(map.values().map(|v| (v, level + 1)));
            }
            _ => {}
        }
    }
    deepest
}

/// Runs `work` on a new thread with a [`STACK_SIZE`] stack and waits for its result; a panic in
/// `work` is resumed here.
pub(crate) fn on_large_stack<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("honeyhive-emulator-deep-json".into())
            .stack_size(STACK_SIZE)
            .spawn_scoped(scope, work)
            .unwrap_or_else(|e| panic!("cannot start a thread for deeply nested JSON: {e}"));
        handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_nesting_outside_strings() {
        assert_eq!(depth(b"1"), 0);
        assert_eq!(depth(b"{}"), 1);
        assert_eq!(depth(br#"{"a": [1, {"b": []}], "c": {}}"#), 4);
        assert_eq!(depth(br#"{"a": "[[[{{{\"[[", "b": ["\\"]}"#), 2);
        assert_eq!(depth(b"[[]][[[]]]"), 3);
    }

    #[test]
    fn depth_stops_counting_past_the_limit() {
        let huge = "[".repeat(10 * MAX_JSON_DEPTH);
        assert_eq!(depth(huge.as_bytes()), MAX_JSON_DEPTH + 1);
    }

    #[test]
    fn parse_accepts_the_limit_and_refuses_one_level_more() {
        let nested = |levels: usize| format!("{}{}", "[".repeat(levels), "]".repeat(levels));
        let at_limit = nested(MAX_JSON_DEPTH);
        let value = on_large_stack(|| parse(at_limit.as_bytes()).map(|_| ()));
        assert!(value.is_ok(), "{value:?}");
        let over = nested(MAX_JSON_DEPTH + 1);
        let refused = parse(over.as_bytes()).unwrap_err();
        assert!(matches!(refused, Refused::TooDeep));
        assert!(refused.to_string().contains("16384 levels"), "{refused}");
        assert!(matches!(parse(b"{} {}"), Err(Refused::Invalid(_))));
        assert!(matches!(parse(b"[[]"), Err(Refused::Invalid(_))));
    }

    #[test]
    fn map_depth_walks_every_value() {
        let Value::Object(map) = serde_json::json!({"a": 1, "b": [[{"c": {}}]], "d": {}}) else {
            unreachable!("an object literal");
        };
        assert_eq!(map_depth(&map), 5);
        assert_eq!(map_depth(&Map::new()), 1);
    }
}
