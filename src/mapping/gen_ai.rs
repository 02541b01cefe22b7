//! OpenTelemetry GenAI semantic conventions (`gen_ai.*`) onto HoneyHive's canonical keys, for the
//! tracing layer and the OpenTelemetry exporter alike.
//!
//! | attribute | HoneyHive |
//! |---|---|
//! | `gen_ai.request.model` | `config.model` |
//! | `gen_ai.provider.name`, `gen_ai.system` | `config.provider` |
//! | any other `gen_ai.request.<name>` (`temperature`, `top_p`, `max_tokens`, `stream`, …) | `config.<name>` |
//! | `gen_ai.tool.definitions` | `config.tools` |
//! | `gen_ai.usage.input_tokens` (`prompt_tokens`) | `metadata.prompt_tokens` |
//! | `gen_ai.usage.output_tokens` (`completion_tokens`) | `metadata.completion_tokens` |
//! | `gen_ai.usage.total_tokens`, else the sum of the two | `metadata.total_tokens` |
//! | `gen_ai.usage.cache_read.input_tokens` (`cache_read_input_tokens`) | `metadata.cache_read_input_tokens` |
//! | `gen_ai.usage.cache_creation.input_tokens` (`cache_creation_input_tokens`, `cache_write_input_tokens`) | `metadata.cache_write_input_tokens` |
//! | `gen_ai.usage.reasoning.output_tokens` (`reasoning_tokens`) | `metadata.reasoning_tokens` |
//! | `gen_ai.response.model`, `.id`, `.finish_reasons` | `metadata.response_model`, `.response_id`, `.finish_reasons` |
//! | `gen_ai.operation.name`, `gen_ai.agent.name`, `.id`, `.description`, `gen_ai.conversation.id` | `metadata.operation`, `.agent_name`, `.agent_id`, `.agent_description`, `.conversation_id` |
//! | `gen_ai.tool.name`, `gen_ai.tool.description`, `gen_ai.tool.type` | `config.tool_name`, `config.tool_description`, `config.tool_type` |
//! | `gen_ai.tool.call.id` | `metadata.tool_call_id` |
//! | `gen_ai.tool.call.arguments`, `gen_ai.tool.call.result` | `inputs.arguments`, `outputs.result` |
//! | `gen_ai.input.messages`, `gen_ai.prompt` | `inputs.chat_history` (plain text: one `user` message) |
//! | `gen_ai.system_instructions` | a leading `system` message of `inputs.chat_history` |
//! | `gen_ai.output.messages`, `gen_ai.completion` | `outputs.messages`; one message also as `outputs.role`, `.content`, `.tool_calls`, `.finish_reason` (plain text: `outputs.content`) |
//! | any other `gen_ai.*` | `metadata` under its full name |
//!
//! Values given as JSON text (message lists, arguments) are parsed. Messages in the
//! OpenTelemetry `parts` form become the shape HoneyHive displays — OpenAI's chat messages: text
//! parts become `content`, `tool_call` parts the message's `tool_calls`
//! (`{id, type: "function", function: {name, arguments}}`), and each `tool_call_response` part
//! a `role: "tool"` message with `tool_call_id` and `content`.

use serde_json::{Value, json};

use super::{Key, Object};
use crate::recorded::{Bucket, FieldValue, Fields};
use crate::wire::EventType;

/// Where `key` goes when it is a known GenAI attribute: bucket, key, and whether a text value
/// is JSON to parse.
fn target(key: &str) -> Option<(Bucket, &'static str, bool)> {
    use Bucket::{Config, Inputs, Metadata, Outputs};
    Some(match key {
        "gen_ai.request.model" => (Config, "model", false),
        "gen_ai.provider.name" | "gen_ai.system" => (Config, "provider", false),
        "gen_ai.request.stop_sequences" => (Config, "stop_sequences", true),
        "gen_ai.tool.definitions" => (Config, "tools", true),
        "gen_ai.usage.input_tokens" | "gen_ai.usage.prompt_tokens" => {
            (Metadata, "prompt_tokens", false)
        }
        "gen_ai.usage.output_tokens" | "gen_ai.usage.completion_tokens" => {
            (Metadata, "completion_tokens", false)
        }
        "gen_ai.usage.total_tokens" => (Metadata, "total_tokens", false),
        "gen_ai.usage.cache_read.input_tokens"
        | "gen_ai.usage.cache_read_input_tokens"
        | "gen_ai.usage.cached_tokens" => (Metadata, "cache_read_input_tokens", false),
        "gen_ai.usage.cache_creation.input_tokens"
        | "gen_ai.usage.cache_creation_input_tokens"
        | "gen_ai.usage.cache_write_input_tokens" => (Metadata, "cache_write_input_tokens", false),
        "gen_ai.usage.reasoning.output_tokens"
        | "gen_ai.usage.reasoning_tokens"
        | "gen_ai.usage.reasoning_output_tokens" => (Metadata, "reasoning_tokens", false),
        "gen_ai.response.model" => (Metadata, "response_model", false),
        "gen_ai.response.id" => (Metadata, "response_id", false),
        "gen_ai.response.finish_reasons" => (Metadata, "finish_reasons", true),
        "gen_ai.operation.name" => (Metadata, "operation", false),
        "gen_ai.agent.name" => (Metadata, "agent_name", false),
        "gen_ai.agent.id" => (Metadata, "agent_id", false),
        "gen_ai.agent.description" => (Metadata, "agent_description", false),
        "gen_ai.conversation.id" => (Metadata, "conversation_id", false),
        "gen_ai.tool.name" => (Config, "tool_name", false),
        "gen_ai.tool.description" => (Config, "tool_description", false),
        "gen_ai.tool.type" => (Config, "tool_type", false),
        "gen_ai.tool.call.id" => (Metadata, "tool_call_id", false),
        "gen_ai.tool.call.arguments" => (Inputs, "arguments", true),
        "gen_ai.tool.call.result" => (Outputs, "result", true),
        "gen_ai.input.messages" | "gen_ai.prompt" => (Inputs, "chat_history", true),
        "gen_ai.output.messages" | "gen_ai.completion" => (Outputs, "messages", true),
        "gen_ai.system_instructions" => (Inputs, SYSTEM_INSTRUCTIONS, true),
        _ => return None,
    })
}

/// Whether a key holds a count: token counts, `max_tokens`, `top_k`, `seed`. A count may arrive
/// as text: tracing-opentelemetry turns a `u64` field into a string attribute.
fn counts(bucket: Bucket, key: &str) -> bool {
    match bucket {
        Bucket::Metadata => key.ends_with("_tokens"),
        Bucket::Config => matches!(key, "max_tokens" | "top_k" | "seed" | "choice.count"),
        _ => false,
    }
}

/// Text that is a whole number becomes that number; anything else is kept.
pub(crate) fn number_from_text(value: Value) -> Value {
    match &value {
        Value::String(text) => {
            let text = text.trim();
            text.parse::<u64>()
                .map(Value::from)
                .or_else(|_| text.parse::<i64>().map(Value::from))
                .unwrap_or(value)
        }
        _ => value,
    }
}

/// Where `gen_ai.system_instructions` waits for [`finish`] to make it the history's first message.
const SYSTEM_INSTRUCTIONS: &str = "system_instructions";

/// Places a `gen_ai.*` value with `put(bucket, key, value)`. Unknown `gen_ai.*` names go to
/// `metadata` under their full name.
pub(crate) fn place(key: &str, value: Value, put: &mut dyn FnMut(Bucket, Key, Value)) {
    let Some((bucket, name, parse)) = target(key) else {
        match key.strip_prefix("gen_ai.request.") {
            Some(parameter) if counts(Bucket::Config, parameter) => {
                put(
                    Bucket::Config,
                    parameter.to_owned().into(),
                    number_from_text(value),
                );
            }
            Some(parameter) => put(
                Bucket::Config,
                parameter.to_owned().into(),
                parse_json_text(value),
            ),
            None => put(Bucket::Metadata, key.to_owned().into(), value),
        }
        return;
    };
    let name = Key::Borrowed(name);
    let value = if parse { parse_json_text(value) } else { value };
    let value = if counts(bucket, &name) {
        number_from_text(value)
    } else {
        value
    };
    match (bucket, name.as_ref()) {
        (Bucket::Inputs, "chat_history") => {
            let messages = match value {
                Value::String(text) => json!([{"role": "user", "content": text}]),
                other => chat_messages(other),
            };
            put(bucket, name, messages);
        }
        (Bucket::Outputs, "messages") => {
            let messages = match value {
                Value::String(text) => {
                    put(bucket, "role".into(), json!("assistant"));
                    put(bucket, "content".into(), Value::String(text));
                    return;
                }
                other => chat_messages(other),
            };
            if let Some(Value::Object(only)) =
                messages.as_array().filter(|m| m.len() == 1).map(|m| &m[0])
            {
                for key in ["role", "content", "tool_calls", "finish_reason"] {
                    if let Some(v) = only.get(key) {
                        put(bucket, key.into(), v.clone());
                    }
                }
            }
            put(bucket, name, messages);
        }
        _ => put(bucket, name, value),
    }
}

/// What needs several attributes at once, once all are placed: the system instructions become
/// the history's leading `system` message (unless it already starts with that message).
pub(crate) fn finish(inputs: &mut Object) {
    let Some(instructions) = inputs.remove(SYSTEM_INSTRUCTIONS) else {
        return;
    };
    let content = match instructions {
        Value::String(text) => Value::String(text),
        Value::Array(parts) if parts.iter().all(|p| p.get("type").is_some()) => {
            Value::String(text_of(&parts).join("\n"))
        }
        other => other,
    };
    let history = inputs
        .entry("chat_history".into())
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(messages) = history else {
        // A history that is not a list: the instructions stay beside it.
        inputs.insert(SYSTEM_INSTRUCTIONS.into(), content);
        return;
    };
    let already = messages.first().is_some_and(|first| {
        first.get("role").and_then(Value::as_str) == Some("system")
            && first.get("content") == Some(&content)
    });
    if !already {
        messages.insert(0, json!({"role": "system", "content": content}));
    }
}

/// The conventional name of a GenAI span, when the span's own name says no more than its
/// operation (as `chat`, `execute_tool`, `invoke_agent` spans of LLM crates do): `{operation}
/// {model}`, `execute_tool {tool}`, `invoke_agent {agent}`.
pub(crate) fn span_name(fields: &Fields, name: &str) -> Option<String> {
    let operation = text(fields, "gen_ai.operation.name")?;
    if !name.trim().eq_ignore_ascii_case(operation.trim()) && !name.trim().is_empty() {
        return None;
    }
    let subject = match operation.trim() {
        "execute_tool" => text(fields, "gen_ai.tool.name"),
        "invoke_agent" | "create_agent" => text(fields, "gen_ai.agent.name"),
        _ => text(fields, "gen_ai.request.model"),
    }?;
    Some(format!("{} {subject}", operation.trim()))
}

/// The name of a session whose root is an agent's run: the agent's.
pub(crate) fn session_name(fields: &Fields) -> Option<String> {
    match text(fields, "gen_ai.operation.name")?.trim() {
        "invoke_agent" | "create_agent" => text(fields, "gen_ai.agent.name").map(str::to_owned),
        _ => None,
    }
}

/// The error a failed tool call reports (`gen_ai.tool.call.outcome = error`, or a
/// `gen_ai.tool.error.type`): its error type, else its result, else that it failed.
pub(crate) fn tool_error(fields: &Fields) -> Option<String> {
    let failed = text(fields, "gen_ai.tool.call.outcome")
        .is_some_and(|o| o.trim().eq_ignore_ascii_case("error"));
    let kind = text(fields, "gen_ai.tool.error.type").filter(|t| !t.trim().is_empty());
    if !failed && kind.is_none() {
        return None;
    }
    let name = text(fields, "gen_ai.tool.name").unwrap_or("the tool");
    Some(match (kind, text(fields, "gen_ai.tool.call.result")) {
        (Some(kind), _) => format!("{name} failed: {kind}"),
        (None, Some(result)) if !result.trim().is_empty() => format!("{name} failed: {result}"),
        _ => format!("{name} failed"),
    })
}

fn text<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    match fields.get(name)? {
        FieldValue::Str(s) => Some(s.as_str()),
        _ => None,
    }
}

/// Adds `metadata.total_tokens` when both token counts are there and the total is not.
pub(crate) fn complete_usage(metadata: &mut Object) {
    if metadata.contains_key("total_tokens") {
        return;
    }
    let count = |key: &str| metadata.get(key).and_then(Value::as_u64);
    if let (Some(prompt), Some(completion)) = (count("prompt_tokens"), count("completion_tokens")) {
        metadata.insert(
            "total_tokens".into(),
            Value::from(prompt.saturating_add(completion)),
        );
    }
}

/// The event type the GenAI attributes imply: the operation first, then a requested model
/// (a model call), then a tool name (a tool call).
pub(crate) fn infer_event_type(
    operation: Option<&str>,
    has_request_model: bool,
    has_tool_name: bool,
) -> Option<EventType> {
    let by_operation = operation.and_then(|op| match op.trim() {
        "chat" | "text_completion" | "generate_content" | "embeddings" => Some(EventType::Model),
        "execute_tool" => Some(EventType::Tool),
        "invoke_agent" | "create_agent" => Some(EventType::Chain),
        _ => None,
    });
    by_operation
        .or(has_request_model.then_some(EventType::Model))
        .or(has_tool_name.then_some(EventType::Tool))
}

/// A string holding a JSON array or object becomes that value; anything else is kept.
fn parse_json_text(value: Value) -> Value {
    match &value {
        Value::String(text) if looks_structured(text) => {
            serde_json::from_str(text).unwrap_or(value)
        }
        _ => value,
    }
}

fn looks_structured(text: &str) -> bool {
    let text = text.trim_start();
    text.starts_with('[') || text.starts_with('{')
}

/// A message list in the shape HoneyHive displays. Messages in the OpenTelemetry `parts` form
/// get `content` from their text parts and `tool_calls` from their `tool_call` parts; each
/// `tool_call_response` part becomes a message of its own, `role: "tool"`. A message whose parts
/// were all read loses its `parts`; one with other parts (reasoning, media) keeps them.
fn chat_messages(messages: Value) -> Value {
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
        let mut text = Vec::new();
        let mut calls = Vec::new();
        let mut responses = Vec::new();
        let mut other = Vec::new();
        for part in parts {
            match part.get("type").and_then(Value::as_str) {
                Some("text") if part.get("content").is_some_and(Value::is_string) => {
                    text.push(part["content"].as_str().unwrap_or_default().to_owned());
                }
                Some("tool_call") => calls.push(tool_call(&part)),
                Some("tool_call_response") => responses.push(tool_response(&part)),
                _ => other.push(part),
            }
        }
        if !text.is_empty() && !message.contains_key("content") {
            message.insert("content".into(), Value::from(text.join("\n")));
        }
        if !calls.is_empty() {
            message.insert("tool_calls".into(), Value::Array(calls));
        }
        if !other.is_empty() {
            message.insert("parts".into(), Value::Array(other));
        }
        // A message that held only tool responses is replaced by them.
        let only_responses = !responses.is_empty()
            && message.get("content").is_none()
            && message.get("tool_calls").is_none()
            && message.get("parts").is_none();
        if !only_responses {
            out.push(Value::Object(message));
        }
        out.extend(responses);
    }
    Value::Array(out)
}

/// The text of `text` parts.
fn text_of(parts: &[Value]) -> Vec<&str> {
    parts
        .iter()
        .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|p| p.get("content").and_then(Value::as_str))
        .collect()
}

/// A `tool_call` part as an OpenAI tool call; arguments that are not text become JSON text.
fn tool_call(part: &Value) -> Value {
    let arguments = match part.get("arguments") {
        Some(Value::String(text)) => Value::String(text.clone()),
        Some(other) => Value::String(other.to_string()),
        None => Value::String("{}".into()),
    };
    let mut call = json!({
        "type": "function",
        "function": {"name": part.get("name").cloned().unwrap_or(Value::Null), "arguments": arguments},
    });
    if let Some(id) = part.get("id") {
        call["id"] = id.clone();
    }
    call
}

/// A `tool_call_response` part as a `role: "tool"` message; a response that is not text is kept
/// as JSON text, as OpenAI's tool messages carry it.
fn tool_response(part: &Value) -> Value {
    let content = match part.get("response").or_else(|| part.get("result")) {
        Some(Value::String(text)) => Value::String(text.clone()),
        Some(other) => Value::String(other.to_string()),
        None => Value::String(String::new()),
    };
    let mut message = json!({"role": "tool", "content": content});
    if let Some(id) = part.get("id") {
        message["tool_call_id"] = id.clone();
    }
    message
}

#[cfg(test)]
mod tests;
