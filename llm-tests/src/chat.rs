//! Chat Completions, `POST /v1/chat/completions`: one `chat.completion` object, or a stream of
//! `chat.completion.chunk` objects.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::{
    ANSWER, ANSWER_DELTAS, STALLING_DELTAS, STALLING_MODEL, SYSTEM_FINGERPRINT, Server, Shared,
    TOOL_ARGUMENT_DELTAS, TOOL_ARGUMENTS, Turn, chat_usage, receive, sse, streamed,
};

const ID: &str = "chatcmpl-fake-1";
const CREATED: u64 = 1_760_000_000;
const CALL_ID: &str = "call_lookup_1";

pub(crate) async fn completions(State(shared): Server, Json(body): Json<Value>) -> Response {
    let model = match receive(&shared, &body) {
        Ok(model) => model,
        Err(refusal) => return *refusal,
    };
    let answered = body["messages"]
        .as_array()
        .is_some_and(|m| m.iter().any(|m| m["role"] == "tool"));
    let turn = Turn::of(&body, answered);
    if streamed(&body) {
        stream(&shared, &body, &model, &turn)
    } else {
        Json(completion(&model, &turn)).into_response()
    }
}

/// The whole answer, as one `chat.completion` object.
fn completion(model: &str, turn: &Turn) -> Value {
    let (message, finish) = match turn {
        Turn::Call(name) => (
            json!({"role": "assistant", "content": null, "tool_calls": [{
                "id": CALL_ID,
                "type": "function",
                "function": {"name": name, "arguments": TOOL_ARGUMENTS},
            }]}),
            "tool_calls",
        ),
        Turn::Text => (json!({"role": "assistant", "content": ANSWER}), "stop"),
    };
    json!({
        "id": ID,
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": chat_usage(),
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    })
}

/// Makes the chunks of one streamed answer.
struct Chunks<'a> {
    model: &'a str,
    include_usage: bool,
    obfuscate: bool,
}

impl Chunks<'_> {
    /// A `data:` frame of a chunk with these choices.
    fn frame(&self, choices: Value, usage: Option<Value>) -> String {
        let mut chunk = json!({
            "id": ID,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": self.model,
            "service_tier": "default",
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "choices": choices,
        });
        if self.include_usage {
            chunk["usage"] = usage.unwrap_or(Value::Null);
        }
        if self.obfuscate {
            chunk["obfuscation"] = json!("fkPad");
        }
        sse::data(&chunk)
    }

    /// A frame of the one choice's delta, and its finish reason once it has one.
    fn delta(&self, delta: Value, finish: Option<&str>) -> String {
        let choice = json!({"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish});
        self.frame(json!([choice]), None)
    }
}

/// The answer as server-sent `chat.completion.chunk`s; a stalling model's text stops half-way.
fn stream(shared: &Arc<Shared>, body: &Value, model: &str, turn: &Turn) -> Response {
    let chunks = Chunks {
        model,
        include_usage: body.pointer("/stream_options/include_usage") == Some(&json!(true)),
        obfuscate: body.pointer("/stream_options/include_obfuscation") != Some(&json!(false)),
    };
    let mut frames = Vec::new();
    let finish = match turn {
        Turn::Call(name) => {
            frames.push(chunks.delta(
                json!({"role": "assistant", "content": null, "refusal": null, "tool_calls": [{
                    "index": 0,
                    "id": CALL_ID,
                    "type": "function",
                    "function": {"name": name, "arguments": ""},
                }]}),
                None,
            ));
            for part in TOOL_ARGUMENT_DELTAS {
                frames.push(chunks.delta(
                    json!({"tool_calls": [{"index": 0, "function": {"arguments": part}}]}),
                    None,
                ));
            }
            "tool_calls"
        }
        Turn::Text => {
            frames.push(chunks.delta(
                json!({"role": "assistant", "content": "", "refusal": null}),
                None,
            ));
            if model == STALLING_MODEL {
                for part in &ANSWER_DELTAS[..STALLING_DELTAS] {
                    frames.push(chunks.delta(json!({"content": part}), None));
                }
                return sse::respond(shared, frames, true);
            }
            for part in ANSWER_DELTAS {
                frames.push(chunks.delta(json!({"content": part}), None));
            }
            "stop"
        }
    };
    frames.push(chunks.delta(json!({}), Some(finish)));
    if chunks.include_usage {
        frames.push(chunks.frame(json!([]), Some(chat_usage())));
    }
    frames.push(sse::DONE.to_owned());
    sse::respond(shared, frames, false)
}
