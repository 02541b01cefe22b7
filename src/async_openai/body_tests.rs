//! The watched body against the ways an answer ends: `[DONE]`, the end of the body without it,
//! an error sent in the stream, a failing body, and a caller who drops it. What the span
//! recorded is read back by a subscriber that keeps every value recorded on it.

use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body::{Body, Frame};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context as LayerContext, SubscriberExt as _};

use super::body::{Watch, Watched};
use super::request::Api;

/// Every value recorded on any span, as text, by field name.
#[derive(Clone, Default)]
struct Recorded(Arc<Mutex<HashMap<String, String>>>);

impl Visit for Recorded {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        self.0.lock().unwrap().insert(field.name().to_owned(), text);
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .lock()
            .unwrap()
            .insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Recorded {
    fn on_record(
        &self,
        _: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        _: LayerContext<'_, S>,
    ) {
        values.record(&mut self.clone());
    }
}

/// A body that yields these pieces, then ends (or waits forever when `open`).
struct Pieces {
    pieces: VecDeque<Result<&'static str, &'static str>>,
    open: bool,
}

impl Body for Pieces {
    type Data = Bytes;
    type Error = String;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, String>>> {
        match self.pieces.pop_front() {
            Some(Ok(text)) => {
                Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(text.as_bytes())))))
            }
            Some(Err(error)) => Poll::Ready(Some(Err(error.to_owned()))),
            None if self.open => Poll::Pending,
            None => Poll::Ready(None),
        }
    }
}

/// Reads a streamed chat answer made of `pieces` through a watch, `reads` frames at most, then
/// drops it; what the span recorded.
fn watched_chat(
    pieces: Vec<Result<&'static str, &'static str>>,
    open: bool,
    reads: usize,
) -> HashMap<String, String> {
    let recorded = Recorded::default();
    let subscriber = tracing_subscriber::registry().with(recorded.clone());
    tracing::subscriber::with_default(subscriber, || {
        let span = super::span::new_span(&tracing::Span::none());
        let watch = Watch::new(
            span,
            Api::ChatCompletions,
            true,
            http::StatusCode::OK,
            true,
            Instant::now(),
        );
        let mut body = Watched::new(
            Pieces {
                pieces: pieces.into(),
                open,
            },
            watch,
        );
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        for _ in 0..reads {
            match Pin::new(&mut body).poll_frame(&mut cx) {
                Poll::Ready(Some(_)) => {}
                Poll::Ready(None) | Poll::Pending => break,
            }
        }
    });
    recorded.0.lock().unwrap().clone()
}

const ROLE: &str = "data: {\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n";
const HELLO: &str = "data: {\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"}}]}\n\n";
const STOP: &str = "data: {\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";

#[test]
fn a_stream_ends_at_done_with_its_answer() {
    let values = watched_chat(
        vec![Ok(ROLE), Ok(HELLO), Ok(STOP), Ok("data: [DONE]\n\n")],
        true,
        10,
    );
    assert_eq!(
        values
            .get("gen_ai.response.finish_reasons")
            .map(String::as_str),
        Some("[\"stop\"]")
    );
    assert!(
        values["gen_ai.output.messages"].contains("Hello"),
        "{values:?}"
    );
    assert!(values.contains_key("gen_ai.response.time_to_first_chunk"));
    assert!(
        !values.contains_key("metadata.cancelled"),
        "ended at [DONE], not dropped: {values:?}"
    );
}

#[test]
fn a_stream_that_ends_without_done_still_records_its_answer() {
    // The last event has no blank line after it either.
    let values = watched_chat(vec![Ok(ROLE), Ok(HELLO), Ok(STOP.trim_end())], false, 10);
    assert_eq!(
        values
            .get("gen_ai.response.finish_reasons")
            .map(String::as_str),
        Some("[\"stop\"]")
    );
    assert!(!values.contains_key("metadata.cancelled"));
}

#[test]
fn an_error_sent_in_the_stream_is_the_spans_error() {
    let error = "data: {\"error\":{\"message\":\"The server is overloaded\",\"type\":\"server_error\"}}\n\n";
    let values = watched_chat(vec![Ok(ROLE), Ok(error)], true, 10);
    assert_eq!(
        values.get("otel.status_code").map(String::as_str),
        Some("ERROR")
    );
    assert_eq!(
        values.get("otel.status_description").map(String::as_str),
        Some("The server is overloaded")
    );
    assert_eq!(
        values.get("error.type").map(String::as_str),
        Some("server_error")
    );
}

#[test]
fn a_failing_body_is_the_spans_error_with_what_arrived() {
    let values = watched_chat(vec![Ok(ROLE), Ok(HELLO), Err("connection reset")], true, 10);
    assert_eq!(
        values.get("otel.status_code").map(String::as_str),
        Some("ERROR")
    );
    assert!(
        values["otel.status_description"].contains("connection reset"),
        "{values:?}"
    );
    assert!(values["gen_ai.output.messages"].contains("Hello"));
}

#[test]
fn a_stream_dropped_before_its_end_is_cancelled_with_what_arrived() {
    // An event cut in two pieces: only its first half arrived.
    let values = watched_chat(
        vec![Ok(ROLE), Ok(HELLO), Ok("data: {\"id\":\"c1\",")],
        true,
        3,
    );
    assert_eq!(
        values.get("metadata.cancelled").map(String::as_str),
        Some("true")
    );
    assert!(values["gen_ai.output.messages"].contains("Hello"));
    assert!(!values.contains_key("gen_ai.response.finish_reasons"));
    assert!(!values.contains_key("otel.status_code"));
}
