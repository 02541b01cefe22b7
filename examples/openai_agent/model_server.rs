//! A canned OpenAI-compatible chat model on loopback, so that the example needs no account: it
//! speaks `POST /v1/chat/completions`, streamed (server-sent events) or not, in OpenAI's wire
//! format. Asked with a tool and no tool result yet, it calls the tool with the order number
//! the last user message names; otherwise it answers from the tool's result. Delete this file
//! when you point the example at a real model.

use axum::Json;
use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// The running server; it stops with the process.
pub struct CannedModel {
    addr: std::net::SocketAddr,
}

impl CannedModel {
    /// The base URL, `/v1` included, as OpenAI clients take it.
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }
}

/// Starts the model on `127.0.0.1:0`.
pub fn start() -> std::io::Result<CannedModel> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let app = Router::new().route("/v1/chat/completions", post(chat));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(CannedModel { addr })
}

/// What the model says this turn: a tool call (id, name, arguments), or a text.
enum Turn {
    Call(&'static str, String),
    Text(String),
}

fn turn(body: &Value) -> Turn {
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let tool_result = messages.iter().rev().find(|m| m["role"] == "tool");
    match tool_result {
        Some(result) => {
            let order: Value = serde_json::from_str(result["content"].as_str().unwrap_or("{}"))
                .unwrap_or_default();
            let text = if order["changeable"] == true {
                format!(
                    "Order #{} is still being packed, so yes: tell me what to change.",
                    order["id"]
                )
            } else {
                format!(
                    "Order #{} has shipped with {}; it should arrive within two days.",
                    order["id"],
                    order["carrier"].as_str().unwrap_or("the carrier")
                )
            };
            Turn::Text(text)
        }
        None if body.get("tools").is_some() => {
            let question = messages
                .iter()
                .rev()
                .find(|m| m["role"] == "user")
                .and_then(|m| m["content"].as_str())
                .unwrap_or("");
            let digits: String = question.chars().filter(char::is_ascii_digit).collect();
            let arguments = format!("{{\"order\":{}}}", digits.parse::<u64>().unwrap_or(0));
            Turn::Call("lookup_order", arguments)
        }
        None => Turn::Text("How can I help?".into()),
    }
}

/// Word counts stand in for tokens.
fn usage(body: &Value, answer: &str) -> Value {
    let words = |v: &Value| v.as_str().map_or(0, |t| t.split_whitespace().count());
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let prompt: usize = messages.iter().map(|m| words(&m["content"])).sum();
    let completion = answer.split_whitespace().count().max(1);
    json!({"prompt_tokens": prompt, "completion_tokens": completion,
           "total_tokens": prompt + completion})
}

async fn chat(Json(body): Json<Value>) -> Response {
    let model = body["model"].as_str().unwrap_or("canned-gpt").to_owned();
    let (message, finish, said) = match turn(&body) {
        Turn::Call(name, arguments) => {
            let call = json!({"id": "call_1", "type": "function",
                              "function": {"name": name, "arguments": arguments}});
            (
                json!({"role": "assistant", "content": null, "tool_calls": [call]}),
                "tool_calls",
                arguments,
            )
        }
        Turn::Text(text) => (json!({"role": "assistant", "content": text}), "stop", text),
    };
    let usage = usage(&body, &said);
    let top = json!({"id": "chatcmpl-canned", "created": 1_760_000_000, "model": model});
    if body["stream"] != true {
        let mut whole = top;
        whole["object"] = json!("chat.completion");
        whole["choices"] = json!([{"index": 0, "message": message, "finish_reason": finish}]);
        whole["usage"] = usage;
        return Json(whole).into_response();
    }
    // Streamed: the role, the text word by word or the tool call in two pieces, the finish,
    // the usage, then [DONE].
    let mut deltas = vec![json!({"role": "assistant", "content": ""})];
    match message["tool_calls"].get(0) {
        Some(call) => {
            let arguments = call["function"]["arguments"].as_str().unwrap_or("");
            let (head, tail) = arguments.split_at(arguments.len() / 2);
            deltas.push(
                json!({"tool_calls": [{"index": 0, "id": call["id"], "type": "function",
                "function": {"name": call["function"]["name"], "arguments": head}}]}),
            );
            deltas.push(json!({"tool_calls": [{"index": 0, "function": {"arguments": tail}}]}));
        }
        None => {
            let text = message["content"].as_str().unwrap_or("");
            for (i, word) in text.split(' ').enumerate() {
                let piece = if i == 0 {
                    word.to_owned()
                } else {
                    format!(" {word}")
                };
                deltas.push(json!({"content": piece}));
            }
        }
    }
    let chunk = |choices: Value, usage: Value| {
        let mut chunk = top.clone();
        chunk["object"] = json!("chat.completion.chunk");
        chunk["choices"] = choices;
        chunk["usage"] = usage;
        format!("data: {chunk}\n\n")
    };
    let mut events = String::new();
    for delta in deltas {
        events += &chunk(
            json!([{"index": 0, "delta": delta, "finish_reason": null}]),
            Value::Null,
        );
    }
    events += &chunk(
        json!([{"index": 0, "delta": {}, "finish_reason": finish}]),
        Value::Null,
    );
    if body["stream_options"]["include_usage"] == true {
        events += &chunk(json!([]), usage);
    }
    events += "data: [DONE]\n\n";
    ([(header::CONTENT_TYPE, "text/event-stream")], events).into_response()
}
