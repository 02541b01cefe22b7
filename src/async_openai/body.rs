//! The answer's body, read as the caller reads it: nothing is buffered ahead of the caller, and
//! the span ends when the answer does — at `[DONE]` or the Responses API's last event, at the
//! end of the body, on an error, or when the caller drops it (then it reads as cancelled, with
//! what had arrived).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use serde_json::Value;
use tracing::Span;

use super::request::Api;
use super::response;
use super::span::{Attr, Attrs, record};
use super::stream::{ChatAnswer, ResponsesAnswer, SseEvent, SseReader};

/// The most of a whole (not streamed) answer kept to read once it is complete; a larger one
/// (embeddings of thousands of inputs) passes unread, and the span says so.
const MAX_WHOLE: usize = 64 * 1024 * 1024;

/// How the answer is read.
#[derive(Debug)]
enum Reading {
    /// A JSON answer, kept until its end.
    Whole { bytes: Vec<u8>, over: bool },
    /// An error answer (status 400 and above), kept until its end (bounded).
    Failed {
        status: http::StatusCode,
        bytes: Vec<u8>,
    },
    /// Server-sent events.
    Chat { sse: SseReader, answer: ChatAnswer },
    Responses {
        sse: SseReader,
        answer: ResponsesAnswer,
    },
}

/// A call whose answer is being read: the span ends when it is dropped.
#[derive(Debug)]
pub(crate) struct Watch {
    span: Span,
    api: Api,
    content: bool,
    started: Instant,
    first_chunk: bool,
    reading: Reading,
}

impl Watch {
    /// Watches the body of an answer with `status` to the call `api` made at `started`.
    pub(crate) fn new(
        span: Span,
        api: Api,
        streaming: bool,
        status: http::StatusCode,
        content: bool,
        started: Instant,
    ) -> Watch {
        let reading = if status.as_u16() >= 400 {
            Reading::Failed {
                status,
                bytes: Vec::new(),
            }
        } else if streaming && api == Api::Responses {
            Reading::Responses {
                sse: SseReader::default(),
                answer: ResponsesAnswer::default(),
            }
        } else if streaming {
            Reading::Chat {
                sse: SseReader::default(),
                answer: ChatAnswer::default(),
            }
        } else {
            Reading::Whole {
                bytes: Vec::new(),
                over: false,
            }
        };
        Watch {
            span,
            api,
            content,
            started,
            first_chunk: false,
            reading,
        }
    }

    /// Reads a piece of the body; true when the answer is complete (the span may end).
    fn feed(&mut self, data: &[u8]) -> bool {
        if !self.first_chunk
            && matches!(
                self.reading,
                Reading::Chat { .. } | Reading::Responses { .. }
            )
        {
            self.first_chunk = true;
            let seconds = self.started.elapsed().as_secs_f64();
            record(
                &self.span,
                &[("gen_ai.response.time_to_first_chunk", Attr::F64(seconds))],
            );
        }
        let mut done = false;
        match &mut self.reading {
            Reading::Whole { bytes, over } => keep(bytes, over, data, MAX_WHOLE),
            Reading::Failed { bytes, .. } => keep(bytes, &mut false, data, 64 * 1024),
            Reading::Chat { sse, answer } => sse.feed(data, &mut |event| {
                done |= chat_event(answer, &event, &self.span);
            }),
            Reading::Responses { sse, answer } => sse.feed(data, &mut |event| {
                done |= responses_event(answer, &event);
            }),
        }
        done
    }

    /// The answer ended (`cancelled`: before it was complete, dropped by the caller; `error`:
    /// the body failed): what it gave goes on the span, which then ends.
    fn end(mut self, cancelled: bool, error: Option<String>) {
        let content = self.content;
        let mut attrs: Attrs = match &mut self.reading {
            Reading::Whole { bytes, over } if !*over && !cancelled && error.is_none() => {
                whole(self.api, bytes, content)
            }
            Reading::Whole { over: true, .. } => {
                vec![(
                    "honeyhive.outputs",
                    Attr::Str(r#"{"unread":"the answer was larger than 64 MiB"}"#.into()),
                )]
            }
            Reading::Whole { .. } => Attrs::new(),
            Reading::Failed { status, bytes } => response::http_error(*status, bytes),
            Reading::Chat { sse, answer } => {
                if !cancelled {
                    sse.finish(&mut |event| {
                        chat_event(answer, &event, &self.span);
                    });
                }
                response::chat_completion(&answer.completion(), content)
            }
            Reading::Responses { sse, answer } => {
                if !cancelled {
                    sse.finish(&mut |event| {
                        responses_event(answer, &event);
                    });
                }
                let mut attrs = response::response(&answer.response(), content);
                if let Some(error) = &answer.error {
                    attrs.extend(response::api_error(None, error));
                }
                attrs
            }
        };
        if cancelled {
            attrs.push(("metadata.cancelled", Attr::Bool(true)));
        }
        if let Some(error) = error {
            attrs.push(("otel.status_code", "ERROR".into()));
            attrs.push(("otel.status_description", error.into()));
            attrs.push(("error.type", "body".into()));
        }
        record(&self.span, &attrs);
    }
}

/// Appends `data` unless that passes `max` (then `over`, and nothing more is kept).
fn keep(bytes: &mut Vec<u8>, over: &mut bool, data: &[u8], max: usize) {
    if *over || bytes.len() + data.len() > max {
        *over = true;
        bytes.clear();
        bytes.shrink_to_fit();
    } else {
        bytes.extend_from_slice(data);
    }
}

/// A whole answer's fields.
fn whole(api: Api, bytes: &[u8], content: bool) -> Attrs {
    if api == Api::Embeddings {
        return response::embeddings(bytes);
    }
    let Ok(body) = serde_json::from_slice::<Value>(bytes) else {
        return Attrs::new();
    };
    match api {
        Api::ChatCompletions => response::chat_completion(&body, content),
        _ => response::response(&body, content),
    }
}

/// One event of a streamed chat; true at `[DONE]`. An error sent in the stream goes on the span.
fn chat_event(answer: &mut ChatAnswer, event: &SseEvent, span: &Span) -> bool {
    let data = event.data.trim();
    if data == "[DONE]" {
        return true;
    }
    match serde_json::from_str::<Value>(data) {
        Ok(chunk) => match chunk.get("error").filter(|e| e.is_object()) {
            Some(error) => {
                record(span, &response::api_error(None, error));
                true
            }
            None => {
                answer.add(&chunk);
                false
            }
        },
        Err(_) => false,
    }
}

/// One event of a streamed response; true at its last.
fn responses_event(answer: &mut ResponsesAnswer, event: &SseEvent) -> bool {
    serde_json::from_str::<Value>(&event.data).is_ok_and(|data| answer.add(&data))
}

/// The answer's body, watched. The span ends when the watch does (see the module docs).
#[derive(Debug)]
pub(crate) struct Watched<B> {
    inner: B,
    watch: Option<Watch>,
}

impl<B> Watched<B> {
    pub(crate) fn new(inner: B, watch: Watch) -> Watched<B> {
        Watched {
            inner,
            watch: Some(watch),
        }
    }
}

impl<B> Drop for Watched<B> {
    fn drop(&mut self) {
        if let Some(watch) = self.watch.take() {
            watch.end(true, None);
        }
    }
}

impl<B> Body for Watched<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                let done = match (frame.data_ref(), this.watch.as_mut()) {
                    (Some(data), Some(watch)) => watch.feed(data),
                    _ => false,
                };
                if done {
                    if let Some(watch) = this.watch.take() {
                        watch.end(false, None);
                    }
                }
            }
            Poll::Ready(Some(Err(error))) => {
                if let Some(watch) = this.watch.take() {
                    watch.end(false, Some(format!("the answer's body failed: {error}")));
                }
            }
            Poll::Ready(None) => {
                if let Some(watch) = this.watch.take() {
                    watch.end(false, None);
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
