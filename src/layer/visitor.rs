//! The field visitor: every value recorded on a span or an event becomes an owned
//! [`FieldValue`], and text longer than the configured bound is cut, with a marker saying so.

use std::fmt::{self, Write};

use tracing::field::{Field, Visit};

use crate::limits::{bounded, prefix};
use crate::recorded::{FieldValue, Fields, Name, Recorded};

/// A `fmt::Write` that stops accepting text at `max` bytes, so formatting a huge `Debug` value
/// costs at most the bound.
struct Capped {
    text: String,
    max: usize,
    full: bool,
}

impl Write for Capped {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.max - self.text.len();
        if s.len() <= room {
            self.text.push_str(s);
            return Ok(());
        }
        self.text.push_str(prefix(s, room));
        self.full = true;
        Err(fmt::Error)
    }
}

/// `value` formatted with `Debug` (which for `%` values is their `Display`), cut at `max` bytes.
pub(crate) fn debug_text(value: &dyn fmt::Debug, max: usize, truncated: &mut u32) -> String {
    let mut out = Capped {
        text: String::new(),
        max,
        full: false,
    };
    let _ = write!(out, "{value:?}");
    if out.full {
        *truncated += 1;
        out.text.push_str("…[truncated]");
    }
    out.text
}

/// An error and its sources, `outer: inner: root`.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}

fn owned_i128(value: i128) -> FieldValue {
    i64::try_from(value)
        .map(FieldValue::I64)
        .unwrap_or_else(|_| FieldValue::Str(value.to_string()))
}

fn owned_u128(value: u128) -> FieldValue {
    u64::try_from(value)
        .map(FieldValue::U64)
        .unwrap_or_else(|_| FieldValue::Str(value.to_string()))
}

/// Where owned field values go: a span's [`Recorded`] (routing the control fields), or an
/// event's message and fields.
pub(crate) trait Sink {
    fn put(&mut self, name: &'static str, value: FieldValue);
}

impl Sink for Recorded {
    fn put(&mut self, name: &'static str, value: FieldValue) {
        Recorded::put(self, Name::Borrowed(name), value);
    }
}

/// An event's message and other fields.
#[derive(Debug, Default)]
pub(crate) struct EventFields {
    pub(crate) message: String,
    pub(crate) fields: Fields,
}

impl Sink for EventFields {
    fn put(&mut self, name: &'static str, value: FieldValue) {
        match (name, value) {
            ("message", FieldValue::Str(text)) => self.message = text,
            (name, value) => self.fields.set(name, value),
        }
    }
}

/// The one `Visit`: turns each recorded value into an owned [`FieldValue`], text bounded to
/// `max_bytes`, and hands it to a [`Sink`].
pub(crate) struct Owning<'a, S> {
    pub(crate) sink: &'a mut S,
    pub(crate) max_bytes: usize,
    /// How many values were cut.
    pub(crate) truncated: u32,
}

impl<'a, S: Sink> Owning<'a, S> {
    pub(crate) fn new(sink: &'a mut S, max_bytes: usize) -> Self {
        Owning {
            sink,
            max_bytes,
            truncated: 0,
        }
    }

    fn put(&mut self, field: &Field, value: FieldValue) {
        self.sink.put(field.name(), value);
    }
}

impl<S: Sink> Visit for Owning<'_, S> {
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, FieldValue::Bool(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, FieldValue::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, FieldValue::U64(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.put(field, owned_i128(value));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.put(field, owned_u128(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, FieldValue::F64(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        let text = bounded(value, self.max_bytes, &mut self.truncated);
        self.put(field, FieldValue::Str(text));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let text = bounded(&error_chain(value), self.max_bytes, &mut self.truncated);
        self.put(field, FieldValue::Str(text));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = debug_text(value, self.max_bytes, &mut self.truncated);
        self.put(field, FieldValue::Str(text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_debug_values_are_formatted_only_up_to_the_bound() {
        let mut truncated = 0;
        let big = vec![7u8; 100_000];
        let text = debug_text(&big, 64, &mut truncated);
        assert!(text.starts_with("[7, 7, 7"), "{text}");
        assert!(text.ends_with("…[truncated]"), "{text}");
        assert!(text.len() < 64 + 20, "{}", text.len());
        assert_eq!(truncated, 1);
        assert_eq!(debug_text(&"small", 64, &mut truncated), "\"small\"");
    }

    #[test]
    fn wide_integers_stay_numbers_when_they_fit() {
        assert_eq!(owned_i128(-5), FieldValue::I64(-5));
        assert_eq!(owned_u128(u128::from(u64::MAX)), FieldValue::U64(u64::MAX));
        assert_eq!(
            owned_u128(u128::MAX),
            FieldValue::Str(u128::MAX.to_string())
        );
    }
}
