//! The field visitor: every value recorded on a span or an event goes into the span's [`Draft`]
//! (text into its arena, bounded, with a marker saying so), except the control fields, whose
//! meaning [`Recorded::put`] gives at once because the layer decides with them.

use std::fmt;

use tracing::field::{Field, Visit};

use crate::recorded::{
    Bucket, Draft, DraftValue as Value, Name, Recorded, belongs_to_span, is_control,
};

/// Where the values of one `record` call go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Into {
    /// The span's own fields.
    Span,
    /// An event inside the span: its message and fields go to the entry begun last, except the
    /// fields that are the span's own ([`belongs_to_span`]).
    Event,
}

/// The one `Visit` of the layer.
pub(crate) struct Recorder<'a> {
    pub(crate) draft: &'a mut Draft,
    pub(crate) recorded: &'a mut Recorded,
    pub(crate) into: Into,
    pub(crate) max_bytes: usize,
    /// How many values were cut.
    pub(crate) truncated: u32,
}

impl<'a> Recorder<'a> {
    pub(crate) fn new(
        draft: &'a mut Draft,
        recorded: &'a mut Recorded,
        into: Into,
        max_bytes: usize,
    ) -> Self {
        Recorder {
            draft,
            recorded,
            into,
            max_bytes,
            truncated: 0,
        }
    }

    fn put(&mut self, field: &Field, value: Value) {
        let name = field.name();
        if self.into == Into::Event && !belongs_to_span(name) {
            match value {
                Value::Text(text) if name == "message" => self.draft.set_log_message(text),
                value => self.draft.push_log_field(name, value),
            }
        } else if is_control(name) {
            let value = self.draft.owned(value);
            self.recorded.put(Name::Borrowed(name), value);
        } else {
            self.draft.set(name, value);
        }
    }

    fn wide(&mut self, field: &Field, value: impl fmt::Display) {
        let text = self
            .draft
            .push_display(&value, self.max_bytes, &mut self.truncated);
        self.put(field, Value::Text(text));
    }
}

impl Visit for Recorder<'_> {
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::U64(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        match i64::try_from(value) {
            Ok(n) => self.put(field, Value::I64(n)),
            Err(_) => self.wide(field, value),
        }
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        match u64::try_from(value) {
            Ok(n) => self.put(field, Value::U64(n)),
            Err(_) => self.wide(field, value),
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::F64(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        let max = if value.len() > self.max_bytes {
            Bucket::max_text(field.name(), self.max_bytes)
        } else {
            self.max_bytes
        };
        let text = self.draft.push_str(value, max, &mut self.truncated);
        self.put(field, Value::Text(text));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let text = self
            .draft
            .push_error(value, self.max_bytes, &mut self.truncated);
        self.put(field, Value::Text(text));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // `#[trace]` records its JSON fields as a `Display`, written only here.
        let max = Bucket::max_text(field.name(), self.max_bytes);
        let text = self.draft.push_debug(value, max, &mut self.truncated);
        self.put(field, Value::Text(text));
    }
}
