//! How a value is written once its type has chosen how ([`dispatch`](super::dispatch)): JSON
//! through serde, bounded by the size policy; a `Debug` text, cut; an error by reference, formatted
//! only when a subscriber records it — each never panicking, whatever the value's own code does.

use std::fmt::{self, Debug, Display, Write as _};
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::Serialize;

use crate::limits;

/// Writes a value into a [`Sink`], saying what it was (an error by reference: it is formatted
/// only when a subscriber records it).
#[doc(hidden)]
pub type Render<T> = for<'a> fn(&'a T, &mut Sink<'_>) -> Outcome<'a>;

/// What recording a value found.
#[doc(hidden)]
#[derive(Debug)]
pub enum Outcome<'a> {
    /// Written (or, with content hidden or nothing to write, accounted for).
    Value,
    /// A value of no size that serialises as `null` (`()`, `Ok(())`): nothing to record.
    Unit,
    /// Neither `Serialize` nor `Debug`: left out.
    Omitted,
    /// An `Err`: its text (`Display`, else `Debug`, else its type) and its type.
    Error {
        error: ErrorText<'a>,
        type_name: &'static str,
    },
}

impl PartialEq for Outcome<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Outcome::Value, Outcome::Value)
            | (Outcome::Unit, Outcome::Unit)
            | (Outcome::Omitted, Outcome::Omitted) => true,
            (
                Outcome::Error {
                    error: a,
                    type_name: ta,
                },
                Outcome::Error {
                    error: b,
                    type_name: tb,
                },
            ) => ta == tb && a.to_string() == b.to_string(),
            _ => false,
        }
    }
}

/// An error's text, formatted when a subscriber records it; a `Display` or `Debug` that panics
/// leaves a marker, never a panic.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub enum ErrorText<'a> {
    Display(&'a dyn Display),
    Debug(&'a dyn Debug),
    /// Neither: its type says what it was.
    Opaque(&'static str),
}

impl Display for ErrorText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let written = catch_unwind(AssertUnwindSafe(|| match self {
            ErrorText::Display(error) => error.fmt(f),
            ErrorText::Debug(error) => error.fmt(f),
            ErrorText::Opaque(type_name) => write!(f, "an error of type {type_name}"),
        }));
        match written {
            Ok(result) => result,
            Err(_) => f.write_str("[not recordable: its formatting panicked]"),
        }
    }
}

impl Debug for ErrorText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Display::fmt(self, f)
    }
}

/// What a [`Sink`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The value itself.
    Content,
    /// [`HIDDEN`](crate::mapping::HIDDEN) in its place, nothing serialised: content capture is off.
    Hidden,
    /// Nothing: only an error is looked at (`ret = false`).
    Skip,
}

/// Where a value is written: a JSON buffer, and what to write.
#[doc(hidden)]
pub struct Sink<'a> {
    pub(crate) buf: &'a mut Vec<u8>,
    pub(crate) mode: Mode,
    /// The most bytes the value may take (what is left of the event limit).
    pub(crate) room: usize,
}

impl<'a> Sink<'a> {
    /// A sink writing into `buf`, which holds `held` bytes of the same event already.
    pub(crate) fn new(buf: &'a mut Vec<u8>, mode: Mode, held: usize) -> Self {
        Sink {
            buf,
            mode,
            room: limits::MAX_EVENT_BYTES.saturating_sub(held).max(MIN_ROOM),
        }
    }
}

/// The room a value always has, for a marker saying it was cut.
const MIN_ROOM: usize = 1024;

impl Sink<'_> {
    /// The value as JSON through serde: cut by the size policy when larger than an event may
    /// be, marked when serialisation fails or panics.
    pub fn serde<T: Serialize + ?Sized>(&mut self, value: &T) -> Outcome<'static> {
        if std::mem::size_of_val(value) == 0 && serialises_as_null(value) {
            return Outcome::Unit;
        }
        if let Some(outcome) = self.not_written() {
            return outcome;
        }
        let start = self.buf.len();
        let mut out = Capped {
            buf: &mut *self.buf,
            room: self.room,
            over: false,
        };
        let written = catch_unwind(AssertUnwindSafe(|| serde_json::to_writer(&mut out, value)));
        let over = out.over;
        let failure = match written {
            Ok(Ok(())) => return Outcome::Value,
            Ok(Err(_)) if over => Failure::TooLarge,
            Ok(Err(e)) => Failure::Error(e.to_string()),
            Err(_) => Failure::Panicked,
        };
        self.buf.truncate(start);
        match failure {
            Failure::TooLarge => self.fitted(value),
            Failure::Error(e) => write_json_str(self.buf, &format!("[not serialisable: {e}]")),
            Failure::Panicked => {
                write_json_str(self.buf, "[not serialisable: its Serialize panicked]");
            }
        }
        Outcome::Value
    }

    /// A value larger than an event may be: made a JSON value and fitted, largest parts first,
    /// as an attached value is ([`limits::fit_value`]).
    fn fitted<T: Serialize + ?Sized>(&mut self, value: &T) {
        let fitted = catch_unwind(AssertUnwindSafe(|| serde_json::to_value(value)));
        match fitted {
            Ok(Ok(mut value)) => {
                limits::bound_depth(&mut value, limits::MAX_DEPTH);
                limits::fit_value(&mut value, self.room);
                self.buf.extend_from_slice(value.to_string().as_bytes());
            }
            _ => write_json_str(self.buf, "[not serialisable: too large]"),
        }
    }

    /// The value's `Debug` text, as a JSON string, cut at the field limit.
    pub fn debug<T: Debug + ?Sized>(&mut self, value: &T) -> Outcome<'static> {
        if let Some(outcome) = self.not_written() {
            return outcome;
        }
        let start = self.buf.len();
        let room = self.room;
        let mut text = String::new();
        let formatted = catch_unwind(AssertUnwindSafe(|| {
            let mut out = Bounded {
                text: &mut text,
                room: FIELD_BYTES.min(room),
                cut: 0,
            };
            let _ = write!(out, "{value:?}");
            out.cut
        }));
        match formatted {
            Ok(0) => write_json_str(self.buf, &text),
            Ok(cut) => write_json_str(self.buf, &format!("{text}…[truncated {cut} bytes]")),
            Err(_) => {
                self.buf.truncate(start);
                write_json_str(self.buf, "[not recordable: its Debug panicked]");
            }
        }
        Outcome::Value
    }

    /// A value neither `Serialize` nor `Debug`.
    pub fn omitted<T: ?Sized>(&mut self, _: &T) -> Outcome<'static> {
        Outcome::Omitted
    }

    /// An error, by its `Display`.
    pub fn error_display<'a, E: Display>(&mut self, error: &'a E) -> Outcome<'a> {
        Outcome::Error {
            error: ErrorText::Display(error),
            type_name: std::any::type_name::<E>(),
        }
    }

    /// An error, by its `Debug`.
    pub fn error_debug<'a, E: Debug>(&mut self, error: &'a E) -> Outcome<'a> {
        Outcome::Error {
            error: ErrorText::Debug(error),
            type_name: std::any::type_name::<E>(),
        }
    }

    /// An error that can be neither displayed nor debugged: its type says what it was.
    pub fn error_opaque<E>(&mut self, _: &E) -> Outcome<'static> {
        let type_name = std::any::type_name::<E>();
        Outcome::Error {
            error: ErrorText::Opaque(type_name),
            type_name,
        }
    }

    /// With content hidden, the marker in the value's place; with output off, nothing.
    fn not_written(&mut self) -> Option<Outcome<'static>> {
        match self.mode {
            Mode::Content => None,
            Mode::Hidden => {
                write_json_str(self.buf, crate::mapping::HIDDEN);
                Some(Outcome::Value)
            }
            Mode::Skip => Some(Outcome::Value),
        }
    }
}

enum Failure {
    TooLarge,
    Error(String),
    Panicked,
}

/// The bound of a `Debug` text or an error message: the layer's default field limit.
const FIELD_BYTES: usize = 256 * 1024;

/// A `fmt::Write` keeping at most `room` bytes (at a character boundary) and counting the rest.
struct Bounded<'a> {
    text: &'a mut String,
    room: usize,
    cut: usize,
}

impl fmt::Write for Bounded<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.cut > 0 {
            self.cut += s.len();
            return Ok(());
        }
        let kept = limits::prefix(s, self.room);
        self.text.push_str(kept);
        self.room -= kept.len();
        self.cut += s.len() - kept.len();
        Ok(())
    }
}

/// An `io::Write` into a buffer that refuses to grow beyond `room` bytes.
struct Capped<'a> {
    buf: &'a mut Vec<u8>,
    room: usize,
    over: bool,
}

impl std::io::Write for Capped<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.write_all(bytes).map(|()| bytes.len())
    }

    // serde_json writes each quote, fragment and comma with `write_all`: one check and one copy
    // each, not std's loop of `write` calls.
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if bytes.len() > self.room {
            self.over = true;
            return Err(std::io::Error::other("larger than an event may be"));
        }
        self.room -= bytes.len();
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether a value of no size serialises as `null`, written into the stack (never allocating).
fn serialises_as_null<T: Serialize + ?Sized>(value: &T) -> bool {
    let mut tiny = [0u8; 8];
    let mut out: &mut [u8] = &mut tiny;
    let written = catch_unwind(AssertUnwindSafe(|| serde_json::to_writer(&mut out, value)));
    let left = out.len();
    matches!(written, Ok(Ok(()))) && tiny[..tiny.len() - left] == *b"null"
}

/// `text` as a JSON string.
pub(crate) fn write_json_str(buf: &mut Vec<u8>, text: &str) {
    buf.reserve(text.len() + 2);
    buf.push(b'"');
    let mut clean = 0;
    for (i, byte) in text.bytes().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        buf.extend_from_slice(&text.as_bytes()[clean..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            buf.extend_from_slice(b"\\u00");
            buf.push(HEX[usize::from(byte >> 4)]);
            buf.push(HEX[usize::from(byte & 0xf)]);
        } else {
            buf.extend_from_slice(escape);
        }
        clean = i + 1;
    }
    buf.extend_from_slice(&text.as_bytes()[clean..]);
    buf.push(b'"');
}

#[cfg(test)]
mod tests;
