//! Bounds on what the layer sends, applied without recursion so that no value, however deep,
//! can overflow a stack.
//!
//! A structured value attached with [`HoneyHiveSpanExt`](crate::HoneyHiveSpanExt) keeps at most
//! [`MAX_DEPTH`] levels of nesting (the attached value is level 1): an array or object deeper
//! than that is replaced by the string [`DEPTH_MARKER`], and each cut counts in
//! [`Stats::fields_truncated`](crate::Stats::fields_truncated). HoneyHive's own limits are not
//! published; JSON parsers commonly stop at 128 levels, and the layer stays well below.

use serde_json::Value;

/// The deepest nesting kept in a structured value.
pub const MAX_DEPTH: usize = 64;

/// What replaces an array or object nested deeper than [`MAX_DEPTH`].
pub const DEPTH_MARKER: &str = "[cut: nested deeper than 64 levels]";

/// Replaces every array or object of `value` nested deeper than `max` levels with
/// [`DEPTH_MARKER`]; returns how many were cut. Walks and drops iteratively.
pub(crate) fn bound_depth(value: &mut Value, max: usize) -> u32 {
    let mut cut = 0u32;
    let mut stack: Vec<(&mut Value, usize)> = vec![(value, 1)];
    while let Some((value, depth)) = stack.pop() {
        let container = matches!(value, Value::Array(_) | Value::Object(_));
        if container && depth > max {
            let deep = std::mem::replace(value, Value::String(DEPTH_MARKER.to_owned()));
            dismantle(deep);
            cut = cut.saturating_add(1);
            continue;
        }
        match value {
            Value::Array(items) => stack.extend(items.iter_mut().map(|v| (v, depth + 1))),
            Value::Object(map) => stack.extend(map.values_mut().map(|v| (v, depth + 1))),
            _ => {}
        }
    }
    cut
}

/// Drops `value` one container at a time: serde_json's own drop recurses, and a value nested
/// deep enough would overflow the stack.
fn dismantle(value: Value) {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// `[[[…[leaf]…]]]` with `depth` arrays.
    fn nested(depth: usize, leaf: Value) -> Value {
        let mut value = leaf;
        for _ in 0..depth {
            value = Value::Array(vec![value]);
        }
        value
    }

    #[test]
    fn values_within_the_limit_are_untouched() {
        let mut value = json!({"a": [1, {"b": [2, 3]}], "c": "text"});
        let before = value.clone();
        assert_eq!(bound_depth(&mut value, 4), 0);
        assert_eq!(value, before);
        let mut exact = nested(MAX_DEPTH, json!(1));
        assert_eq!(bound_depth(&mut exact, MAX_DEPTH), 0);
    }

    #[test]
    fn containers_past_the_limit_become_the_marker_and_are_counted() {
        let mut value = json!({"keep": {"inner": [1, [2]]}, "flat": 1});
        assert_eq!(bound_depth(&mut value, 3), 1);
        assert_eq!(
            value,
            json!({"keep": {"inner": [1, DEPTH_MARKER]}, "flat": 1})
        );
        let mut two = json!([[["x"]], [["y"]]]);
        assert_eq!(bound_depth(&mut two, 2), 2);
        assert_eq!(two, json!([[DEPTH_MARKER], [DEPTH_MARKER]]));
    }

    #[test]
    fn a_value_nested_a_million_levels_is_cut_without_overflowing_the_stack() {
        // Built and checked on a thread with a small stack: nothing here may recurse.
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let mut value = nested(1_000_000, json!("leaf"));
                assert_eq!(bound_depth(&mut value, MAX_DEPTH), 1);
                let mut probe = &value;
                let mut depth = 0;
                while let Value::Array(items) = probe {
                    depth += 1;
                    probe = &items[0];
                }
                assert_eq!(depth, MAX_DEPTH);
                assert_eq!(probe, &json!(DEPTH_MARKER));
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
