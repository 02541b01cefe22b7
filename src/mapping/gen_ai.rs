//! OpenTelemetry GenAI semantic conventions (`gen_ai.*`) onto HoneyHive's canonical keys, for the
//! tracing layer and the OpenTelemetry exporter alike. The conventions (now in
//! open-telemetry/semantic-conventions-genai) renamed and added names that rig and genai do not
//! emit yet: the newer name and the older one map to the same key.
//!
//! | attribute (older spellings in brackets) | HoneyHive |
//! |---|---|
//! | `gen_ai.request.model` | `config.model` |
//! | `gen_ai.provider.name` (`gen_ai.system`) | `config.provider` |
//! | `gen_ai.request.reasoning.level` (`gen_ai.request.reasoning_effort`) | `config.reasoning_effort` |
//! | any other `gen_ai.request.<name>` (`temperature`, `top_p`, `top_k`, `max_tokens`, `seed`, `stream`, `encoding_formats`, …) | `config.<name>` |
//! | `gen_ai.embeddings.dimension.count`, `gen_ai.output.type` | `config.dimensions`, `config.output_type` |
//! | `gen_ai.tool.definitions` | `config.tools` |
//! | `gen_ai.usage.input_tokens` (`prompt_tokens`) | `metadata.prompt_tokens` |
//! | `gen_ai.usage.output_tokens` (`completion_tokens`) | `metadata.completion_tokens` |
//! | `gen_ai.usage.total_tokens`, else the sum of the two | `metadata.total_tokens` |
//! | `gen_ai.usage.cache_read.input_tokens` (`cache_read_input_tokens`, `cached_tokens`) | `metadata.cache_read_input_tokens` |
//! | `gen_ai.usage.cache_write.input_tokens` (`cache_creation.input_tokens`, `cache_creation_input_tokens`, `cache_write_input_tokens`) | `metadata.cache_write_input_tokens` |
//! | `gen_ai.usage.reasoning.output_tokens` (`reasoning_tokens`, `reasoning_output_tokens`) | `metadata.reasoning_tokens` |
//! | `gen_ai.usage.{text, image, audio, video}.input_tokens` (`input_audio_tokens`) | `metadata.prompt_{text, image, audio, video}_tokens` |
//! | `gen_ai.usage.{text, image, audio}.output_tokens` (`output_audio_tokens`) | `metadata.completion_{text, image, audio}_tokens` |
//! | `gen_ai.usage.{text, image, audio}.cache_read.input_tokens` | `metadata.cache_read_{text, image, audio}_input_tokens` |
//! | `gen_ai.usage.cost.amount`, `.currency`, `.source` | `metadata.cost`, `.cost_currency`, `.cost_source` |
//! | `gen_ai.response.model`, `.id`, `.finish_reasons` | `metadata.response_model`, `.response_id`, `.finish_reasons` |
//! | `gen_ai.request.previous_response.id` | `metadata.previous_response_id` |
//! | `gen_ai.response.time_to_first_chunk` (seconds) | `metadata.time_to_first_token_ms`, and in seconds under its own name |
//! | `gen_ai.operation.name`, `gen_ai.conversation.id`, `gen_ai.conversation.compacted` | `metadata.operation`, `.conversation_id`, `.conversation_compacted` |
//! | `gen_ai.agent.name`, `.id`, `.description`, `.version`, `gen_ai.main_agent.name` | `metadata.agent_name`, `.agent_id`, `.agent_description`, `.agent_version`, `.main_agent_name` |
//! | `gen_ai.agent.handoff.source.name`, `.target.name` | `metadata.handoff_source`, `.handoff_target` |
//! | `gen_ai.workflow.name`, `gen_ai.step.name` | `metadata.workflow_name`, `.step_name` |
//! | `gen_ai.prompt.name`, `gen_ai.prompt.version` | `metadata.prompt_name`, `.prompt_version` |
//! | `gen_ai.prompt.variable.<key>` | `inputs.template_variables.<key>` |
//! | `gen_ai.tool.name`, `gen_ai.tool.description`, `gen_ai.tool.type` | `config.tool_name`, `config.tool_description`, `config.tool_type` |
//! | `gen_ai.tool.call.id` | `metadata.tool_call_id` |
//! | `gen_ai.tool.call.arguments`, `gen_ai.tool.call.result` | `inputs.arguments`, `outputs.result` |
//! | `gen_ai.data_source.id` | `metadata.data_source_id` |
//! | `gen_ai.retrieval.query.text`, `gen_ai.memory.query.text` | `inputs.query` |
//! | `gen_ai.retrieval.documents` | `outputs.documents` |
//! | `gen_ai.memory.store.id`, `.record.id`, `.record.count` | `metadata.memory_store_id`, `.memory_record_id`, `.memory_record_count` |
//! | `gen_ai.input.messages`, `gen_ai.prompt` | `inputs.chat_history` (plain text: one `user` message) |
//! | `gen_ai.input.messages_delta` | `inputs.chat_history_delta` |
//! | `gen_ai.system_instructions` | a leading `system` message of `inputs.chat_history` |
//! | `gen_ai.output.messages`, `gen_ai.completion` | `outputs.messages`; one message also as `outputs.role`, `.content`, `.tool_calls`, `.finish_reason` (plain text: `outputs.content`); a message without a finish reason takes the only one of `gen_ai.response.finish_reasons` |
//! | any other `gen_ai.*` | `metadata` under its full name |
//!
//! Values given as JSON text (message lists, arguments) are parsed; counts given as text (as
//! tracing-opentelemetry records a `u64`) become numbers. Messages in the OpenTelemetry `parts`
//! form become the shape HoneyHive displays, OpenAI's chat messages ([`messages`]).

mod messages;

use serde_json::{Value, json};

use super::dialects::Placement;
use super::{Key, Object};
use crate::recorded::{Bucket, FieldValue, Fields};
use crate::wire::EventType;
use messages::{chat_messages, text_of};

/// Where `key` goes when it is a known GenAI attribute: bucket, key, and whether a text value
/// is JSON to parse.
fn target(key: &str) -> Option<(Bucket, &'static str, bool)> {
    use Bucket::{Config, Inputs, Metadata, Outputs};
    Some(match key {
        "gen_ai.request.model" => (Config, "model", false),
        "gen_ai.provider.name" | "gen_ai.system" => (Config, "provider", false),
        "gen_ai.request.stop_sequences" => (Config, "stop_sequences", true),
        "gen_ai.request.reasoning.level" => (Config, "reasoning_effort", false),
        "gen_ai.request.previous_response.id" => (Metadata, "previous_response_id", false),
        "gen_ai.embeddings.dimension.count" => (Config, "dimensions", false),
        "gen_ai.output.type" => (Config, "output_type", false),
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
        "gen_ai.usage.cache_write.input_tokens"
        | "gen_ai.usage.cache_creation.input_tokens"
        | "gen_ai.usage.cache_creation_input_tokens"
        | "gen_ai.usage.cache_write_input_tokens" => (Metadata, "cache_write_input_tokens", false),
        "gen_ai.usage.reasoning.output_tokens"
        | "gen_ai.usage.reasoning_tokens"
        | "gen_ai.usage.reasoning_output_tokens" => (Metadata, "reasoning_tokens", false),
        "gen_ai.usage.text.input_tokens" => (Metadata, "prompt_text_tokens", false),
        "gen_ai.usage.image.input_tokens" => (Metadata, "prompt_image_tokens", false),
        "gen_ai.usage.audio.input_tokens" | "gen_ai.usage.input_audio_tokens" => {
            (Metadata, "prompt_audio_tokens", false)
        }
        "gen_ai.usage.video.input_tokens" => (Metadata, "prompt_video_tokens", false),
        "gen_ai.usage.text.output_tokens" => (Metadata, "completion_text_tokens", false),
        "gen_ai.usage.image.output_tokens" => (Metadata, "completion_image_tokens", false),
        "gen_ai.usage.audio.output_tokens" | "gen_ai.usage.output_audio_tokens" => {
            (Metadata, "completion_audio_tokens", false)
        }
        "gen_ai.usage.text.cache_read.input_tokens" => {
            (Metadata, "cache_read_text_input_tokens", false)
        }
        "gen_ai.usage.image.cache_read.input_tokens" => {
            (Metadata, "cache_read_image_input_tokens", false)
        }
        "gen_ai.usage.audio.cache_read.input_tokens" => {
            (Metadata, "cache_read_audio_input_tokens", false)
        }
        "gen_ai.usage.cost.amount" => (Metadata, "cost", false),
        "gen_ai.usage.cost.currency" => (Metadata, "cost_currency", false),
        "gen_ai.usage.cost.source" => (Metadata, "cost_source", false),
        "gen_ai.response.model" => (Metadata, "response_model", false),
        "gen_ai.response.id" => (Metadata, "response_id", false),
        "gen_ai.response.finish_reasons" => (Metadata, "finish_reasons", true),
        "gen_ai.response.time_to_first_chunk" => (Metadata, TIME_TO_FIRST_TOKEN, false),
        "gen_ai.operation.name" => (Metadata, "operation", false),
        "gen_ai.conversation.id" => (Metadata, "conversation_id", false),
        "gen_ai.conversation.compacted" => (Metadata, "conversation_compacted", false),
        "gen_ai.agent.name" => (Metadata, "agent_name", false),
        "gen_ai.agent.id" => (Metadata, "agent_id", false),
        "gen_ai.agent.description" => (Metadata, "agent_description", false),
        "gen_ai.agent.version" => (Metadata, "agent_version", false),
        "gen_ai.main_agent.name" => (Metadata, "main_agent_name", false),
        "gen_ai.agent.handoff.source.name" => (Metadata, "handoff_source", false),
        "gen_ai.agent.handoff.target.name" => (Metadata, "handoff_target", false),
        "gen_ai.workflow.name" => (Metadata, "workflow_name", false),
        "gen_ai.step.name" => (Metadata, "step_name", false),
        "gen_ai.prompt.name" => (Metadata, "prompt_name", false),
        "gen_ai.prompt.version" => (Metadata, "prompt_version", false),
        "gen_ai.tool.name" => (Config, "tool_name", false),
        "gen_ai.tool.description" => (Config, "tool_description", false),
        "gen_ai.tool.type" => (Config, "tool_type", false),
        "gen_ai.tool.call.id" => (Metadata, "tool_call_id", false),
        "gen_ai.tool.call.arguments" => (Inputs, "arguments", true),
        "gen_ai.tool.call.result" => (Outputs, "result", true),
        "gen_ai.data_source.id" => (Metadata, "data_source_id", false),
        "gen_ai.retrieval.query.text" | "gen_ai.memory.query.text" => (Inputs, "query", false),
        "gen_ai.retrieval.documents" => (Outputs, "documents", true),
        "gen_ai.memory.store.id" => (Metadata, "memory_store_id", false),
        "gen_ai.memory.record.id" => (Metadata, "memory_record_id", false),
        "gen_ai.memory.record.count" => (Metadata, "memory_record_count", false),
        "gen_ai.input.messages" | "gen_ai.prompt" => (Inputs, "chat_history", true),
        "gen_ai.input.messages_delta" => (Inputs, "chat_history_delta", true),
        "gen_ai.output.messages" | "gen_ai.completion" => (Outputs, "messages", true),
        "gen_ai.system_instructions" => (Inputs, SYSTEM_INSTRUCTIONS, true),
        _ => return None,
    })
}

/// The key of the time to the first streamed chunk, which the conventions give in seconds.
const TIME_TO_FIRST_TOKEN: &str = "time_to_first_token_ms";

/// The prefix of the prompt template's variables, one attribute each.
const PROMPT_VARIABLE: &str = "gen_ai.prompt.variable.";

/// The GenAI names that are a family with a key of their own (`gen_ai.prompt.variable.<key>`):
/// their placements, dotted paths the caller re-nests, or the value back.
pub(crate) fn try_family(name: &str, value: Value) -> Result<Vec<Placement>, Value> {
    match name.strip_prefix(PROMPT_VARIABLE) {
        Some(key) if !key.is_empty() => Ok(vec![Placement {
            bucket: Bucket::Inputs,
            path: format!("template_variables.{key}"),
            value,
        }]),
        _ => Err(value),
    }
}

/// Whether a key holds a count: token counts, `max_tokens`, `top_k`, `seed`, the embeddings'
/// dimensions, the memory records. A count may arrive as text: tracing-opentelemetry turns a
/// `u64` field into a string attribute.
fn counts(bucket: Bucket, key: &str) -> bool {
    match bucket {
        Bucket::Metadata => key.ends_with("_tokens") || key == "memory_record_count",
        Bucket::Config => matches!(
            key,
            "max_tokens" | "top_k" | "seed" | "choice.count" | "dimensions"
        ),
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
        (Bucket::Inputs, "chat_history_delta") => put(bucket, name, chat_messages(value)),
        (Bucket::Metadata, TIME_TO_FIRST_TOKEN) => {
            // Also under its own name, in seconds, where it was kept before it had a key.
            put(bucket, key.to_owned().into(), value.clone());
            put(bucket, name, seconds_to_ms(value));
        }
        _ => put(bucket, name, value),
    }
}

/// A time in seconds (a number, or its text) as milliseconds; anything else is kept.
fn seconds_to_ms(value: Value) -> Value {
    let seconds = match &value {
        Value::Number(n) => n.as_f64(),
        Value::String(text) => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    match seconds.and_then(|s| serde_json::Number::from_f64(s * 1e3)) {
        Some(ms) => Value::Number(ms),
        None => value,
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

/// `outputs.finish_reason` for a single answer (`outputs.role` is set) without one of its own,
/// from `metadata.finish_reasons` (`finish_reasons`) when it holds exactly one: the conventions
/// deprecated the message's `finish_reason` for `gen_ai.response.finish_reasons`.
pub(crate) fn finish_reason(outputs: &mut Object, finish_reasons: Option<&Value>) {
    if !outputs.contains_key("role") || outputs.contains_key("finish_reason") {
        return;
    }
    let only = match finish_reasons {
        Some(Value::Array(reasons)) if reasons.len() == 1 => &reasons[0],
        Some(reason) => reason,
        None => return,
    };
    if only.is_string() {
        outputs.insert("finish_reason".into(), only.clone());
    }
}

/// The conventional name of a GenAI span, when the span's own name says no more than its
/// operation (as `chat`, `execute_tool`, `invoke_agent` spans of LLM crates do): `{operation}
/// {model}`, `execute_tool {tool}`, `invoke_agent {agent}`, `plan {agent}`,
/// `invoke_workflow {workflow}`.
pub(crate) fn span_name(fields: &Fields, name: &str) -> Option<String> {
    let operation = text(fields, "gen_ai.operation.name")?;
    if !name.trim().eq_ignore_ascii_case(operation.trim()) && !name.trim().is_empty() {
        return None;
    }
    let subject = match operation.trim() {
        "execute_tool" => text(fields, "gen_ai.tool.name"),
        "invoke_agent" | "create_agent" | "plan" => text(fields, "gen_ai.agent.name"),
        "invoke_workflow" => text(fields, "gen_ai.workflow.name"),
        _ => text(fields, "gen_ai.request.model"),
    }?;
    Some(format!("{} {subject}", operation.trim()))
}

/// The name of a session whose root is an agent's or a workflow's run: the agent's, the
/// workflow's.
pub(crate) fn session_name(fields: &Fields) -> Option<String> {
    match text(fields, "gen_ai.operation.name")?.trim() {
        "invoke_agent" | "create_agent" => text(fields, "gen_ai.agent.name").map(str::to_owned),
        "invoke_workflow" => text(fields, "gen_ai.workflow.name").map(str::to_owned),
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
/// (a model call), then a tool name (a tool call). A call to a model (inference, embeddings,
/// speech) is a model event; running an agent, a workflow, a plan, a step, a conversation turn,
/// a retrieval, a memory operation or fetching a stored response is a chain.
pub(crate) fn infer_event_type(
    operation: Option<&str>,
    has_request_model: bool,
    has_tool_name: bool,
) -> Option<EventType> {
    let by_operation = operation.and_then(|op| match op.trim() {
        "chat" | "text_completion" | "generate_content" | "embeddings" | "realtime_inference"
        | "speech_to_text" | "text_to_speech" => Some(EventType::Model),
        "execute_tool" => Some(EventType::Tool),
        "invoke_agent"
        | "create_agent"
        | "invoke_workflow"
        | "plan"
        | "run_step"
        | "handle_conversation_turn"
        | "retrieval"
        | "fetch_response"
        | "create_memory_store"
        | "delete_memory_store"
        | "create_memory"
        | "update_memory"
        | "upsert_memory"
        | "search_memory"
        | "delete_memory" => Some(EventType::Chain),
        _ => None,
    });
    by_operation
        .or(has_request_model.then_some(EventType::Model))
        .or(has_tool_name.then_some(EventType::Tool))
}

/// A string holding a JSON array or object becomes that value; anything else is kept.
pub(crate) fn parse_json_text(value: Value) -> Value {
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

#[cfg(test)]
mod tests;
