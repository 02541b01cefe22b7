//! A traced stream (a streamed answer): polled inside its span, each item recorded as it comes
//! (an `Err` item as the error), and what it yielded recorded as `outputs.result` when it ends,
//! panics or is dropped — text items joined into one text, other items as an array.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use pin_project_lite::pin_project;

use super::call::Call;
use super::capture::{Mode, Outcome, Render, Sink, write_json_str};
use super::fields;
use crate::limits;

pin_project! {
    /// A stream traced by `traced!(..., stream = ...)`.
    #[must_use = "a stream does nothing unless polled"]
    pub struct TracedStream<S: Stream> {
        #[pin]
        inner: S,
        state: Gathered<S::Item>,
    }
}

/// What a stream yielded so far.
struct Gathered<T> {
    call: Call,
    render: Render<T>,
    ret: bool,
    /// The items kept, as a JSON array being written: `[` and the items, comma-separated.
    items: Vec<u8>,
    /// Items yielded (errors included).
    count: u64,
    /// Items not kept: the array had reached the event limit.
    cut: u64,
    /// Every item kept is a JSON string, to be joined.
    text: bool,
    /// The end (or a panic) was recorded.
    ended: bool,
}

impl Call {
    /// `stream`, traced: see [`TracedStream`].
    #[doc(hidden)]
    pub fn stream<S: Stream>(
        self,
        stream: S,
        render: Render<S::Item>,
        ret: bool,
    ) -> TracedStream<S> {
        TracedStream {
            inner: stream,
            state: Gathered {
                call: self,
                render,
                ret,
                items: vec![b'['],
                count: 0,
                cut: 0,
                text: true,
                ended: false,
            },
        }
    }
}

impl<S: Stream> Stream for TracedStream<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        let state = this.state;
        if state.ended {
            return this.inner.poll_next(cx);
        }
        let polled = {
            let _entered = state.call.span.enter();
            let inner = this.inner;
            catch_unwind(AssertUnwindSafe(|| inner.poll_next(cx)))
        };
        match polled {
            Ok(Poll::Ready(Some(item))) => {
                state.gather(&item);
                Poll::Ready(Some(item))
            }
            Ok(Poll::Ready(None)) => {
                state.end(false);
                Poll::Ready(None)
            }
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => {
                state.end(false);
                state.call.panicked(payload.as_ref());
                resume_unwind(payload)
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<T> Gathered<T> {
    fn gather(&mut self, item: &T) {
        self.count += 1;
        if self.call.span.is_disabled() {
            return;
        }
        let mode = self.call.mode(self.ret);
        let mark = self.items.len();
        if self.items.len() > 1 {
            self.items.push(b',');
        }
        let start = self.items.len();
        let outcome = match mode {
            // One marker for the whole answer stands for its content: items are not written.
            Mode::Hidden | Mode::Skip => {
                (self.render)(item, &mut Sink::new(&mut Vec::new(), Mode::Skip, 0))
            }
            Mode::Content => (self.render)(item, &mut Sink::new(&mut self.items, mode, start)),
        };
        match outcome {
            Outcome::Value if mode == Mode::Content => {
                if self.items.len() > limits::MAX_EVENT_BYTES {
                    self.items.truncate(mark);
                    self.cut += 1;
                } else {
                    self.text &= self.items.get(start) == Some(&b'"');
                }
            }
            Outcome::Error { error, type_name } => {
                self.items.truncate(mark);
                self.call.error(&error, type_name);
            }
            _ => self.items.truncate(mark),
        }
    }

    /// Records what was yielded, and, for a stream dropped before its end, that it was.
    fn end(&mut self, cancelled: bool) {
        self.ended = true;
        let span = &self.call.span;
        if span.is_disabled() {
            self.call.finish_with(None);
            return;
        }
        span.record(fields::STREAM_ITEMS, self.count);
        if cancelled {
            span.record(fields::CANCELLED, true);
        }
        let outputs = match self.call.mode(self.ret) {
            Mode::Skip => None,
            _ if self.count == 0 => None,
            Mode::Hidden => {
                let mut out = b"{\"result\":".to_vec();
                write_json_str(&mut out, crate::mapping::HIDDEN);
                out.push(b'}');
                Some(out)
            }
            Mode::Content => Some(self.outputs()),
        };
        self.call.finish_with(outputs.as_deref());
    }

    /// `{"result": ...}`: the text items joined, else the array of items; with a marker when
    /// items were not kept.
    fn outputs(&mut self) -> Vec<u8> {
        let mut items = std::mem::take(&mut self.items);
        items.push(b']');
        let mut out = b"{\"result\":".to_vec();
        let joined = if self.text {
            serde_json::from_slice::<Vec<String>>(&items).ok()
        } else {
            None
        };
        let more = (self.cut > 0).then(|| format!("[{} more items not recorded]", self.cut));
        match joined {
            Some(mut text) if !text.is_empty() || more.is_some() => {
                let mut text = text.drain(..).collect::<String>();
                if let Some(more) = more {
                    text.push_str(&more);
                }
                write_json_str(&mut out, &text);
            }
            _ => {
                if let Some(more) = more {
                    items.pop();
                    if items.len() > 1 {
                        items.push(b',');
                    }
                    write_json_str(&mut items, &more);
                    items.push(b']');
                }
                out.extend_from_slice(&items);
            }
        }
        out.push(b'}');
        out
    }
}

impl<T> Drop for Gathered<T> {
    fn drop(&mut self) {
        if !self.ended {
            self.end(true);
        }
    }
}

impl<S: Stream + std::fmt::Debug> std::fmt::Debug for TracedStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracedStream")
            .field("inner", &self.inner)
            .field("span", &self.state.call.span)
            .field("items", &self.state.count)
            .finish_non_exhaustive()
    }
}
