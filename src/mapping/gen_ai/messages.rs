//! GenAI messages in the OpenTelemetry `parts` form (the input, output and system-instruction
//! JSON schemas) as the shape HoneyHive displays: OpenAI's chat messages.
//!
//! | part | in the message |
//! |---|---|
//! | `text` | `content` (several joined by newlines) |
//! | `tool_call` (`id`, `name`, `arguments`) | an entry of `tool_calls`: `{id, type: "function", function: {name, arguments}}`, arguments as JSON text |
//! | `server_tool_call` (`id`, `name`, `server_tool_call`) | the same entry, the provider's call details as the arguments |
//! | `tool_call_response` (`id`, `response`; older `result`), `server_tool_call_response` (`id`, `server_tool_call_response`) | a message of its own after it: `{role: "tool", tool_call_id, content}` |
//! | `reasoning` | `reasoning` (several joined by newlines) |
//! | `blob`, `file`, `uri` with a `transcript` | `content` from the transcripts when no `text` part gives one; the part is kept |
//! | anything else (`blob`, `file`, `uri`, `compaction`, `generic`, …) | kept under `parts` |
//!
//! A message whose parts were all read loses its `parts`. Other keys (`role`, `name`,
//! `finish_reason`) stay as they are.

use serde_json::{Map, Value, json};

/// A message list in the shape HoneyHive displays ([module docs](self)); anything that is not
/// a list is kept as it is, and a message without `parts` too.
pub(super) fn chat_messages(messages: Value) -> Value {
    let Value::Array(list) = messages else {
        return messages;
    };
    let mut out = Vec::with_capacity(list.len());
    for message in list {
        let Value::Object(mut message) = message else {
            out.push(message);
            continue;
        };
        let Some(Value::Array(parts)) = message.remove("parts") else {
            out.push(Value::Object(message));
            continue;
        };
        let read = read_parts(parts);
        fill(&mut message, read.content, read.transcripts, read.reasoning);
        if !read.calls.is_empty() {
            message.insert("tool_calls".into(), Value::Array(read.calls));
        }
        if !read.other.is_empty() {
            message.insert("parts".into(), Value::Array(read.other));
        }
        // A message that held only tool responses is replaced by them.
        let only_responses = !read.responses.is_empty()
            && ["content", "tool_calls", "parts", "reasoning"]
                .iter()
                .all(|key| !message.contains_key(*key));
        if !only_responses {
            out.push(Value::Object(message));
        }
        out.extend(read.responses);
    }
    Value::Array(out)
}

/// What a message's parts hold, sorted by where it goes.
#[derive(Default)]
struct Read {
    content: Vec<String>,
    transcripts: Vec<String>,
    reasoning: Vec<String>,
    calls: Vec<Value>,
    responses: Vec<Value>,
    other: Vec<Value>,
}

fn read_parts(parts: Vec<Value>) -> Read {
    let mut read = Read::default();
    for part in parts {
        let text = |key: &str| part.get(key).and_then(Value::as_str).map(str::to_owned);
        match part.get("type").and_then(Value::as_str) {
            Some("text") if text("content").is_some() => {
                read.content.extend(text("content"));
            }
            Some("reasoning") if text("content").is_some() => {
                read.reasoning.extend(text("content"));
            }
            Some("tool_call") => read.calls.push(tool_call(&part, "arguments")),
            Some("server_tool_call") => read.calls.push(tool_call(&part, "server_tool_call")),
            Some("tool_call_response") => {
                read.responses
                    .push(tool_response(&part, &["response", "result"]));
            }
            Some("server_tool_call_response") => {
                read.responses
                    .push(tool_response(&part, &["server_tool_call_response"]));
            }
            _ => {
                read.transcripts.extend(text("transcript"));
                read.other.push(part);
            }
        }
    }
    read
}

/// `content` from the text parts, else from the media transcripts (unless the message has its
/// own), and `reasoning` from the reasoning parts.
fn fill(
    message: &mut Map<String, Value>,
    content: Vec<String>,
    transcripts: Vec<String>,
    reasoning: Vec<String>,
) {
    let content = if content.is_empty() {
        transcripts
    } else {
        content
    };
    if !content.is_empty() && !message.contains_key("content") {
        message.insert("content".into(), Value::from(content.join("\n")));
    }
    if !reasoning.is_empty() && !message.contains_key("reasoning") {
        message.insert("reasoning".into(), Value::from(reasoning.join("\n")));
    }
}

/// The text of `text` parts.
pub(super) fn text_of(parts: &[Value]) -> Vec<&str> {
    parts
        .iter()
        .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|p| p.get("content").and_then(Value::as_str))
        .collect()
}

/// A tool call part as an OpenAI tool call, its arguments (under `arguments`) as JSON text.
fn tool_call(part: &Value, arguments: &str) -> Value {
    let arguments = match part.get(arguments) {
        Some(Value::String(text)) => Value::String(text.clone()),
        Some(Value::Null) | None => Value::String("{}".into()),
        Some(other) => Value::String(other.to_string()),
    };
    let mut call = json!({
        "type": "function",
        "function": {"name": part.get("name").cloned().unwrap_or(Value::Null), "arguments": arguments},
    });
    if let Some(id) = part.get("id").filter(|id| !id.is_null()) {
        call["id"] = id.clone();
    }
    call
}

/// A tool response part as a `role: "tool"` message, its response the first of `keys` present;
/// a response that is not text is kept as JSON text, as OpenAI's tool messages carry it.
fn tool_response(part: &Value, keys: &[&str]) -> Value {
    let content = match keys.iter().find_map(|key| part.get(*key)) {
        Some(Value::String(text)) => Value::String(text.clone()),
        Some(other) => Value::String(other.to_string()),
        None => Value::String(String::new()),
    };
    let mut message = json!({"role": "tool", "content": content});
    if let Some(id) = part.get("id").filter(|id| !id.is_null()) {
        message["tool_call_id"] = id.clone();
    }
    message
}
