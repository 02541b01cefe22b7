//! One traced call: its span, the inputs recorded into it when it starts, and how it ended (its
//! result, its error, a panic, or, for a future or a stream, being dropped before its end).

use std::any::Any;
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use tracing::Span;

use super::capture::{Mode, Outcome, Render, Sink, write_json_str};
use super::fields;

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
        let content = !span.is_disabled() && crate::config::captures_content(&span);
        Call {
            span,
            content,
            omitted: String::new(),
            done: false,
        }
    }

    /// Whether anything is recorded: the span is enabled.
    pub fn is_recording(&self) -> bool {
        !self.span.is_disabled()
    }

    /// Records the arguments: `inputs`, written only when a subscriber records the field (as
    /// `#[instrument]` formats a field only then); those that cannot be recorded are named in
    /// `metadata.omitted` at once.
    pub fn inputs(&mut self, args: &[&dyn InputArg]) {
        if !self.is_recording() {
            return;
        }
        let mut any = false;
        for arg in args {
            if arg.omitted() {
                self.omit(&format!("inputs.{}", arg.name()));
            } else {
                any = true;
            }
        }
        if any {
            let inputs = Inputs {
                args,
                mode: self.mode(true),
            };
            self.span
                .record(fields::INPUTS, tracing::field::display(&inputs));
        }
    }

    /// Runs `body` inside the span, records how it ended, and returns its result; a panic is
    /// recorded as the error, then goes on unwinding.
    pub fn run<R, F: FnOnce() -> R>(mut self, body: F, render: Render<R>, ret: bool) -> R {
        if !self.is_recording() {
            self.done = true;
            return body();
        }
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

    /// Records the result: a value as `outputs.result` (none for a unit), written when a
    /// subscriber records it; an error as `error` with its type in `metadata.error_type`; a value
    /// that cannot be recorded named in `metadata.omitted`.
    pub(crate) fn finish<T>(&mut self, value: &T, render: Render<T>, ret: bool) {
        self.done = true;
        if !self.is_recording() {
            return;
        }
        let mode = self.mode(ret);
        // What the value is, found without writing it.
        match render(value, &mut Sink::new(&mut Vec::new(), Mode::Skip, 0)) {
            Outcome::Value if mode != Mode::Skip => {
                let output = Output {
                    value,
                    render,
                    mode,
                };
                self.span
                    .record(fields::OUTPUTS, tracing::field::display(&output));
            }
            Outcome::Omitted if mode != Mode::Skip => self.omit("outputs.result"),
            Outcome::Error { error, type_name } => self.error(&error, type_name),
            _ => {}
        }
    }

    /// A result already rendered (a stream's items): `json` is the whole `outputs` object.
    pub(crate) fn finish_with(&mut self, outputs: Option<&[u8]>) {
        self.done = true;
        if let Some(text) = outputs.and_then(|json| std::str::from_utf8(json).ok()) {
            self.span.record(fields::OUTPUTS, text);
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

    pub(crate) fn error(&self, error: &dyn std::fmt::Display, type_name: &str) {
        self.span
            .record(fields::ERROR, tracing::field::display(error));
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
        self.error(&format_args!("panicked: {message}"), "panic");
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
        if !self.done && self.is_recording() {
            self.span.record(fields::CANCELLED, true);
        }
    }
}

/// One argument of a traced call, with the way its type is recorded.
#[doc(hidden)]
pub struct Arg<'a, T: ?Sized> {
    name: &'static str,
    value: &'a T,
    render: Render<T>,
}

impl<'a, T: ?Sized> Arg<'a, T> {
    /// The argument `name`, written by `render`.
    pub fn new(name: &'static str, value: &'a T, render: Render<T>) -> Self {
        Arg {
            name,
            value,
            render,
        }
    }
}

/// An argument whatever its type, for the list a call records.
#[doc(hidden)]
pub trait InputArg {
    /// The argument's name.
    fn name(&self) -> &'static str;
    /// Its type is neither `Serialize` nor `Debug` (found without writing it).
    fn omitted(&self) -> bool;
    /// Writes it; what it was.
    fn write(&self, sink: &mut Sink<'_>) -> bool;
}

impl<T: ?Sized> InputArg for Arg<'_, T> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn omitted(&self) -> bool {
        let probe = (self.render)(self.value, &mut Sink::new(&mut Vec::new(), Mode::Skip, 0));
        matches!(probe, Outcome::Omitted)
    }

    fn write(&self, sink: &mut Sink<'_>) -> bool {
        matches!((self.render)(self.value, sink), Outcome::Value)
    }
}

/// A call's arguments as one JSON object, written when a subscriber formats the field.
struct Inputs<'a> {
    args: &'a [&'a dyn InputArg],
    mode: Mode,
}

impl std::fmt::Display for Inputs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        with_buffer(f, |buf| {
            buf.push(b'{');
            for arg in self.args {
                if arg.omitted() {
                    continue;
                }
                let mark = buf.len();
                if mark > 1 {
                    buf.push(b',');
                }
                write_json_str(buf, arg.name());
                buf.push(b':');
                let held = buf.len();
                if !arg.write(&mut Sink::new(buf, self.mode, held)) {
                    buf.truncate(mark);
                }
            }
            buf.push(b'}');
        })
    }
}

/// A call's result as `{"result": …}`, written when a subscriber formats the field.
struct Output<'a, T> {
    value: &'a T,
    render: Render<T>,
    mode: Mode,
}

impl<T> std::fmt::Display for Output<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        with_buffer(f, |buf| {
            buf.extend_from_slice(b"{\"result\":");
            (self.render)(self.value, &mut Sink::new(buf, self.mode, 0));
            buf.push(b'}');
        })
    }
}

/// Writes JSON through this thread's buffer (always UTF-8: serde_json's output and our own
/// escaping), then into `f`.
fn with_buffer(
    f: &mut std::fmt::Formatter<'_>,
    write: impl FnOnce(&mut Vec<u8>),
) -> std::fmt::Result {
    let mut buf = take_buffer();
    write(&mut buf);
    let written = match std::str::from_utf8(&buf) {
        Ok(text) => f.write_str(text),
        Err(_) => Ok(()),
    };
    give_back(buf);
    written
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
