//! [`Draft`]: what the layer records on the application thread, in a form that costs no
//! allocation once its buffers are warm. Every text a span and its events record goes into one
//! arena; fields and events are fixed-size entries that point into it. The exporter's worker
//! turns a draft into the owned [`Recorded`] the mapping reads ([`Draft::settle_into`]), and the
//! draft, cleared but keeping its capacity, goes back to the layer for another span.

use std::fmt::{self, Write};

use tracing::Level;

use super::{FieldValue, Fields, Log, Name, Recorded};

/// A text in the arena: its byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Text {
    start: u32,
    end: u32,
}

/// One recorded value; text lives in the draft's arena.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Value {
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Text(Text),
}

/// An event recorded inside the span, kept for `metadata.logs`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DraftLog {
    pub(crate) time_ms: i64,
    pub(crate) level: Level,
    pub(crate) target: &'static str,
    pub(crate) message: Text,
    /// Its fields: a range of [`Draft::log_fields`].
    fields: (u32, u32),
    /// Where its texts start in the arena: everything after is its own.
    text_start: u32,
}

/// A span's fields and events as the layer records them: one text arena, and entries pointing
/// into it. Warm buffers make recording allocation-free; [`Draft::clear`] keeps them warm.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Draft {
    text: String,
    /// The span's fields in the order first recorded; a name recorded again is replaced.
    fields: Vec<(&'static str, Value)>,
    logs: Vec<DraftLog>,
    log_fields: Vec<(&'static str, Value)>,
}

/// The most a cleared draft keeps of each buffer, so that one huge span does not stay resident
/// in every draft that is reused: past it, the buffer is let go.
const KEEP_TEXT: usize = 16 * 1024;
const KEEP_ENTRIES: usize = 64;

impl Draft {
    /// A draft with room for a typical span (a few fields, a 200-byte prompt, an event), so
    /// that whichever span it serves next, recording it seldom needs more.
    pub(crate) fn warm() -> Self {
        Draft {
            text: String::with_capacity(512),
            fields: Vec::with_capacity(8),
            logs: Vec::with_capacity(2),
            log_fields: Vec::with_capacity(4),
        }
    }

    /// Forgets what was recorded and keeps the buffers, unless one grew past what is worth
    /// keeping.
    pub(crate) fn clear(&mut self) {
        fn reset<T>(v: &mut Vec<T>) {
            v.clear();
            if v.capacity() > KEEP_ENTRIES {
                *v = Vec::new();
            }
        }
        self.text.clear();
        if self.text.capacity() > KEEP_TEXT {
            self.text = String::new();
        }
        reset(&mut self.fields);
        reset(&mut self.logs);
        reset(&mut self.log_fields);
    }

    /// Nothing recorded.
    pub(crate) fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.logs.is_empty()
    }

    /// The bytes the span takes while it waits to be sent: not the draft's, which goes back to
    /// the pool at once, but the worker's owned copy ([`Draft::settle_into`]): an entry per
    /// field and event, each text its own block, a list per event's fields, and what the
    /// allocator adds to every block.
    pub(crate) fn footprint(&self) -> usize {
        let is_text = |(_, v): &&(&str, Value)| matches!(v, Value::Text(t) if t.end > t.start);
        let texts = self.fields.iter().chain(&self.log_fields).filter(is_text);
        let lists = [&self.fields, &self.log_fields].map(|list| usize::from(!list.is_empty()));
        // Each text, the fields' list, the events' list, and per event its message and its
        // fields' list (counted as one for all: most events have a few fields or none).
        let blocks = texts.count()
            + lists.iter().sum::<usize>()
            + usize::from(!self.logs.is_empty())
            + self
                .logs
                .iter()
                .filter(|l| l.message.end > l.message.start)
                .count();
        self.text.len()
            + (self.fields.len() + self.log_fields.len())
                * std::mem::size_of::<(Name, FieldValue)>()
            + self.logs.len() * std::mem::size_of::<Log>()
            + blocks * super::footprint::BLOCK_OVERHEAD
    }

    /// The bytes its buffers hold room for.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.text.capacity()
            + (self.fields.capacity() + self.log_fields.capacity())
                * std::mem::size_of::<(&str, Value)>()
            + self.logs.capacity() * std::mem::size_of::<DraftLog>()
    }

    /// Makes room for `fields` more fields at once, so that a span's fields take one allocation
    /// at most, the first time.
    pub(crate) fn reserve_fields(&mut self, fields: usize) {
        self.fields.reserve(fields);
    }

    fn text(&self, text: Text) -> &str {
        &self.text[text.start as usize..text.end as usize]
    }

    fn mark(&self) -> u32 {
        u32::try_from(self.text.len()).unwrap_or(u32::MAX)
    }

    /// `value`, bounded to `max` bytes with the marker [`crate::limits::bounded`] writes.
    pub(crate) fn push_str(&mut self, value: &str, max: usize, truncated: &mut u32) -> Text {
        let start = self.mark();
        crate::limits::push_bounded(&mut self.text, value, max, truncated);
        Text {
            start,
            end: self.mark(),
        }
    }

    /// `value` formatted with `Debug` (for `%` values, their `Display`), formatting only up to
    /// `max` bytes.
    pub(crate) fn push_debug(
        &mut self,
        value: &dyn fmt::Debug,
        max: usize,
        truncated: &mut u32,
    ) -> Text {
        self.push_capped(max, truncated, |out| write!(out, "{value:?}"))
    }

    /// `value` formatted with `Display`, formatting only up to `max` bytes.
    pub(crate) fn push_display(
        &mut self,
        value: &dyn fmt::Display,
        max: usize,
        truncated: &mut u32,
    ) -> Text {
        self.push_capped(max, truncated, |out| write!(out, "{value}"))
    }

    /// An error and its sources, `outer: inner: root`, bounded to `max` bytes.
    pub(crate) fn push_error(
        &mut self,
        error: &(dyn std::error::Error + 'static),
        max: usize,
        truncated: &mut u32,
    ) -> Text {
        self.push_capped(max, truncated, |out| {
            write!(out, "{error}")?;
            let mut source = error.source();
            while let Some(cause) = source {
                write!(out, ": {cause}")?;
                source = cause.source();
            }
            Ok(())
        })
    }

    fn push_capped(
        &mut self,
        max: usize,
        truncated: &mut u32,
        write: impl FnOnce(&mut Capped<'_>) -> fmt::Result,
    ) -> Text {
        let start = self.mark();
        let mut out = Capped {
            text: &mut self.text,
            room: max,
            full: false,
        };
        let _ = write(&mut out);
        if out.full {
            *truncated += 1;
            self.text.push_str("…[truncated]");
        }
        Text {
            start,
            end: self.mark(),
        }
    }

    /// Records a span field: a name recorded before keeps its place and takes the new value.
    pub(crate) fn set(&mut self, name: &'static str, value: Value) {
        match self.fields.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((name, value)),
        }
    }

    /// The span's fields, owned: for the session a root span starts, which its children may
    /// need before the root closes.
    pub(crate) fn to_fields(&self) -> Fields {
        Fields(
            self.fields
                .iter()
                .map(|&(name, value)| (Name::Borrowed(name), self.owned(value)))
                .collect(),
        )
    }

    /// Starts an event's entry; its fields follow with [`Draft::push_log_field`].
    pub(crate) fn begin_log(&mut self, time_ms: i64, level: Level, target: &'static str) {
        let at = u32::try_from(self.log_fields.len()).unwrap_or(u32::MAX);
        self.logs.push(DraftLog {
            time_ms,
            level,
            target,
            message: Text::default(),
            fields: (at, at),
            text_start: self.mark(),
        });
    }

    /// The event being recorded: its message.
    pub(crate) fn set_log_message(&mut self, message: Text) {
        if let Some(log) = self.logs.last_mut() {
            log.message = message;
        }
    }

    /// The event being recorded: one of its fields.
    pub(crate) fn push_log_field(&mut self, name: &'static str, value: Value) {
        self.log_fields.push((name, value));
        let end = u32::try_from(self.log_fields.len()).unwrap_or(u32::MAX);
        if let Some(log) = self.logs.last_mut() {
            log.fields.1 = end;
        }
    }

    /// How many events are kept.
    pub(crate) fn logs(&self) -> usize {
        self.logs.len()
    }

    /// The text of the event being recorded, as an `ERROR` event reports it: its message, else
    /// its fields, else `name`.
    pub(crate) fn last_log_text(&self, name: &str) -> String {
        let Some(log) = self.logs.last() else {
            return name.to_owned();
        };
        let message = self.text(log.message);
        if !message.is_empty() {
            return message.to_owned();
        }
        let fields = &self.log_fields[log.fields.0 as usize..log.fields.1 as usize];
        if fields.is_empty() {
            return name.to_owned();
        }
        let mut text = String::new();
        for (i, &(name, value)) in fields.iter().enumerate() {
            if i > 0 {
                text.push(' ');
            }
            let _ = write!(text, "{name}={}", self.owned(value));
        }
        text
    }

    /// Takes back the event being recorded (it was recorded only for the error it reports), and
    /// the room it took.
    pub(crate) fn drop_last_log(&mut self) {
        if let Some(log) = self.logs.pop() {
            self.log_fields.truncate(log.fields.0 as usize);
            // Unless a field it carried was the span's own (lifted), its texts are the last.
            let lifted = self
                .fields
                .iter()
                .any(|(_, v)| matches!(v, Value::Text(t) if t.end > log.text_start));
            if !lifted {
                self.text.truncate(log.text_start as usize);
            }
        }
    }

    pub(crate) fn owned(&self, value: Value) -> FieldValue {
        match value {
            Value::Bool(b) => FieldValue::Bool(b),
            Value::I64(n) => FieldValue::I64(n),
            Value::U64(n) => FieldValue::U64(n),
            Value::F64(n) => FieldValue::F64(n),
            Value::Text(text) => FieldValue::Str(self.text(text).to_owned()),
        }
    }

    /// Moves what was recorded into `recorded`, owned, as the mapping reads it: fields after any
    /// it has, events as logs.
    pub(crate) fn settle_into(&self, recorded: &mut Recorded) {
        // Exact room, which the byte budget counts: `reserve` would give a list of one room
        // for four.
        recorded.fields.0.reserve_exact(self.fields.len());
        for &(name, value) in &self.fields {
            recorded.fields.set(name, self.owned(value));
        }
        recorded.logs.reserve_exact(self.logs.len());
        for log in &self.logs {
            let mut fields = Fields(Vec::with_capacity((log.fields.1 - log.fields.0) as usize));
            for &(name, value) in &self.log_fields[log.fields.0 as usize..log.fields.1 as usize] {
                fields.set(name, self.owned(value));
            }
            recorded.logs.push(Log {
                time_ms: log.time_ms,
                level: log.level,
                target: Name::Borrowed(log.target),
                message: self.text(log.message).to_owned(),
                fields,
            });
        }
    }
}

/// A `fmt::Write` into the arena that stops accepting text once `room` bytes are written, so
/// formatting a huge `Debug` value costs at most the bound.
struct Capped<'a> {
    text: &'a mut String,
    room: usize,
    full: bool,
}

impl Write for Capped<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if s.len() <= self.room {
            self.text.push_str(s);
            self.room -= s.len();
            return Ok(());
        }
        let kept = crate::limits::prefix(s, self.room);
        self.text.push_str(kept);
        self.room = 0;
        self.full = true;
        Err(fmt::Error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settled(draft: &Draft) -> Recorded {
        let mut recorded = Recorded::default();
        draft.settle_into(&mut recorded);
        recorded
    }

    #[test]
    fn huge_debug_values_are_formatted_only_up_to_the_bound() {
        let mut draft = Draft::default();
        let mut truncated = 0;
        let big = vec![7u8; 100_000];
        let text = draft.push_debug(&big, 64, &mut truncated);
        let text = draft.text(text);
        assert!(text.starts_with("[7, 7, 7"), "{text}");
        assert!(text.ends_with("…[truncated]"), "{text}");
        assert!(text.len() < 64 + 20, "{}", text.len());
        assert_eq!(truncated, 1);
        let small = draft.push_debug(&"small", 64, &mut truncated);
        assert_eq!(draft.text(small), "\"small\"");
    }

    #[test]
    fn long_text_is_cut_with_the_marker_the_limits_write() {
        let mut draft = Draft::default();
        let mut truncated = 0;
        let value = "é".repeat(40);
        let text = draft.push_str(&value, 9, &mut truncated);
        assert_eq!(
            draft.text(text),
            crate::limits::bounded(&value, 9, &mut truncated)
        );
        assert_eq!(truncated, 2);
    }

    #[test]
    fn fields_keep_their_first_place_and_events_their_own_fields() {
        let mut draft = Draft::default();
        let a = draft.push_str("first", 64, &mut 0);
        draft.set("a", Value::Text(a));
        draft.set("b", Value::Bool(true));
        draft.begin_log(5, Level::WARN, "app");
        let message = draft.push_str("careful", 64, &mut 0);
        draft.set_log_message(message);
        draft.push_log_field("attempt", Value::U64(3));
        draft.set("a", Value::I64(2));
        let recorded = settled(&draft);
        assert_eq!(
            recorded.fields.0,
            vec![
                ("a".into(), FieldValue::I64(2)),
                ("b".into(), FieldValue::Bool(true))
            ]
        );
        assert_eq!(
            recorded.logs,
            vec![Log {
                time_ms: 5,
                level: Level::WARN,
                target: "app".into(),
                message: "careful".into(),
                fields: Fields(vec![("attempt".into(), FieldValue::U64(3))]),
            }]
        );
    }

    #[test]
    fn an_event_taken_back_leaves_no_trace_but_the_span_fields_it_lifted() {
        let mut draft = Draft::default();
        draft.begin_log(1, Level::ERROR, "app");
        draft.push_log_field("code", Value::I64(7));
        assert_eq!(draft.last_log_text("event"), "code=7");
        draft.drop_last_log();
        assert_eq!((draft.logs(), draft.log_fields.len()), (0, 0));

        draft.begin_log(1, Level::DEBUG, "app");
        let lifted = draft.push_str("gpt-4o", 64, &mut 0);
        draft.set("langfuse.model", Value::Text(lifted));
        let message = draft.push_str("called", 64, &mut 0);
        draft.set_log_message(message);
        assert_eq!(draft.last_log_text("event"), "called");
        draft.drop_last_log();
        let recorded = settled(&draft);
        assert!(recorded.logs.is_empty());
        assert_eq!(
            recorded.fields.get("langfuse.model"),
            Some(&FieldValue::Str("gpt-4o".into()))
        );
    }

    #[test]
    fn clearing_keeps_modest_buffers_and_lets_huge_ones_go() {
        let mut draft = Draft::default();
        let small = draft.push_str(&"x".repeat(300), usize::MAX, &mut 0);
        draft.set("small", Value::Text(small));
        draft.clear();
        assert!(draft.is_empty());
        assert!(draft.text.capacity() >= 300);
        draft.push_str(&"x".repeat(KEEP_TEXT + 1), usize::MAX, &mut 0);
        draft.clear();
        assert_eq!(draft.text.capacity(), 0);
    }
}

/// The draft against the owned form it replaces: any sequence of span fields and events,
/// recorded into one arena and settled, gives what recording each value owned would have.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Step {
        Field(&'static str, Owned),
        /// An event with a message and fields, kept or taken back.
        Event {
            message: String,
            fields: Vec<(&'static str, Owned)>,
            kept: bool,
        },
    }

    #[derive(Debug, Clone)]
    enum Owned {
        Bool(bool),
        I64(i64),
        F64(f64),
        Text(String),
    }

    const NAMES: [&str; 5] = ["a", "b", "inputs.q", "langfuse.model", "n"];

    fn owned() -> impl Strategy<Value = Owned> {
        prop_oneof![
            any::<bool>().prop_map(Owned::Bool),
            any::<i64>().prop_map(Owned::I64),
            (-1e6f64..1e6).prop_map(Owned::F64),
            "\\PC{0,40}".prop_map(Owned::Text),
        ]
    }

    fn step() -> impl Strategy<Value = Step> {
        let name = proptest::sample::select(NAMES.to_vec());
        prop_oneof![
            (name.clone(), owned()).prop_map(|(n, v)| Step::Field(n, v)),
            (
                "\\PC{0,20}",
                proptest::collection::vec((name, owned()), 0..4),
                any::<bool>()
            )
                .prop_map(|(message, fields, kept)| Step::Event {
                    message,
                    fields,
                    kept
                }),
        ]
    }

    fn put(draft: &mut Draft, value: &Owned) -> Value {
        match value {
            Owned::Bool(b) => Value::Bool(*b),
            Owned::I64(n) => Value::I64(*n),
            Owned::F64(n) => Value::F64(*n),
            Owned::Text(s) => Value::Text(draft.push_str(s, usize::MAX, &mut 0)),
        }
    }

    fn field(value: &Owned) -> FieldValue {
        match value {
            Owned::Bool(b) => FieldValue::Bool(*b),
            Owned::I64(n) => FieldValue::I64(*n),
            Owned::F64(n) => FieldValue::F64(*n),
            Owned::Text(s) => FieldValue::Str(s.clone()),
        }
    }

    proptest! {
        #[test]
        fn settling_a_draft_gives_what_owned_recording_gives(
            steps in proptest::collection::vec(step(), 0..24),
            reuse in any::<bool>(),
        ) {
            let mut draft = Draft::warm();
            if reuse {
                // A draft used before and cleared records the same.
                let text = draft.push_str("left over", usize::MAX, &mut 0);
                draft.set("a", Value::Text(text));
                draft.begin_log(0, Level::INFO, "old");
                draft.clear();
            }
            let mut expected = Recorded::default();
            for step in &steps {
                match step {
                    Step::Field(name, value) => {
                        let v = put(&mut draft, value);
                        draft.set(name, v);
                        expected.fields.set(*name, field(value));
                    }
                    Step::Event { message, fields, kept } => {
                        draft.begin_log(7, Level::WARN, "app");
                        let text = draft.push_str(message, usize::MAX, &mut 0);
                        draft.set_log_message(text);
                        let mut own = Fields::default();
                        for (name, value) in fields {
                            let v = put(&mut draft, value);
                            if crate::recorded::belongs_to_span(name) {
                                draft.set(name, v);
                                expected.fields.set(*name, field(value));
                            } else {
                                draft.push_log_field(name, v);
                                own.set(*name, field(value));
                            }
                        }
                        if *kept {
                            expected.logs.push(Log {
                                time_ms: 7,
                                level: Level::WARN,
                                target: "app".into(),
                                message: message.clone(),
                                fields: own,
                            });
                        } else {
                            draft.drop_last_log();
                        }
                    }
                }
            }
            let mut settled = Recorded::default();
            draft.settle_into(&mut settled);
            prop_assert_eq!(settled, expected);
        }
    }
}
