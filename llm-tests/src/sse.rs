//! Server-sent events: the framing of streamed answers, and their body, which may stall.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use futures_util::stream;
use serde_json::Value;

use crate::Shared;

/// The last frame of a Chat Completions stream.
pub(crate) const DONE: &str = "data: [DONE]\n\n";

/// A frame of data only, as Chat Completions sends them.
pub(crate) fn data(value: &Value) -> String {
    format!("data: {value}\n\n")
}

/// A frame naming its event, as the Responses API sends them.
pub(crate) fn event(name: &str, value: &Value) -> String {
    format!("event: {name}\ndata: {value}\n\n")
}

/// Counts the stream among [`crate::FakeOpenAi::open_streams`] while it lives.
struct Open(Arc<Shared>);

impl Open {
    fn new(shared: &Arc<Shared>) -> Open {
        shared.open_streams.fetch_add(1, Ordering::SeqCst);
        Open(Arc::clone(shared))
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.open_streams.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A `text/event-stream` answer of these frames; when `stall`, the body then sends nothing more
/// but stays open until the client goes away.
pub(crate) fn respond(shared: &Arc<Shared>, frames: Vec<String>, stall: bool) -> Response {
    let open = Open::new(shared);
    let tail = if stall {
        stream::pending().boxed()
    } else {
        stream::empty().boxed()
    };
    let body = stream::iter(frames).chain(tail).map(move |frame: String| {
        let _counted = &open;
        Ok::<_, Infallible>(frame)
    });
    (
        [
            (CONTENT_TYPE, "text/event-stream; charset=utf-8"),
            (CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(body),
    )
        .into_response()
}
