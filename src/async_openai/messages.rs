//! OpenAI's messages in the OpenTelemetry GenAI form: a list of `{role, parts}` where a part is
//! `text`, `tool_call` (`id`, `name`, `arguments`), `tool_call_response` (`id`, `response`),
//! `reasoning`, `uri` or `blob` (media), or OpenAI's own part kept under its type. Pure.
//!
//! With content off, a message keeps its role and its parts' types, ids and tool names, and
//! everything a user or model wrote reads `[hidden]` ([`strip_parts`]).

use serde_json::{Map, Value, json};

/// Chat Completions' request `messages` as GenAI input messages. System and developer messages
/// stay in the list, where OpenAI's API has them.
pub(crate) fn from_chat(messages: &[Value], content: bool) -> Value {
    let list = messages.iter().map(chat_message).collect();
    finish(Value::Array(list), content)
}

/// One chat message (request or answer) in GenAI form.
pub(crate) fn chat_message(message: &Value) -> Value {
    let role = message
        .get("role")
        .and_then(Value::as_str)
        .unwrap_or("user");
    let mut parts = Vec::new();
    if role == "tool" {
        parts.push(json!({
            "type": "tool_call_response",
            "id": message.get("tool_call_id").cloned().unwrap_or(Value::Null),
            "response": content_text(message.get("content")),
        }));
    } else {
        content_parts(message.get("content"), &mut parts);
    }
    // Some OpenAI-compatible servers (DeepSeek, vLLM) return the model's reasoning beside it.
    for key in ["reasoning_content", "reasoning"] {
        if let Some(Value::String(text)) = message.get(key) {
            parts.push(json!({"type": "reasoning", "content": text}));
        }
    }
    if let Some(Value::String(refusal)) = message.get("refusal") {
        parts.push(json!({"type": "refusal", "content": refusal}));
    }
    if let Some(Value::Array(calls)) = message.get("tool_calls") {
        for call in calls {
            let function = call.get("function").unwrap_or(&Value::Null);
            parts.push(tool_call(
                call.get("id"),
                function.get("name"),
                function.get("arguments"),
            ));
        }
    }
    let mut out = json!({"role": role, "parts": parts});
    if let Some(name) = message.get("name") {
        out["name"] = name.clone();
    }
    out
}

/// A `tool_call` part; arguments that are a JSON object are given as one (the conventions'
/// preferred form), anything else as it came.
fn tool_call(id: Option<&Value>, name: Option<&Value>, arguments: Option<&Value>) -> Value {
    let arguments = match arguments {
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(object @ Value::Object(_)) => object,
            _ => Value::String(text.clone()),
        },
        Some(other) => other.clone(),
        None => Value::Null,
    };
    json!({
        "type": "tool_call",
        "id": id.cloned().unwrap_or(Value::Null),
        "name": name.cloned().unwrap_or(Value::Null),
        "arguments": arguments,
    })
}

/// A message's content: a text, or a list of content parts (Chat Completions' `text`,
/// `image_url`, `input_audio`, `file`; the Responses API's `input_text`, `output_text`,
/// `input_image`, `input_file`, `refusal`).
fn content_parts(content: Option<&Value>, parts: &mut Vec<Value>) {
    match content {
        Some(Value::String(text)) => parts.push(json!({"type": "text", "content": text})),
        Some(Value::Array(items)) => parts.extend(items.iter().map(content_part)),
        _ => {}
    }
}

fn content_part(item: &Value) -> Value {
    let kind = item.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "text" | "input_text" | "output_text" => {
            json!({"type": "text", "content": item.get("text").cloned().unwrap_or(Value::Null)})
        }
        "refusal" => json!({"type": "refusal", "content": item.get("refusal").cloned()}),
        "image_url" => media(item.pointer("/image_url/url"), "image"),
        "input_image" => match item.get("image_url") {
            Some(url) => media(Some(url), "image"),
            None => json!({"type": "file", "modality": "image", "file_id": item.get("file_id")}),
        },
        "input_audio" => {
            let format = item.pointer("/input_audio/format").and_then(Value::as_str);
            json!({
                "type": "blob",
                "modality": "audio",
                "mime_type": format.map(|f| format!("audio/{f}")),
                "content": item.pointer("/input_audio/data"),
            })
        }
        _ => item.clone(),
    }
}

/// An image given by URL: a `uri` part, or a `blob` when the URL is a `data:` URL.
fn media(url: Option<&Value>, modality: &str) -> Value {
    let url = url.and_then(Value::as_str).unwrap_or("");
    match url
        .strip_prefix("data:")
        .and_then(|rest| rest.split_once(";base64,"))
    {
        Some((mime, data)) => {
            json!({"type": "blob", "modality": modality, "mime_type": mime, "content": data})
        }
        None => json!({"type": "uri", "modality": modality, "uri": url}),
    }
}

/// Text content (a tool's answer): the text, or the texts of its parts joined.
fn content_text(content: Option<&Value>) -> Value {
    match content {
        Some(Value::Array(items)) => Value::String(
            items
                .iter()
                .filter_map(|i| i.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        Some(other) => other.clone(),
        None => Value::Null,
    }
}

/// A Chat Completions tool (`{type: "function", function: {name, description, parameters}}`)
/// as the conventions' tool definition (`{type, name, description, parameters}`).
pub(crate) fn chat_tool(tool: &Value) -> Value {
    match tool.get("function") {
        Some(Value::Object(function)) => {
            let mut out = Map::new();
            out.insert(
                "type".into(),
                tool.get("type").cloned().unwrap_or(json!("function")),
            );
            for key in ["name", "description", "parameters", "strict"] {
                if let Some(value) = function.get(key) {
                    out.insert(key.into(), value.clone());
                }
            }
            Value::Object(out)
        }
        _ => tool.clone(),
    }
}

/// The Responses API's `input` (a text, or a list of items) as GenAI input messages: message
/// items keep their role; a model's function calls (consecutive ones in one message) are
/// `assistant` tool calls, their outputs `tool` messages, reasoning an `assistant` part.
pub(crate) fn from_responses_input(input: &Value, content: bool) -> Value {
    let messages = match input {
        Value::String(text) => {
            vec![json!({"role": "user", "parts": [{"type": "text", "content": text}]})]
        }
        Value::Array(items) => {
            let mut messages: Vec<Value> = Vec::new();
            for item in items {
                push_item(&mut messages, item);
            }
            messages
        }
        _ => Vec::new(),
    };
    finish(Value::Array(messages), content)
}

/// The Responses API's `output` items as one `assistant` message (text, tool calls, reasoning).
pub(crate) fn from_responses_output(output: &[Value]) -> Vec<Value> {
    let mut parts = Vec::new();
    for item in output {
        match item.get("type").and_then(Value::as_str) {
            Some("message") => content_parts(item.get("content"), &mut parts),
            Some("function_call") => parts.push(tool_call(
                item.get("call_id"),
                item.get("name"),
                item.get("arguments"),
            )),
            Some("reasoning") => parts.extend(reasoning(item)),
            _ => parts.push(item.clone()),
        }
    }
    parts
}

fn reasoning(item: &Value) -> Option<Value> {
    let summary = item.get("summary")?.as_array()?;
    let text: Vec<&str> = summary
        .iter()
        .filter_map(|s| s.get("text").and_then(Value::as_str))
        .collect();
    (!text.is_empty()).then(|| json!({"type": "reasoning", "content": text.join("\n")}))
}

fn push_item(messages: &mut Vec<Value>, item: &Value) {
    let kind = item.get("type").and_then(Value::as_str);
    let part = match kind {
        None | Some("message") => {
            let role = item.get("role").and_then(Value::as_str).unwrap_or("user");
            let mut parts = Vec::new();
            content_parts(item.get("content"), &mut parts);
            messages.push(json!({"role": role, "parts": parts}));
            return;
        }
        Some("function_call_output") => {
            messages.push(json!({"role": "tool", "parts": [{
                "type": "tool_call_response",
                "id": item.get("call_id"),
                "response": content_text(item.get("output")),
            }]}));
            return;
        }
        Some("function_call") => {
            tool_call(item.get("call_id"), item.get("name"), item.get("arguments"))
        }
        Some("reasoning") => match reasoning(item) {
            Some(part) => part,
            None => return,
        },
        Some(_) => item.clone(),
    };
    // A model's item joins the assistant message before it, as one turn.
    match messages.last_mut() {
        Some(last) if last["role"] == "assistant" && last["parts"].is_array() => {
            if let Some(parts) = last["parts"].as_array_mut() {
                parts.push(part);
            }
        }
        _ => messages.push(json!({"role": "assistant", "parts": [part]})),
    }
}

/// The messages, or their content-free form.
fn finish(messages: Value, content: bool) -> Value {
    if content {
        return messages;
    }
    match messages {
        Value::Array(list) => Value::Array(
            list.into_iter()
                .map(|mut message| {
                    if let Some(parts) = message.get_mut("parts").map(Value::take) {
                        message["parts"] = strip_parts(parts);
                    }
                    message
                })
                .collect(),
        ),
        other => other,
    }
}

/// Parts without what was written in them: a part keeps its `type`, `id`, `name`, `modality`
/// and `mime_type`; its text, arguments, response or address read
/// [`HIDDEN`](crate::mapping::HIDDEN), as the crate's own content switch writes it.
pub(crate) fn strip_parts(parts: Value) -> Value {
    const KEPT: [&str; 5] = ["type", "id", "name", "modality", "mime_type"];
    let hide = |(key, value): (String, Value)| {
        if KEPT.contains(&key.as_str()) || value.is_null() {
            (key, value)
        } else {
            (key, Value::from(crate::mapping::HIDDEN))
        }
    };
    match parts {
        Value::Array(list) => Value::Array(
            list.into_iter()
                .map(|part| match part {
                    Value::Object(map) => Value::Object(map.into_iter().map(hide).collect()),
                    _ => Value::from(crate::mapping::HIDDEN),
                })
                .collect(),
        ),
        other => other,
    }
}

/// Output messages with content off.
pub(crate) fn strip_messages(messages: Value) -> Value {
    finish(messages, false)
}
