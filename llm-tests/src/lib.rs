//! A fake OpenAI-compatible model server for the end-to-end tests in `tests/`: it speaks Chat
//! Completions (`POST /v1/chat/completions`) and the Responses API (`POST /v1/responses`) on
//! loopback, scripted so that a real LLM crate's agent loop runs a whole turn against it.
//!
//! The script, for either API:
//! - a request for the model [`MISSING_MODEL`] is answered 404 with OpenAI's error body;
//! - a request that offers tools and carries no tool result yet is answered with a call of the
//!   first tool, arguments [`TOOL_ARGUMENTS`];
//! - anything else is answered with the text [`ANSWER`].
//!
//! Every answer reports usage with cached and reasoning tokens ([`USAGE`]).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// The model whose requests fail: the provider error of the tests.
pub const MISSING_MODEL: &str = "missing-model";

/// The arguments of the tool call the server asks for.
pub const TOOL_ARGUMENTS: &str = r#"{"order":7}"#;

/// The text answer.
pub const ANSWER: &str = "Order 7 shipped yesterday.";

/// Usage every answer reports: (prompt, completion, cached prompt, reasoning) tokens.
pub const USAGE: (u64, u64, u64, u64) = (42, 9, 16, 4);

/// The running server; it stops with the test process.
pub struct FakeOpenAi {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Value>>>,
}

impl FakeOpenAi {
    /// Starts the server on `127.0.0.1:0`, on a thread of its own.
    pub fn start() -> FakeOpenAi {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let addr = listener.local_addr().expect("its address");
        let state = Arc::clone(&requests);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                let app = Router::new()
                    .route("/v1/chat/completions", post(chat_completions))
                    .route("/v1/responses", post(responses))
                    .with_state(state);
                axum::serve(listener, app).await.expect("the server runs");
            });
        });
        FakeOpenAi { addr, requests }
    }

    /// The base URL, `/v1` included, as OpenAI clients take it.
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Every request body received, in order.
    pub fn requests(&self) -> Vec<Value> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

type Requests = Arc<Mutex<Vec<Value>>>;

fn missing_model() -> Response {
    let body = json!({"error": {
        "message": format!("The model `{MISSING_MODEL}` does not exist or you do not have access to it."),
        "type": "invalid_request_error",
        "param": null,
        "code": "model_not_found",
    }});
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

/// The first offered tool's name, for either API's tool list.
fn first_tool(body: &Value) -> Option<String> {
    let tool = body.get("tools")?.as_array()?.first()?;
    tool.pointer("/function/name")
        .or_else(|| tool.get("name"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Keeps the request, and answers the missing model's with its error; else the model asked for.
fn receive(requests: &Requests, body: &Value) -> Result<String, Box<Response>> {
    requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(body.clone());
    let model = body["model"].as_str().unwrap_or("gpt-4o-mini").to_owned();
    if model == MISSING_MODEL {
        return Err(Box::new(missing_model()));
    }
    Ok(model)
}

async fn chat_completions(State(requests): State<Requests>, Json(body): Json<Value>) -> Response {
    let model = match receive(&requests, &body) {
        Ok(model) => model,
        Err(refusal) => return *refusal,
    };
    let answered = body["messages"]
        .as_array()
        .is_some_and(|m| m.iter().any(|m| m["role"] == "tool"));
    let (prompt, completion, cached, reasoning) = USAGE;
    let (message, finish) = match first_tool(&body).filter(|_| !answered) {
        Some(name) => (
            json!({"role": "assistant", "content": null, "tool_calls": [{
                "id": "call_lookup_1",
                "type": "function",
                "function": {"name": name, "arguments": TOOL_ARGUMENTS},
            }]}),
            "tool_calls",
        ),
        None => (json!({"role": "assistant", "content": ANSWER}), "stop"),
    };
    Json(json!({
        "id": "chatcmpl-fake-1",
        "object": "chat.completion",
        "created": 1_760_000_000,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached},
            "completion_tokens_details": {"reasoning_tokens": reasoning},
        },
    }))
    .into_response()
}

async fn responses(State(requests): State<Requests>, Json(body): Json<Value>) -> Response {
    let model = match receive(&requests, &body) {
        Ok(model) => model,
        Err(refusal) => return *refusal,
    };
    let answered = body["input"]
        .as_array()
        .is_some_and(|items| items.iter().any(|i| i["type"] == "function_call_output"));
    let (prompt, completion, cached, reasoning) = USAGE;
    let output = match first_tool(&body).filter(|_| !answered) {
        Some(name) => json!([{
            "type": "function_call",
            "id": "fc_1",
            "call_id": "call_lookup_1",
            "name": name,
            "arguments": TOOL_ARGUMENTS,
            "status": "completed",
        }]),
        None => json!([{
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": ANSWER, "annotations": []}],
        }]),
    };
    Json(json!({
        "id": "resp_fake_1",
        "object": "response",
        "created_at": 1_760_000_000,
        "status": "completed",
        "model": model,
        "output": output,
        "usage": {
            "input_tokens": prompt,
            "output_tokens": completion,
            "total_tokens": prompt + completion,
            "input_tokens_details": {"cached_tokens": cached},
            "output_tokens_details": {"reasoning_tokens": reasoning},
        },
    }))
    .into_response()
}
