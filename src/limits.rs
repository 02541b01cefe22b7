//! Bounds on what the layer sends, applied without recursion so that no value, however deep,
//! can overflow a stack.
//!
//! A structured value attached with [`HoneyHiveSpanExt`](crate::HoneyHiveSpanExt) keeps at most
//! [`MAX_DEPTH`] levels of nesting (the attached value is level 1): an array or object deeper
//! than that is replaced by the string [`DEPTH_MARKER`], and each cut counts in
//! [`Stats::fields_truncated`](crate::Stats::fields_truncated). HoneyHive's own limits are not
//! published; JSON parsers commonly stop at 128 levels, and the layer stays well below.
//!
//! Sizes, in bytes of JSON:
//!
//! | what | limit | when it is passed |
//! |---|---|---|
//! | one field's text | [`with_max_field_bytes`](crate::layer::Builder::with_max_field_bytes), 256 KiB | the text is cut at a character boundary and ends with a marker |
//! | one event | [`MAX_EVENT_BYTES`], 1 MiB | its largest values are replaced, largest first, by a marker naming their size, until it fits |
//! | one batch request | [`MAX_BATCH_BYTES`], 4 MiB | the batch is split; an event always goes, alone if need be |
//!
//! Every cut counts in [`Stats::fields_truncated`](crate::Stats::fields_truncated): an event is
//! trimmed, never refused whole or dropped silently.

use std::fmt::Write as _;

use serde_json::Value;

use crate::wire::Event;

/// The largest event sent, in bytes of JSON.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// The largest batch request sent, in bytes of JSON (a larger event goes alone).
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

/// The deepest nesting kept in a structured value.
pub const MAX_DEPTH: usize = 64;

/// The most text a field holding a whole object as JSON (`honeyhive.inputs`, what `#[trace]`
/// records) keeps before it is parsed: twice the event limit, since `#[trace]` fits what it
/// writes to the event limit. Longer text is cut like any field, and is then kept as text.
pub(crate) const MAX_JSON_FIELD_BYTES: usize = 2 * MAX_EVENT_BYTES;

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

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
pub(crate) fn prefix(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `s`, cut to `max` bytes with a marker naming how much was left out.
pub(crate) fn bounded(s: &str, max: usize, truncated: &mut u32) -> String {
    let mut out = String::new();
    push_bounded(&mut out, s, max, truncated);
    out
}

/// Appends `s` to `out`, cut to `max` bytes with a marker naming how much was left out (the
/// layer's draft writes into its arena this way).
pub(crate) fn push_bounded(out: &mut String, s: &str, max: usize, truncated: &mut u32) {
    if s.len() <= max {
        out.push_str(s);
        return;
    }
    *truncated += 1;
    let kept = prefix(s, max);
    out.push_str(kept);
    let _ = write!(out, "…[truncated {} bytes]", s.len() - kept.len());
}

/// Bytes of `value` as JSON, counted without building the text.
pub(crate) fn json_size(value: &impl serde::Serialize) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, value) {
        Ok(()) => count.0,
        Err(_) => usize::MAX,
    }
}

/// Trims `event` to at most `max` bytes of JSON: the largest value of its `inputs`, `outputs`,
/// `config`, `metadata`, `metrics`, `feedback` or `user_properties` is replaced by a marker
/// naming its size, then the next largest, until it fits. Returns the event's size and how many
/// values were cut. An event whose fixed fields alone exceed `max` keeps them.
pub(crate) fn fit_event(event: &mut Event, max: usize) -> (usize, u32) {
    let size = json_size(event);
    if size <= max {
        return (size, 0);
    }
    let buckets = [
        Some(&mut event.inputs),
        event.outputs.as_mut(),
        event.config.as_mut(),
        event.metadata.as_mut(),
        event.metrics.as_mut(),
        event.feedback.as_mut(),
        event.user_properties.as_mut(),
    ];
    let values = buckets
        .into_iter()
        .flatten()
        .flat_map(|map| map.values_mut());
    let cut = cut_largest(values, size, max);
    (json_size(event), cut)
}

/// Trims a structured value to at most `max` bytes of JSON by the event rule, as it is attached
/// (so that it is held at the size it will be sent at): the largest entries of an object are
/// replaced by a marker naming their size, largest first, until it fits; any other value too
/// large is replaced whole. Returns how many values were cut.
pub(crate) fn fit_value(value: &mut Value, max: usize) -> u32 {
    let size = json_size(value);
    if size <= max {
        return 0;
    }
    let mut cut = 0;
    if let Value::Object(map) = value {
        cut = cut_largest(map.values_mut(), size, max);
        if json_size(&*value) <= max {
            return cut;
        }
    }
    let size = json_size(&*value);
    dismantle(std::mem::replace(value, Value::String(marker(size, max))));
    cut.saturating_add(1)
}

/// What replaces a value of `bytes` cut for the `max`-byte event limit.
fn marker(bytes: usize, max: usize) -> String {
    format!("[cut: {bytes} bytes, over the {max}-byte event limit]")
}

/// Replaces `values`, largest first, by a marker naming their size until what holds them, of
/// `size` bytes, fits in `max`; how many were cut. Each cut saves its size less the marker's, so
/// nothing is measured again.
fn cut_largest<'a>(
    values: impl Iterator<Item = &'a mut Value>,
    mut size: usize,
    max: usize,
) -> u32 {
    let mut values: Vec<(usize, &mut Value)> = values.map(|v| (json_size(&*v), v)).collect();
    values.sort_by_key(|v| std::cmp::Reverse(v.0));
    let mut cut = 0u32;
    for (bytes, slot) in values {
        if size <= max {
            break;
        }
        let marker = marker(bytes, max);
        let saved = bytes.saturating_sub(json_size(&marker));
        if saved == 0 {
            break;
        }
        dismantle(std::mem::replace(slot, Value::String(marker)));
        size -= saved;
        cut = cut.saturating_add(1);
    }
    cut
}

/// Splits events of the given sizes into consecutive batches of at most `max_events` events and
/// `max_bytes` bytes (an event larger than that goes alone): the end index of each batch.
pub(crate) fn batch_ends(sizes: &[usize], max_events: usize, max_bytes: usize) -> Vec<usize> {
    let mut ends = Vec::new();
    let (mut count, mut bytes) = (0, 0usize);
    for (i, &size) in sizes.iter().enumerate() {
        // `{"events":[` … `]}` and the commas between events.
        let cost = size.saturating_add(1);
        if count > 0 && (count == max_events.max(1) || bytes.saturating_add(cost) > max_bytes) {
            ends.push(i);
            count = 0;
        }
        if count == 0 {
            bytes = 13;
        }
        count += 1;
        bytes = bytes.saturating_add(cost);
    }
    if count > 0 {
        ends.push(sizes.len());
    }
    ends
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::wire::{EventType, JsonObject};

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

    #[test]
    fn long_text_is_cut_on_a_character_boundary_with_a_marker() {
        let mut truncated = 0;
        assert_eq!(bounded("short", 10, &mut truncated), "short");
        assert_eq!(truncated, 0);
        let cut = bounded("ééééé", 3, &mut truncated);
        assert_eq!(cut, "é…[truncated 8 bytes]");
        assert_eq!(truncated, 1);
    }

    #[test]
    fn json_size_is_the_length_of_the_text() {
        let value = json!({"a": [1, "two", null], "é": "ü"});
        assert_eq!(json_size(&value), serde_json::to_vec(&value).unwrap().len());
    }

    #[test]
    fn a_value_attached_over_the_event_limit_is_trimmed_by_the_event_rule() {
        let big = "x".repeat(3000);
        let mut value = json!({"document": big, "question": "why?", "pages": ["y".repeat(1500)]});
        assert_eq!(
            fit_value(&mut value.clone(), 2000),
            1,
            "the largest is enough"
        );
        assert_eq!(fit_value(&mut value, 1000), 2, "then the next largest");
        assert_eq!(value["question"], "why?", "what fits stays");
        assert_eq!(
            value["document"],
            "[cut: 3002 bytes, over the 1000-byte event limit]"
        );
        assert!(json_size(&value) <= 1000);
        // Not an object: replaced whole; within the limit: untouched.
        let mut text = json!("z".repeat(5000));
        assert_eq!(fit_value(&mut text, 2000), 1);
        assert_eq!(
            text,
            json!("[cut: 5002 bytes, over the 2000-byte event limit]")
        );
        let mut small = json!({"a": 1});
        assert_eq!(fit_value(&mut small, 2000), 0);
        assert_eq!(small, json!({"a": 1}));
    }

    #[test]
    fn an_event_over_the_limit_loses_its_largest_values_first() {
        let mut event = Event::new(EventType::Tool);
        event.inputs.insert("small".into(), json!("s".repeat(100)));
        event.inputs.insert("big".into(), json!("b".repeat(5000)));
        let mut metadata = JsonObject::new();
        metadata.insert("bigger".into(), json!(["m".repeat(8000)]));
        event.metadata = Some(metadata);
        let (size, cut) = fit_event(&mut event, 6000);
        assert_eq!(cut, 1, "the largest alone was enough");
        assert!(size <= 6000, "{size}");
        assert_eq!(size, json_size(&event));
        assert_eq!(
            event.metadata.as_ref().unwrap()["bigger"],
            json!("[cut: 8004 bytes, over the 6000-byte event limit]")
        );
        assert_eq!(event.inputs["big"], json!("b".repeat(5000)), "kept");
        let (size, cut) = fit_event(&mut event, 1000);
        assert_eq!(cut, 1);
        assert!(size <= 1000, "{size}");
        assert_eq!(event.inputs["small"], json!("s".repeat(100)), "kept");
    }

    #[test]
    fn an_event_within_the_limit_is_untouched() {
        let mut event = Event::new(EventType::Chain);
        event.inputs.insert("q".into(), json!("hello"));
        let before = event.clone();
        assert_eq!(fit_event(&mut event, MAX_EVENT_BYTES).1, 0);
        assert_eq!(event, before);
    }

    #[test]
    fn batches_are_split_by_count_and_by_bytes_and_a_huge_event_goes_alone() {
        assert_eq!(batch_ends(&[10; 5], 2, 1000), [2, 4, 5]);
        assert_eq!(batch_ends(&[400, 400, 400], 100, 1000), [2, 3]);
        assert_eq!(batch_ends(&[10, 5000, 10], 100, 1000), [1, 2, 3]);
        assert_eq!(batch_ends(&[], 100, 1000), Vec::<usize>::new());
    }
}
