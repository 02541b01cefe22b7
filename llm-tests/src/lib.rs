//! A fake OpenAI-compatible model server for the end-to-end tests in `tests/`: it speaks Chat
//! Completions (`POST /v1/chat/completions`), the Responses API (`POST /v1/responses`) and
//! Embeddings (`POST /v1/embeddings`) on loopback, in OpenAI's wire format, scripted so that a
//! real LLM crate runs a whole turn against it, streamed or not.
//!
//! The script, for every endpoint, in this order:
//! - every request body is kept, faulted ones included ([`FakeOpenAi::requests`]);
//! - the model [`MISSING_MODEL`] is answered 404 with OpenAI's `model_not_found` error body;
//! - the model [`BROKEN_MODEL`] is always answered 500 with OpenAI's `server_error` body;
//! - the first request for the model [`FLAKY_MODEL`] (counted per server) is answered 429 with
//!   `Retry-After: 0` and OpenAI's `rate_limit_exceeded` body (not `insufficient_quota`, so
//!   async-openai's default retry tries again, at once); later ones are answered normally.
//!
//! Then, for Chat Completions and the Responses API:
//! - a request that offers tools and carries no tool result yet is answered with a call of the
//!   first tool (id `call_lookup_1`), arguments [`TOOL_ARGUMENTS`], finish reason `tool_calls`;
//! - anything else is answered with the text [`ANSWER`], finish reason `stop`;
//! - every answer reports usage with cached and reasoning tokens ([`USAGE`]).
//!
//! With `"stream": true` the same answer is streamed as server-sent events
//! (`text/event-stream`):
//! - Chat Completions: `data: {chunk}` lines of `chat.completion.chunk` objects, then
//!   `data: [DONE]`. A text answer is a role delta (`role: assistant`, empty content), then the
//!   content deltas [`ANSWER_DELTAS`], then an empty delta with the finish reason; a tool call is
//!   a first delta with the call's `index`, `id`, `type`, `function.name` and empty arguments,
//!   then the argument deltas [`TOOL_ARGUMENT_DELTAS`], then the finish reason. With
//!   `stream_options.include_usage` every chunk carries `usage: null` and a last chunk with no
//!   choices carries the usage. Chunks carry an `obfuscation` padding unless
//!   `stream_options.include_obfuscation` is false, as OpenAI's do.
//! - Responses API: `event:`/`data:` pairs, numbered by `sequence_number`: `response.created`,
//!   `response.in_progress`, `response.output_item.added`, then for a text
//!   `response.content_part.added`, one `response.output_text.delta` per [`ANSWER_DELTAS`],
//!   `response.output_text.done`, `response.content_part.done`, or for a tool call one
//!   `response.function_call_arguments.delta` per [`TOOL_ARGUMENT_DELTAS`],
//!   `response.function_call_arguments.done`; then `response.output_item.done` and
//!   `response.completed` with the whole response and its usage. No `[DONE]`, as OpenAI.
//! - The model [`STALLING_MODEL`] stalls a streamed text answer: after the role delta (chat) and
//!   the first [`STALLING_DELTAS`] text deltas it sends nothing more, but keeps the connection
//!   open until the client goes away ([`FakeOpenAi::open_streams`] counts the streams not yet
//!   dropped). Its non-streamed requests are answered normally.
//!
//! Embeddings: `input` a string, a list of strings, a token array or a list of token arrays;
//! one unit-length vector per input of [`EMBEDDING_DIMENSIONS`] values or the request's
//! `dimensions` ([`embedding`] computes them), as floats or, for `"encoding_format": "base64"`,
//! as base64 of little-endian `f32`s. Usage counts one token per whitespace-separated word (per
//! token for token arrays).
//!
//! Every answer carries an `x-request-id` header, `req_fake_1`, `req_fake_2`, … per server.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

mod chat;
mod embeddings;
mod responses;
mod sse;

pub use embeddings::embedding;

/// The model whose requests fail with 404: the provider error of the tests.
pub const MISSING_MODEL: &str = "missing-model";

/// The model whose first request (per server) is rate limited (429, `Retry-After: 0`).
pub const FLAKY_MODEL: &str = "flaky-model";

/// The model whose requests always fail with 500.
pub const BROKEN_MODEL: &str = "broken-model";

/// The model whose streamed text answers stall after [`STALLING_DELTAS`] deltas.
pub const STALLING_MODEL: &str = "stalling-model";

/// How many text deltas a stalling stream sends before it goes quiet.
pub const STALLING_DELTAS: usize = 2;

/// The arguments of the tool call the server asks for.
pub const TOOL_ARGUMENTS: &str = r#"{"order":7}"#;

/// [`TOOL_ARGUMENTS`] as streamed, delta by delta.
pub const TOOL_ARGUMENT_DELTAS: [&str; 3] = [r#"{""#, r#"order":"#, "7}"];

/// The text answer.
pub const ANSWER: &str = "Order 7 shipped yesterday.";

/// [`ANSWER`] as streamed, delta by delta.
pub const ANSWER_DELTAS: [&str; 5] = ["Order", " 7", " shipped", " yesterday", "."];

/// Usage every answer reports: (prompt, completion, cached prompt, reasoning) tokens.
pub const USAGE: (u64, u64, u64, u64) = (42, 9, 16, 4);

/// The length of embedding vectors when the request does not ask for `dimensions`.
pub const EMBEDDING_DIMENSIONS: usize = 8;

/// The `system_fingerprint` of Chat Completions answers.
pub const SYSTEM_FINGERPRINT: &str = "fp_fake_1";

/// The running server; it stops with the test process.
pub struct FakeOpenAi {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

/// What the handlers share.
#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<Value>>,
    flaky_refused: AtomicBool,
    answered: AtomicUsize,
    open_streams: AtomicUsize,
}

type Server = State<Arc<Shared>>;

impl FakeOpenAi {
    /// Starts the server on `127.0.0.1:0`, on a thread of its own.
    pub fn start() -> FakeOpenAi {
        let shared = Arc::new(Shared::default());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let addr = listener.local_addr().expect("its address");
        let state = Arc::clone(&shared);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                let app = Router::new()
                    .route("/v1/chat/completions", post(chat::completions))
                    .route("/v1/responses", post(responses::responses))
                    .route("/v1/embeddings", post(embeddings::embeddings))
                    .layer(axum::middleware::map_response_with_state(
                        Arc::clone(&state),
                        request_id,
                    ))
                    .with_state(state);
                axum::serve(listener, app).await.expect("the server runs");
            });
        });
        FakeOpenAi { addr, shared }
    }

    /// The base URL, `/v1` included, as OpenAI clients take it.
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Every request body received, in order, faulted ones included.
    pub fn requests(&self) -> Vec<Value> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// How many streamed answers are still being sent: a stalled stream counts until the client
    /// goes away.
    pub fn open_streams(&self) -> usize {
        self.shared.open_streams.load(Ordering::SeqCst)
    }
}

async fn request_id(State(shared): Server, mut response: Response) -> Response {
    let n = shared.answered.fetch_add(1, Ordering::SeqCst) + 1;
    let id = HeaderValue::from_str(&format!("req_fake_{n}")).expect("an ASCII header");
    response.headers_mut().insert("x-request-id", id);
    response
}

/// OpenAI's error answer.
fn error(status: StatusCode, message: &str, kind: &str, code: Option<&str>) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    (status, Json(body)).into_response()
}

/// A 400 `invalid_request_error`.
fn invalid_request(message: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        message,
        "invalid_request_error",
        None,
    )
}

/// Keeps the request and plays the faults of the script; else the model asked for.
fn receive(shared: &Shared, body: &Value) -> Result<String, Box<Response>> {
    shared
        .requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(body.clone());
    let model = body["model"].as_str().unwrap_or("gpt-4o-mini").to_owned();
    let refusal = match model.as_str() {
        MISSING_MODEL => error(
            StatusCode::NOT_FOUND,
            &format!("The model `{model}` does not exist or you do not have access to it."),
            "invalid_request_error",
            Some("model_not_found"),
        ),
        BROKEN_MODEL => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            None,
        ),
        FLAKY_MODEL if !shared.flaky_refused.swap(true, Ordering::SeqCst) => {
            let message = format!(
                "Rate limit reached for {model} in organization org-fake on requests per min \
                 (RPM): Limit 3, Used 3, Requested 1. Please try again in 0s."
            );
            let mut refusal = error(
                StatusCode::TOO_MANY_REQUESTS,
                &message,
                "requests",
                Some("rate_limit_exceeded"),
            );
            let headers = refusal.headers_mut();
            headers.insert("retry-after", HeaderValue::from_static("0"));
            headers.insert("x-ratelimit-limit-requests", HeaderValue::from_static("3"));
            headers.insert(
                "x-ratelimit-remaining-requests",
                HeaderValue::from_static("0"),
            );
            headers.insert("x-ratelimit-reset-requests", HeaderValue::from_static("0s"));
            refusal
        }
        _ => return Ok(model),
    };
    Err(Box::new(refusal))
}

/// What the model answers this turn.
enum Turn {
    /// A call of the named tool.
    Call(String),
    /// The text [`ANSWER`].
    Text,
}

impl Turn {
    /// A call of the first offered tool, unless a tool result is already in.
    fn of(body: &Value, answered: bool) -> Turn {
        match first_tool(body).filter(|_| !answered) {
            Some(name) => Turn::Call(name),
            None => Turn::Text,
        }
    }
}

/// The first offered tool's name, for either API's tool list.
fn first_tool(body: &Value) -> Option<String> {
    let tool = body.get("tools")?.as_array()?.first()?;
    tool.pointer("/function/name")
        .or_else(|| tool.get("name"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Whether the request asks for a streamed answer.
fn streamed(body: &Value) -> bool {
    body["stream"].as_bool() == Some(true)
}

/// [`USAGE`] as Chat Completions reports it.
fn chat_usage() -> Value {
    let (prompt, completion, cached, reasoning) = USAGE;
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
        "completion_tokens_details": {"reasoning_tokens": reasoning},
    })
}

/// [`USAGE`] as the Responses API reports it.
fn responses_usage() -> Value {
    let (prompt, completion, cached, reasoning) = USAGE;
    json!({
        "input_tokens": prompt,
        "output_tokens": completion,
        "total_tokens": prompt + completion,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens_details": {"reasoning_tokens": reasoning},
    })
}
