//! One traced call: its span, the inputs recorded into it when it starts, and how it ended (its
//! result, its error, a panic, or, for a future or a stream, being dropped before its end).

use std::any::Any;
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::OnceLock;

use tracing::Span;

use super::capture::{Mode, Outcome, Render, Sink, write_json_str};
use super::fields;
use crate::HoneyHiveLayer;

/// A traced call, made by the expansion of `#[trace]` and `traced!`.
#[doc(hidden)]
pub struct Call {
    pub(crate) span: Span,
    /// Arguments and results are written (else [`HIDDEN`](crate::mapping::HIDDEN) stands in).
    content: bool,
    /// `inputs.<name>` of the arguments left out, to be named in `metadata.omitted`.
    omitted: String,
    /// The end was recorded (a result, an error, a panic).
    done: bool,
}

impl Call {
    /// A call recorded into `span` (nothing is done for a disabled span).
    pub fn new(span: Span) -> Call {
        let content = !span.is_disabled() && captures_content(&span);
        Call {
            span,
            content,
            omitted: String::new(),
            done: false,
        }
    }

    /// The writer of the inputs, unless the span is disabled.
    pub fn inputs(&mut self) -> Option<Inputs<'_>> {
        if self.span.is_disabled() {
            return None;
        }
        let mut buf = take_buffer();
        buf.push(b'{');
        Some(Inputs { call: self, buf })
    }

    /// Runs `body` inside the span, records how it ended, and returns its result; a panic is
    /// recorded as the error, then goes on unwinding.
    pub fn run<R, F: FnOnce() -> R>(mut self, body: F, render: Render<R>, ret: bool) -> R {
        let ran = {
            let _entered = self.span.enter();
            catch_unwind(AssertUnwindSafe(body))
        };
        match ran {
            Ok(value) => {
                self.finish(&value, render, ret);
                value
            }
            Err(payload) => {
                self.panicked(payload.as_ref());
                resume_unwind(payload)
            }
        }
    }

    /// Records the result: a value as `outputs.result` (none for a unit), an error as `error`
    /// with its type in `metadata.error_type`, a value that cannot be recorded named in
    /// `metadata.omitted`.
    pub(crate) fn finish<T: ?Sized>(&mut self, value: &T, render: Render<T>, ret: bool) {
        self.done = true;
        if self.span.is_disabled() {
            return;
        }
        let mode = self.mode(ret);
        let mut buf = take_buffer();
        buf.extend_from_slice(b"{\"result\":");
        match render(value, &mut Sink::new(&mut buf, mode, 0)) {
            Outcome::Value if mode != Mode::Skip => {
                buf.push(b'}');
                record_json(&self.span, fields::OUTPUTS, &buf);
            }
            Outcome::Omitted if mode != Mode::Skip => self.omit("outputs.result"),
            Outcome::Error { message, type_name } => self.error(&message, type_name),
            _ => {}
        }
        give_back(buf);
    }

    /// A result already rendered (a stream's items): `json` is the whole `outputs` object.
    pub(crate) fn finish_with(&mut self, outputs: Option<&[u8]>) {
        self.done = true;
        if let Some(outputs) = outputs {
            record_json(&self.span, fields::OUTPUTS, outputs);
        }
    }

    /// What a result is written as: itself, the hidden marker, or nothing with `ret = false`.
    pub(crate) fn mode(&self, ret: bool) -> Mode {
        match (ret, self.content) {
            (false, _) => Mode::Skip,
            (true, true) => Mode::Content,
            (true, false) => Mode::Hidden,
        }
    }

    pub(crate) fn error(&self, message: &str, type_name: &str) {
        self.span
            .record(fields::ERROR, tracing::field::display(message));
        self.span.record(fields::ERROR_TYPE, type_name);
    }

    /// Records a panic as the error, its message when it has one.
    pub(crate) fn panicked(&mut self, payload: &(dyn Any + Send)) {
        self.done = true;
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("a panic with a payload that is not text");
        self.error(&format!("panicked: {message}"), "panic");
    }

    fn omit(&mut self, path: &str) {
        if !self.omitted.is_empty() {
            self.omitted.push_str(", ");
        }
        self.omitted.push_str(path);
        self.span.record(fields::OMITTED, self.omitted.as_str());
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        if !self.done && !self.span.is_disabled() {
            self.span.record(fields::CANCELLED, true);
        }
    }
}

/// Writes a call's arguments into `inputs`, one JSON object recorded once.
#[doc(hidden)]
pub struct Inputs<'a> {
    call: &'a mut Call,
    buf: Vec<u8>,
}

impl Inputs<'_> {
    /// Adds the argument `name`, written by `render`.
    pub fn arg<T: ?Sized>(&mut self, name: &'static str, value: &T, render: Render<T>) {
        let mark = self.buf.len();
        if mark > 1 {
            self.buf.push(b',');
        }
        write_json_str(&mut self.buf, name);
        self.buf.push(b':');
        let mode = self.call.mode(true);
        match render(value, &mut Sink::new(&mut self.buf, mode, mark)) {
            Outcome::Value => {}
            Outcome::Omitted => {
                self.buf.truncate(mark);
                self.call.omit(&format!("inputs.{name}"));
            }
            Outcome::Unit | Outcome::Error { .. } => self.buf.truncate(mark),
        }
    }

    /// Records the inputs.
    pub fn finish(mut self) {
        if self.buf.len() > 1 {
            self.buf.push(b'}');
            record_json(&self.call.span, fields::INPUTS, &self.buf);
        }
        give_back(std::mem::take(&mut self.buf));
    }
}

/// Records JSON text (always UTF-8: serde_json's output and our own escaping).
fn record_json(span: &Span, field: &str, json: &[u8]) {
    if let Ok(text) = std::str::from_utf8(json) {
        span.record(field, text);
    }
}

/// Whether the span's subscriber sends content: the layer's setting when it has the layer, else
/// `HH_CAPTURE_CONTENT` (on by default).
fn captures_content(span: &Span) -> bool {
    span.with_subscriber(|(_, dispatch)| {
        dispatch
            .downcast_ref::<HoneyHiveLayer>()
            .map(HoneyHiveLayer::capture_content)
    })
    .flatten()
    .unwrap_or_else(|| {
        static FROM_ENV: OnceLock<bool> = OnceLock::new();
        *FROM_ENV.get_or_init(|| {
            crate::config::flag(&crate::config::process_env, "HH_CAPTURE_CONTENT")
                .ok()
                .flatten()
                .unwrap_or(true)
        })
    })
}

/// The largest buffer a thread keeps for the next call.
const KEPT_BUFFER: usize = 64 * 1024;

thread_local! {
    static BUFFER: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// This thread's buffer, warm (a call inside a `Serialize` gets a new one).
fn take_buffer() -> Vec<u8> {
    BUFFER.try_with(Cell::take).unwrap_or_default()
}

fn give_back(mut buf: Vec<u8>) {
    if buf.capacity() <= KEPT_BUFFER {
        buf.clear();
        let _ = BUFFER.try_with(|kept| kept.set(buf));
    }
}
