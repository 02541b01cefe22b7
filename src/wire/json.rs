//! An event written as JSON straight into a buffer: byte for byte what `serde_json` writes for
//! the same [`Event`] (the tests hold it to that), at a fraction of the cost. Strings, most of
//! an event's bytes, are scanned eight bytes at a time for the few that need escaping, and no
//! serializer state sits between the event and the buffer.

use std::io::Write as _;

use serde_json::Value;
use uuid::Uuid;

use super::{Event, JsonObject};
use crate::recorded::Bucket;

/// Appends `event` to `out` as `serde_json::to_writer` would.
pub(crate) fn write_event(event: &Event, out: &mut Vec<u8>) {
    write_event_with(event, event, out);
}

/// Where the writer finds an event's objects (`inputs`, `config`, …): in the [`Event`] itself,
/// or held apart in the mapping's own form.
pub(crate) trait Objects {
    /// Whether the object is sent (`inputs` always is).
    fn has(&self, bucket: Bucket) -> bool;
    /// Appends the object: `{…}`.
    fn write(&self, bucket: Bucket, out: &mut Vec<u8>);
}

impl Objects for Event {
    fn has(&self, bucket: Bucket) -> bool {
        bucket == Bucket::Inputs || own(self, bucket).is_some()
    }

    fn write(&self, bucket: Bucket, out: &mut Vec<u8>) {
        match own(self, bucket) {
            Some(map) => object(map, out),
            None => out.extend_from_slice(b"{}"),
        }
    }
}

/// The event's own object for `bucket`.
fn own(event: &Event, bucket: Bucket) -> Option<&JsonObject> {
    match bucket {
        Bucket::Inputs => Some(&event.inputs),
        Bucket::Outputs => event.outputs.as_ref(),
        Bucket::Config => event.config.as_ref(),
        Bucket::Metadata => event.metadata.as_ref(),
        Bucket::Metrics => event.metrics.as_ref(),
        Bucket::Feedback => event.feedback.as_ref(),
        Bucket::UserProperties => event.user_properties.as_ref(),
    }
}

/// Appends `event` to `out` as `serde_json::to_writer` would, its objects taken from `objects`.
pub(crate) fn write_event_with(event: &Event, objects: &impl Objects, out: &mut Vec<u8>) {
    // Every field named, so that a field added to `Event` cannot be forgotten here; the objects
    // are `objects`'.
    let Event {
        event_type,
        inputs: _,
        event_id,
        session_id,
        parent_id,
        children_ids,
        event_name,
        source,
        config: _,
        outputs: _,
        error,
        start_time,
        end_time,
        duration,
        metadata: _,
        feedback: _,
        metrics: _,
        user_properties: _,
        project_id,
    } = event;
    // In declaration order, absent fields left out, as the derived `Serialize` does.
    out.extend_from_slice(b"{\"event_type\":\"");
    out.extend_from_slice(event_type.as_str().as_bytes());
    out.extend_from_slice(b"\",\"inputs\":");
    objects.write(Bucket::Inputs, out);
    let mut fields = Fields(out);
    fields.uuid("event_id", *event_id);
    fields.uuid("session_id", *session_id);
    fields.uuid("parent_id", *parent_id);
    if let Some(ids) = children_ids {
        let out = fields.key("children_ids");
        out.push(b'[');
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            uuid(*id, out);
        }
        out.push(b']');
    }
    fields.text("event_name", event_name.as_deref());
    fields.text("source", source.as_deref());
    fields.object("config", objects, Bucket::Config);
    fields.object("outputs", objects, Bucket::Outputs);
    fields.text("error", error.as_deref());
    fields.integer("start_time", *start_time);
    fields.integer("end_time", *end_time);
    if let Some(duration) = duration.filter(|d| d.is_finite()) {
        float(duration, fields.key("duration"));
    }
    fields.object("metadata", objects, Bucket::Metadata);
    fields.object("feedback", objects, Bucket::Feedback);
    fields.object("metrics", objects, Bucket::Metrics);
    fields.object("user_properties", objects, Bucket::UserProperties);
    fields.text("project_id", project_id.as_deref());
    out.push(b'}');
}

/// The optional fields of an object being written, each after a comma.
struct Fields<'a>(&'a mut Vec<u8>);

impl Fields<'_> {
    /// Writes `,"name":` and returns the buffer for the value. The names are the wire's own,
    /// which need no escaping.
    fn key(&mut self, name: &str) -> &mut Vec<u8> {
        self.0.extend_from_slice(b",\"");
        self.0.extend_from_slice(name.as_bytes());
        self.0.extend_from_slice(b"\":");
        self.0
    }

    fn uuid(&mut self, name: &str, value: Option<Uuid>) {
        if let Some(id) = value {
            uuid(id, self.key(name));
        }
    }

    fn text(&mut self, name: &str, value: Option<&str>) {
        if let Some(text) = value {
            string(text, self.key(name));
        }
    }

    fn object(&mut self, name: &str, objects: &impl Objects, bucket: Bucket) {
        if objects.has(bucket) {
            objects.write(bucket, self.key(name));
        }
    }

    fn integer(&mut self, name: &str, value: Option<i64>) {
        if let Some(n) = value {
            self.key(name)
                .extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        }
    }
}

/// Appends `value` as `serde_json` writes it.
pub(crate) fn value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => number(n, out),
        Value::String(s) => string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                self::value(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => object(map, out),
    }
}

fn object(map: &JsonObject, out: &mut Vec<u8>) {
    out.push(b'{');
    for (i, (key, item)) in map.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(key, out);
        out.push(b':');
        value(item, out);
    }
    out.push(b'}');
}

/// A number as `serde_json` writes it: integers by `itoa`, floats by `Number`'s `Display`
/// (`serde_json`'s own shortest-form writer).
fn number(n: &serde_json::Number, out: &mut Vec<u8>) {
    let mut digits = itoa::Buffer::new();
    if let Some(u) = n.as_u64() {
        out.extend_from_slice(digits.format(u).as_bytes());
    } else if let Some(i) = n.as_i64() {
        out.extend_from_slice(digits.format(i).as_bytes());
    } else {
        // Writing into a `Vec` cannot fail.
        let _ = write!(out, "{n}");
    }
}

fn uuid(id: Uuid, out: &mut Vec<u8>) {
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    out.push(b'"');
    out.extend_from_slice(id.hyphenated().encode_lower(&mut text).as_bytes());
    out.push(b'"');
}

/// A finite float, as `serde_json` writes it (its own shortest-form writer, not `Display`).
fn float(n: f64, out: &mut Vec<u8>) {
    match serde_json::Number::from_f64(n) {
        Some(number) => {
            let _ = write!(out, "{number}");
        }
        None => out.extend_from_slice(b"null"),
    }
}

/// Whether any of the eight bytes of `word` must be escaped: a control character (below
/// `0x20`), `"` or `\`. Exact, by the usual "has a zero byte" test applied to each condition.
fn needs_escape(word: u64) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let below_space = word.wrapping_sub(ONES * 0x20);
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let zero_in = |x: u64| x.wrapping_sub(ONES);
    // Bytes at or above 0x80 (UTF-8 beyond ASCII) never count: `!word` clears their high bit.
    let found = below_space | (zero_in(quote) & !quote) | (zero_in(backslash) & !backslash);
    found & !word & HIGH != 0
}

/// Appends `text` as a JSON string, escaped as `serde_json` escapes it.
pub(crate) fn string(text: &str, out: &mut Vec<u8>) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // `copied` is where the bytes not yet written begin.
    let mut copied = 0;
    let mut words = bytes.chunks_exact(8);
    for (index, word) in words.by_ref().enumerate() {
        let word = u64::from_ne_bytes(word.try_into().unwrap_or_default());
        if needs_escape(word) {
            for i in index * 8..index * 8 + 8 {
                escape_at(bytes, i, &mut copied, out);
            }
        }
    }
    // The last bytes, padded with spaces (which need no escape) to a word: one test for them
    // all, as most strings (keys) are short.
    let tail = words.remainder();
    let at = bytes.len() - tail.len();
    let mut padded = [b' '; 8];
    padded[..tail.len()].copy_from_slice(tail);
    if needs_escape(u64::from_ne_bytes(padded)) {
        for i in at..bytes.len() {
            escape_at(bytes, i, &mut copied, out);
        }
    }
    out.extend_from_slice(&bytes[copied..]);
    out.push(b'"');
}

/// Escapes byte `i` of `bytes` if it must be, first writing the clean run before it.
fn escape_at(bytes: &[u8], i: usize, copied: &mut usize, out: &mut Vec<u8>) {
    let byte = bytes[i];
    let short = match byte {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x0c => b'f',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        0x00..=0x1f => b'u',
        _ => return,
    };
    out.extend_from_slice(&bytes[*copied..i]);
    *copied = i + 1;
    out.push(b'\\');
    out.push(short);
    if short == b'u' {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.extend_from_slice(&[
            b'0',
            b'0',
            HEX[usize::from(byte >> 4)],
            HEX[usize::from(byte & 0xf)],
        ]);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::wire::EventType;

    fn written(event: &Event) -> String {
        let mut out = Vec::new();
        write_event(event, &mut out);
        String::from_utf8(out).expect("valid UTF-8")
    }

    #[test]
    fn a_full_event_matches_serde_json() {
        let mut event = Event::new(EventType::Model);
        event.event_id = Some(Uuid::from_u128(1));
        event.session_id = Some(Uuid::from_u128(u128::MAX));
        event.parent_id = Some(Uuid::from_u128(0xabc));
        event.children_ids = Some(vec![Uuid::from_u128(2), Uuid::from_u128(3)]);
        event.event_name = Some("chat \"quoted\"".into());
        event.source = Some("dev".into());
        event.config = Some(
            json!({"model": "gpt-4o", "temperature": 0.7})
                .as_object()
                .cloned()
                .unwrap(),
        );
        event.outputs = Some(JsonObject::new());
        event.error = Some("line\nbreak\ttab\u{1}\u{1f}\u{7f}é".into());
        event.start_time = Some(-5);
        event.end_time = Some(i64::MAX);
        event.duration = Some(1e21);
        event.metadata = Some(
            json!({"n": [1, -2, 3.5, 1e-7, null, true, false, {"": "\\"}], "u": u64::MAX})
                .as_object()
                .cloned()
                .unwrap(),
        );
        event.feedback = Some(JsonObject::new());
        event.metrics = Some(json!({"score": 0.1}).as_object().cloned().unwrap());
        event.user_properties = Some(json!({"id": "u"}).as_object().cloned().unwrap());
        event.project_id = Some("p".into());
        event
            .inputs
            .insert("prompt".into(), json!("Hello, 🌍 \u{0}"));
        assert_eq!(written(&event), serde_json::to_string(&event).unwrap());
        assert_eq!(
            written(&Event::new(EventType::Tool)),
            serde_json::to_string(&Event::new(EventType::Tool)).unwrap()
        );
    }

    #[test]
    fn non_finite_durations_are_left_out_as_serde_leaves_them() {
        for duration in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, 12.5] {
            let mut event = Event::new(EventType::Chain);
            event.duration = Some(duration);
            assert_eq!(written(&event), serde_json::to_string(&event).unwrap());
        }
    }

    #[test]
    fn every_byte_is_escaped_as_serde_escapes_it() {
        // Each byte at each position of a word, so the eight-byte scan misses none.
        for byte in 0u8..0x80 {
            for at in 0..17 {
                let mut text = "a".repeat(at);
                text.push(char::from(byte));
                text.push_str("bcdefgh");
                let mut out = Vec::new();
                string(&text, &mut out);
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    serde_json::to_string(&text).unwrap(),
                    "byte {byte:#x} at {at}"
                );
            }
        }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            any::<String>().prop_map(Value::String),
            "[\\x00-\\x7f]{0,40}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(any::<String>(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn object_of(value: Value) -> JsonObject {
        match value {
            Value::Object(map) => map,
            other => JsonObject::from_iter([("value".to_owned(), other)]),
        }
    }

    proptest! {
        #[test]
        fn any_value_matches_serde_json(v in json_value()) {
            let mut out = Vec::new();
            value(&v, &mut out);
            prop_assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&v).unwrap());
        }

        #[test]
        fn any_event_matches_serde_json(
            inputs in json_value(),
            metadata in prop::option::of(json_value()),
            name in prop::option::of(any::<String>()),
            error in prop::option::of(any::<String>()),
            times in prop::option::of((any::<i64>(), any::<i64>(), any::<f64>())),
            ids in prop::option::of(prop::collection::vec(any::<u128>(), 0..4)),
        ) {
            let mut event = Event::new(EventType::Chain);
            event.inputs = object_of(inputs);
            event.metadata = metadata.map(object_of);
            event.event_name = name;
            event.error = error;
            if let Some((start, end, duration)) = times {
                event.start_time = Some(start);
                event.end_time = Some(end);
                event.duration = Some(duration);
            }
            event.children_ids = ids.map(|ids| ids.into_iter().map(Uuid::from_u128).collect());
            prop_assert_eq!(written(&event), serde_json::to_string(&event).unwrap());
        }
    }
}
