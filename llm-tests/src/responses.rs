//! The Responses API, `POST /v1/responses`: one `response` object, or its stream of events.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::{
    ANSWER, ANSWER_DELTAS, STALLING_DELTAS, STALLING_MODEL, Server, Shared, TOOL_ARGUMENT_DELTAS,
    TOOL_ARGUMENTS, Turn, receive, responses_usage, sse, streamed,
};

const ID: &str = "resp_fake_1";
const CREATED: u64 = 1_760_000_000;
const MESSAGE_ID: &str = "msg_1";
const CALL_ITEM_ID: &str = "fc_1";
const CALL_ID: &str = "call_lookup_1";

pub(crate) async fn responses(State(shared): Server, Json(body): Json<Value>) -> Response {
    let model = match receive(&shared, &body) {
        Ok(model) => model,
        Err(refusal) => return *refusal,
    };
    let answered = body["input"]
        .as_array()
        .is_some_and(|items| items.iter().any(|i| i["type"] == "function_call_output"));
    let turn = Turn::of(&body, answered);
    if streamed(&body) {
        stream(&shared, &model, &turn)
    } else {
        Json(response(&model, Some(&turn))).into_response()
    }
}

/// The `response` object: completed with the turn's output and usage, or, with no turn yet,
/// just begun.
fn response(model: &str, turn: Option<&Turn>) -> Value {
    let mut response = json!({
        "id": ID,
        "object": "response",
        "created_at": CREATED,
        "status": "in_progress",
        "model": model,
        "output": [],
        "error": null,
        "incomplete_details": null,
        "usage": null,
    });
    if let Some(turn) = turn {
        response["status"] = json!("completed");
        response["completed_at"] = json!(CREATED + 1);
        response["output"] = json!([item(turn, true)]);
        response["usage"] = responses_usage();
    }
    response
}

/// The output item of the turn, as added (empty, in progress) or done.
fn item(turn: &Turn, done: bool) -> Value {
    let status = if done { "completed" } else { "in_progress" };
    match turn {
        Turn::Call(name) => json!({
            "type": "function_call",
            "id": CALL_ITEM_ID,
            "call_id": CALL_ID,
            "name": name,
            "arguments": if done { TOOL_ARGUMENTS } else { "" },
            "status": status,
        }),
        Turn::Text => json!({
            "type": "message",
            "id": MESSAGE_ID,
            "role": "assistant",
            "status": status,
            "content": if done { json!([text_part(ANSWER)]) } else { json!([]) },
        }),
    }
}

/// An `output_text` content part.
fn text_part(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
}

/// Numbers the events of one stream.
struct Events {
    frames: Vec<String>,
}

impl Events {
    fn push(&mut self, name: &str, mut event: Value) {
        event["type"] = json!(name);
        event["sequence_number"] = json!(self.frames.len());
        self.frames.push(sse::event(name, &event));
    }
}

/// The answer as server-sent events; a stalling model's text stops half-way.
fn stream(shared: &Arc<Shared>, model: &str, turn: &Turn) -> Response {
    let mut events = Events { frames: Vec::new() };
    events.push(
        "response.created",
        json!({"response": response(model, None)}),
    );
    events.push(
        "response.in_progress",
        json!({"response": response(model, None)}),
    );
    events.push(
        "response.output_item.added",
        json!({"output_index": 0, "item": item(turn, false)}),
    );
    match turn {
        Turn::Call(name) => {
            for part in TOOL_ARGUMENT_DELTAS {
                events.push(
                    "response.function_call_arguments.delta",
                    json!({"item_id": CALL_ITEM_ID, "output_index": 0, "delta": part}),
                );
            }
            events.push(
                "response.function_call_arguments.done",
                json!({
                    "item_id": CALL_ITEM_ID,
                    "output_index": 0,
                    "name": name,
                    "arguments": TOOL_ARGUMENTS,
                }),
            );
        }
        Turn::Text => {
            let at = json!({"item_id": MESSAGE_ID, "output_index": 0, "content_index": 0});
            let with = |extra: Value| {
                let mut event = at.clone();
                for (key, value) in extra.as_object().into_iter().flatten() {
                    event[key] = value.clone();
                }
                event
            };
            events.push(
                "response.content_part.added",
                with(json!({"part": text_part("")})),
            );
            let stalls = model == STALLING_MODEL;
            for (n, part) in ANSWER_DELTAS.into_iter().enumerate() {
                if stalls && n == STALLING_DELTAS {
                    return sse::respond(shared, events.frames, true);
                }
                events.push(
                    "response.output_text.delta",
                    with(json!({"delta": part, "logprobs": []})),
                );
            }
            events.push(
                "response.output_text.done",
                with(json!({"text": ANSWER, "logprobs": []})),
            );
            events.push(
                "response.content_part.done",
                with(json!({"part": text_part(ANSWER)})),
            );
        }
    }
    events.push(
        "response.output_item.done",
        json!({"output_index": 0, "item": item(turn, true)}),
    );
    events.push(
        "response.completed",
        json!({"response": response(model, Some(turn))}),
    );
    sse::respond(shared, events.frames, false)
}
