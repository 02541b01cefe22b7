//! The LLM-tracing attribute dialects HoneyHive ingests besides the OpenTelemetry GenAI
//! conventions ([`super::gen_ai`]): OpenInference (Arize Phoenix and its instrumentations),
//! Traceloop / OpenLLMetry, and Langfuse (its OpenTelemetry SDKs, and the short `langfuse.*`
//! tracing fields swiftide records). Pure: one attribute in, the values it places out.
//!
//! | attribute | HoneyHive |
//! |---|---|
//! | `openinference.span.kind`, `traceloop.span.kind`, `llm.request.type`, `langfuse.observation.type` (`langfuse.type`) | the event type ([`event_type`]), and `metadata` under their full name |
//! | `llm.input_messages.N.message.*`, `gen_ai.prompt.N.*` | `inputs.chat_history.N` (OpenAI's chat messages) |
//! | `llm.output_messages.N.message.*`, `gen_ai.completion.N.*` | `outputs.messages.N`; message 0 also at the top of `outputs` (`role`, `content`, `tool_calls`, `finish_reason`) |
//! | `…message.tool_calls.M.tool_call.{id, function.name, function.arguments}`, `gen_ai.*.N.tool_calls.M.{id, name, arguments}` | the message's `tool_calls.M`: `{id, type: "function", function: {name, arguments}}` |
//! | `…message.contents.K.message_content.{type, text, image.image.url}` | the message's `content.K`: OpenAI content parts (`{type, text}`, `{image_url: {url}}`) |
//! | `input.value`, `output.value` | `inputs.input`, `outputs.output` (JSON text parsed) |
//! | `llm.model_name`, `llm.request.model_name`, `llm.response.model_name` | `config.model`, `config.request_model`, `metadata.response_model` |
//! | `llm.provider`, `llm.system` | `config.provider`, `config.system` |
//! | `llm.invocation_parameters`, `langfuse.observation.model.parameters` | merged into `config` |
//! | `llm.tools.N.tool.json_schema`, `llm.request.functions.N.*` | `config.tools.N` |
//! | `tool.name`, `tool.description`, `tool.parameters`, `tool.json_schema`, `tool.id` | `config.tool_name`, `.tool_description`, `.tool_parameters`, `.tool_json_schema`, `metadata.tool_call_id` |
//! | `llm.token_count.{prompt, completion, total}`, `llm.usage.*_tokens` | `metadata.{prompt, completion, total}_tokens` |
//! | `llm.token_count.prompt_details.cache_{read, write}`, `…completion_details.reasoning` | `metadata.cache_{read, write}_input_tokens`, `metadata.reasoning_tokens` |
//! | `langfuse.observation.usage_details` (`langfuse.usage`) | the same `metadata.*_tokens` keys; other keys in `metadata.usage` |
//! | `user.id`, `langfuse.user.id`, `traceloop.association.properties.user_id` | `user_properties.user_id` |
//! | `session.id`, `langfuse.session.id` | `metadata.session_id` |
//! | `metadata` (JSON text), `traceloop.association.properties.X`, `langfuse.{observation, trace}.metadata.X` | merged into `metadata`, `metadata.X` |
//! | `traceloop.entity.input`, `.output`, `langfuse.{observation, trace}.input`, `.output` (`langfuse.input`, `.output`) | an object merged into `inputs` / `outputs`; a message list as `chat_history` / `messages`; anything else under `input` / `output` |
//! | `retrieval.documents.N.document.*`, `reranker.{input, output}_documents.N.document.*` | `outputs.documents.N`, `inputs.documents.N` |
//!
//! JSON text (invocation parameters, entity inputs, tool schemas, Langfuse values, which its
//! Python SDK serialises with `json.dumps`) is parsed where the dialect puts JSON in a string,
//! and kept as text when it does not parse. A name no dialect here knows gives `None`: the caller
//! maps it as before, so no attribute is lost.

use serde_json::{Map, Value, json};

use crate::recorded::{Bucket, FieldValue, Fields};
use crate::wire::EventType;

/// One value placed by a dialect: `path` is dotted inside the bucket ("chat_history.0.role");
/// the caller re-nests dotted paths and turns objects whose keys are exactly 0..n into arrays
/// (see `Buckets::put_nested` and `numbered_to_arrays` in mapping.rs). An empty path merges an
/// object value into the bucket itself.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Placement {
    pub(crate) bucket: Bucket,
    pub(crate) path: String,
    pub(crate) value: Value,
}

/// Where a dialect attribute goes, or `None` when `name` belongs to no dialect here (the caller
/// then maps it as before). `value` is the attribute's JSON value (text stays a JSON string;
/// JSON text is parsed here where the dialect puts JSON in a string, falling back to the text
/// when it does not parse).
#[cfg(test)]
pub(crate) fn place(name: &str, value: Value) -> Option<Vec<Placement>> {
    try_place(name, value).ok()
}

/// [`place`], with the value given back when no dialect here claims the name.
pub(crate) fn try_place(name: &str, value: Value) -> Result<Vec<Placement>, Value> {
    if let Some((bucket, path, how)) = simple(name) {
        return Ok(vec![how.place(name, bucket, path, value)]);
    }
    let families: [Family; 3] = [indexed_message, indexed_other, prefixed];
    let mut value = value;
    for family in families {
        match family(name, value) {
            Ok(placements) => return Ok(placements),
            Err(unplaced) => value = unplaced,
        }
    }
    Err(value)
}

/// The event type a dialect's span-kind attribute declares, if any: OpenInference's span kind,
/// then Langfuse's observation type, then Traceloop's span kind, then its request type. A kind
/// none of them knows (`UNKNOWN`) declares nothing.
pub(crate) fn event_type(fields: &Fields) -> Option<EventType> {
    use EventType::{Chain, Model, Tool};
    let openinference = |kind: &str| match kind {
        "llm" | "embedding" => Some(Model),
        "tool" => Some(Tool),
        "chain" | "agent" | "retriever" | "reranker" | "guardrail" | "evaluator" | "prompt" => {
            Some(Chain)
        }
        _ => None,
    };
    let langfuse = |kind: &str| match kind {
        "generation" | "embedding" => Some(Model),
        "tool" => Some(Tool),
        "span" | "agent" | "chain" | "event" | "retriever" | "evaluator" | "guardrail" => {
            Some(Chain)
        }
        _ => None,
    };
    let traceloop = |kind: &str| match kind {
        "workflow" | "task" | "agent" => Some(Chain),
        "tool" => Some(Tool),
        _ => None,
    };
    let request_type = |kind: &str| match kind {
        "chat" | "completion" | "embedding" | "rerank" => Some(Model),
        _ => None,
    };
    let kinds: [(&str, Kinds); 5] = [
        ("openinference.span.kind", openinference),
        ("langfuse.observation.type", langfuse),
        ("langfuse.type", langfuse),
        ("traceloop.span.kind", traceloop),
        ("llm.request.type", request_type),
    ];
    kinds
        .into_iter()
        .find_map(|(name, kind)| match fields.get(name) {
            Some(FieldValue::Str(text)) => kind(&text.trim().to_ascii_lowercase()),
            _ => None,
        })
}

/// A family of attributes named by a pattern: their placements, or the value back when the name
/// is not of the family.
type Family = fn(&str, Value) -> Result<Vec<Placement>, Value>;

/// A dialect's span kinds (trimmed, lowercase) as event types.
type Kinds = fn(&str) -> Option<EventType>;

/// How a one-to-one attribute's value is placed.
#[derive(Debug, Clone, Copy)]
enum How {
    /// As given.
    Plain,
    /// JSON text parsed.
    Parsed,
    /// JSON text parsed: an object merged into the bucket, anything else under the key.
    Merged,
    /// In `metadata` under the attribute's full name, as the caller keeps names it does not
    /// know (a span kind, a MIME type).
    Verbatim,
}

impl How {
    fn place(self, name: &str, bucket: Bucket, path: &str, value: Value) -> Placement {
        match self {
            How::Plain => at(bucket, path, value),
            How::Parsed => at(bucket, path, parsed(value)),
            How::Merged => merged_or(bucket, path, value),
            How::Verbatim => {
                let mut named = Map::new();
                named.insert(name.to_owned(), value);
                at(Bucket::Metadata, "", Value::Object(named))
            }
        }
    }
}

/// The attributes that map one to one: bucket, path, and how.
fn simple(name: &str) -> Option<(Bucket, &'static str, How)> {
    use Bucket::{Config, Inputs, Metadata, Outputs, UserProperties};
    use How::{Merged, Parsed, Plain, Verbatim};
    Some(match name {
        // Span kinds, read by `event_type`.
        "openinference.span.kind"
        | "traceloop.span.kind"
        | "llm.request.type"
        | "langfuse.observation.type"
        | "langfuse.type" => (Metadata, "", Verbatim),

        // OpenInference. `input.value` / `output.value` stay under one key rather than being
        // merged: on an LLM span they are the raw provider request and response, which repeat
        // `chat_history` and `messages`; merged, their `messages`, `model`, `choices`, `usage`
        // would crowd the keys HoneyHive displays. Under one key they read as one value, text
        // as `input: "…"`, and never collide with another attribute's key.
        "input.value" => (Inputs, "input", Parsed),
        "output.value" => (Outputs, "output", Parsed),
        "input.mime_type" | "output.mime_type" => (Metadata, "", Verbatim),
        "llm.model_name" | "embedding.model_name" | "reranker.model_name" => {
            (Config, "model", Plain)
        }
        "llm.request.model_name" => (Config, "request_model", Plain),
        "llm.response.model_name" => (Metadata, "response_model", Plain),
        // The hosting provider (`openai`, `azure`, `anthropic`) is HoneyHive's `provider`;
        // `llm.system`, the API family (`openai` for Azure too), is kept beside it rather than
        // letting the two overwrite each other.
        "llm.provider" => (Config, "provider", Plain),
        "llm.system" => (Config, "system", Plain),
        "llm.invocation_parameters" | "embedding.invocation_parameters" => {
            (Config, "invocation_parameters", Merged)
        }
        "llm.finish_reason" => (Outputs, "finish_reason", Plain),
        "llm.function_call" => (Outputs, "function_call", Parsed),
        "llm.prompts" => (Inputs, "prompts", Parsed),
        "llm.prompt_template.template" => (Config, "template", Plain),
        "llm.prompt_template.version" => (Config, "template_version", Plain),
        "llm.prompt_template.variables" => (Inputs, "template_variables", Parsed),
        "llm.token_count.prompt" => (Metadata, "prompt_tokens", Plain),
        "llm.token_count.completion" => (Metadata, "completion_tokens", Plain),
        "llm.token_count.total" => (Metadata, "total_tokens", Plain),
        "llm.token_count.prompt_details.cache_read" => (Metadata, "cache_read_input_tokens", Plain),
        "llm.token_count.prompt_details.cache_write" => {
            (Metadata, "cache_write_input_tokens", Plain)
        }
        "llm.token_count.prompt_details.audio" => (Metadata, "prompt_audio_tokens", Plain),
        "llm.token_count.completion_details.reasoning" => (Metadata, "reasoning_tokens", Plain),
        "llm.token_count.completion_details.audio" => (Metadata, "completion_audio_tokens", Plain),
        "tool.name" => (Config, "tool_name", Plain),
        "tool.description" => (Config, "tool_description", Plain),
        "tool.parameters" => (Config, "tool_parameters", Parsed),
        "tool.json_schema" => (Config, "tool_json_schema", Parsed),
        "tool.id" => (Metadata, "tool_call_id", Plain),
        "user.id" => (UserProperties, "user_id", Plain),
        "session.id" => (Metadata, "session_id", Plain),
        "metadata" => (Metadata, "metadata", Merged),
        "tag.tags" => (Metadata, "tags", Parsed),
        "agent.name" => (Metadata, "agent_name", Plain),
        "reranker.query" => (Inputs, "query", Plain),
        "reranker.top_k" => (Config, "top_k", Plain),

        // Traceloop / OpenLLMetry: the SDK's workflow attributes, and the `llm.*` names its
        // instrumentations used before the GenAI conventions.
        "traceloop.entity.name" => (Metadata, "entity_name", Plain),
        "traceloop.entity.path" => (Metadata, "entity_path", Plain),
        "traceloop.entity.version" => (Metadata, "entity_version", Plain),
        "traceloop.workflow.name" => (Metadata, "workflow_name", Plain),
        "traceloop.entity.input" => (Inputs, "input", Merged),
        "traceloop.entity.output" => (Outputs, "output", Merged),
        "traceloop.prompt.template" => (Config, "template", Plain),
        "traceloop.prompt.template_variables" => (Inputs, "template_variables", Parsed),
        "traceloop.prompt.key" => (Metadata, "prompt_key", Plain),
        "traceloop.prompt.version" => (Metadata, "prompt_version", Plain),
        "traceloop.prompt.version_name" => (Metadata, "prompt_version_name", Plain),
        "traceloop.prompt.version_hash" => (Metadata, "prompt_version_hash", Plain),
        "traceloop.prompt.managed" => (Metadata, "prompt_managed", Plain),
        "traceloop.correlation.id" => (Metadata, "correlation_id", Plain),
        "llm.vendor" => (Config, "provider", Plain),
        "llm.request.model" => (Config, "model", Plain),
        "llm.response.model" => (Metadata, "response_model", Plain),
        "llm.request.max_tokens" => (Config, "max_tokens", Plain),
        "llm.temperature" => (Config, "temperature", Plain),
        "llm.top_p" => (Config, "top_p", Plain),
        "llm.top_k" => (Config, "top_k", Plain),
        "llm.frequency_penalty" => (Config, "frequency_penalty", Plain),
        "llm.presence_penalty" => (Config, "presence_penalty", Plain),
        "llm.chat.stop_sequences" => (Config, "stop_sequences", Parsed),
        "llm.request.repetition_penalty" => (Config, "repetition_penalty", Plain),
        "llm.request.reasoning_effort" => (Config, "reasoning_effort", Plain),
        "llm.is_streaming" => (Config, "is_streaming", Plain),
        "llm.user" => (Config, "user", Plain),
        "llm.headers" => (Config, "headers", Plain),
        "llm.response.finish_reason" => (Outputs, "finish_reason", Plain),
        "llm.response.stop_reason" => (Metadata, "stop_reason", Plain),
        "llm.usage.prompt_tokens" => (Metadata, "prompt_tokens", Plain),
        "llm.usage.completion_tokens" => (Metadata, "completion_tokens", Plain),
        "llm.usage.total_tokens" => (Metadata, "total_tokens", Plain),
        "llm.usage.reasoning_tokens" => (Metadata, "reasoning_tokens", Plain),

        // Langfuse: the OpenTelemetry SDKs' names, and swiftide's short tracing fields.
        "langfuse.observation.model.name" | "langfuse.model" => (Config, "model", Plain),
        "langfuse.observation.model.parameters" | "langfuse.model_parameters" => {
            (Config, "model_parameters", Merged)
        }
        "langfuse.observation.cost_details" => (Metadata, "cost_details", Parsed),
        "langfuse.observation.level" | "langfuse.level" => (Metadata, "level", Plain),
        "langfuse.observation.status_message" | "langfuse.status_message" => {
            (Metadata, "status_message", Plain)
        }
        "langfuse.observation.completion_start_time" => (Metadata, "completion_start_time", Parsed),
        "langfuse.observation.prompt.name" => (Metadata, "prompt_name", Plain),
        "langfuse.observation.prompt.version" => (Metadata, "prompt_version", Plain),
        "langfuse.observation.metadata" => (Metadata, "observation_metadata", Merged),
        "langfuse.trace.metadata" => (Metadata, "trace_metadata", Merged),
        "langfuse.trace.name" => (Metadata, "trace_name", Plain),
        "langfuse.trace.tags" => (Metadata, "tags", Parsed),
        "langfuse.trace.public" => (Metadata, "trace_public", Plain),
        "langfuse.user.id" => (UserProperties, "user_id", Plain),
        "langfuse.session.id" => (Metadata, "session_id", Plain),
        "langfuse.environment" => (Metadata, "environment", Plain),
        "langfuse.release" => (Metadata, "release", Plain),
        "langfuse.version" => (Metadata, "version", Plain),
        "langfuse.start_time" => (Metadata, "start_time", Parsed),
        _ => return None,
    })
}

/// A message attribute with an index: OpenInference's `llm.{input, output}_messages.N.*` and
/// Traceloop's `gen_ai.{prompt, completion}.N.*` (the unindexed `gen_ai.prompt.*` names, such as
/// `gen_ai.prompt.prompt_filter_results`, are the GenAI mapping's).
fn indexed_message(name: &str, value: Value) -> Result<Vec<Placement>, Value> {
    use Bucket::{Inputs, Outputs};
    let found = [
        ("llm.input_messages.", Inputs, true),
        ("llm.output_messages.", Outputs, true),
        ("gen_ai.prompt.", Inputs, false),
        ("gen_ai.completion.", Outputs, false),
    ]
    .into_iter()
    .find_map(|(prefix, bucket, oi)| {
        let (n, field) = indexed(name.strip_prefix(prefix)?)?;
        Some((bucket, n, field, oi))
    });
    let Some((bucket, n, field, openinference)) = found else {
        return Err(value);
    };
    let fields = if openinference {
        openinference_message(field, value)
    } else {
        traceloop_message(field, value)
    };
    let list = if bucket == Inputs {
        "chat_history"
    } else {
        "messages"
    };
    let mut placements = Vec::with_capacity(fields.len() * 2);
    for (path, value) in fields {
        if bucket == Outputs && n == 0 {
            // The caller cannot tell a one-message answer from a longer one: the first
            // message also goes to the top of `outputs`, which HoneyHive displays.
            placements.push(at(bucket, &format!("{list}.0.{path}"), value.clone()));
            placements.push(at(bucket, &path, value));
        } else {
            placements.push(at(bucket, &format!("{list}.{n}.{path}"), value));
        }
    }
    Ok(placements)
}

/// The other indexed attributes: tool definitions, completions-API prompts and choices,
/// embeddings, and retrieved or reranked documents.
fn indexed_other(name: &str, value: Value) -> Result<Vec<Placement>, Value> {
    use Bucket::{Config, Inputs, Outputs};
    if let Some((n, field)) = name.strip_prefix("llm.tools.").and_then(indexed) {
        return Ok(vec![match field {
            "tool.json_schema" => at(Config, &format!("tools.{n}"), parsed(value)),
            other => {
                let other = other.strip_prefix("tool.").unwrap_or(other);
                at(Config, &format!("tools.{n}.{other}"), parsed(value))
            }
        }]);
    }
    if let Some((n, field)) = name
        .strip_prefix("llm.request.functions.")
        .and_then(indexed)
    {
        let base = format!("tools.{n}");
        return Ok(match field {
            "name" => vec![
                at(Config, &format!("{base}.type"), json!("function")),
                at(Config, &format!("{base}.function.name"), value),
            ],
            "parameters" => vec![at(
                Config,
                &format!("{base}.function.parameters"),
                parsed(value),
            )],
            other => vec![at(Config, &format!("{base}.function.{other}"), value)],
        });
    }
    if let Some((n, field)) = name.strip_prefix("llm.prompts.").and_then(indexed) {
        let path = match field {
            "prompt.text" => format!("prompts.{n}"),
            other => format!("prompts.{n}.{other}"),
        };
        return Ok(vec![at(Inputs, &path, value)]);
    }
    if let Some((n, field)) = name.strip_prefix("llm.choices.").and_then(indexed) {
        let field = field.strip_prefix("completion.").unwrap_or(field);
        let mut placements = vec![at(Outputs, &format!("choices.{n}.{field}"), value.clone())];
        if n == 0 && field == "text" {
            placements.push(at(Outputs, "content", value));
        }
        return Ok(placements);
    }
    if let Some((n, field)) = name.strip_prefix("embedding.embeddings.").and_then(indexed) {
        return Ok(vec![match field {
            "embedding.text" => at(Inputs, &format!("texts.{n}"), value),
            "embedding.vector" => at(Outputs, &format!("embeddings.{n}"), value),
            other => at(Outputs, &format!("embedding_details.{n}.{other}"), value),
        }]);
    }
    let documents = [
        ("retrieval.documents.", Outputs),
        ("reranker.input_documents.", Inputs),
        ("reranker.output_documents.", Outputs),
    ];
    for (prefix, bucket) in documents {
        if let Some((n, field)) = name.strip_prefix(prefix).and_then(indexed) {
            let field = field.strip_prefix("document.").unwrap_or(field);
            let value = if field == "metadata" {
                parsed(value)
            } else {
                value
            };
            return Ok(vec![at(bucket, &format!("documents.{n}.{field}"), value)]);
        }
    }
    Err(value)
}

/// Families named by a prefix: Traceloop's association properties, Langfuse's flattened
/// metadata, its inputs and outputs, and its usage.
fn prefixed(name: &str, value: Value) -> Result<Vec<Placement>, Value> {
    use Bucket::{Inputs, Metadata, Outputs, UserProperties};
    if let Some(key) = name.strip_prefix("traceloop.association.properties.") {
        return Ok(vec![match key {
            "user_id" => at(UserProperties, "user_id", value),
            other => at(Metadata, other, value),
        }]);
    }
    let metadata = name
        .strip_prefix("langfuse.observation.metadata.")
        .or_else(|| name.strip_prefix("langfuse.trace.metadata."));
    if let Some(key) = metadata {
        return Ok(vec![at(Metadata, key, parsed(value))]);
    }
    Ok(match name {
        "langfuse.observation.input" | "langfuse.input" => langfuse_io(Inputs, "input", value),
        "langfuse.trace.input" => langfuse_io(Inputs, "trace_input", value),
        "langfuse.observation.output" | "langfuse.output" => langfuse_io(Outputs, "output", value),
        "langfuse.trace.output" => langfuse_io(Outputs, "trace_output", value),
        "langfuse.observation.usage_details" | "langfuse.observation.usage" | "langfuse.usage" => {
            usage(value)
        }
        _ => return Err(value),
    })
}

/// A field of an OpenInference message (after `llm.input_messages.N.`) as paths inside an
/// OpenAI chat message.
fn openinference_message(field: &str, value: Value) -> Vec<(String, Value)> {
    let field = field.strip_prefix("message.").unwrap_or(field);
    if let Some((m, call)) = field.strip_prefix("tool_calls.").and_then(indexed) {
        let call = call.strip_prefix("tool_call.").unwrap_or(call);
        let base = format!("tool_calls.{m}");
        let mut fields = Vec::with_capacity(2);
        if call == "function.name" {
            fields.push((format!("{base}.type"), json!("function")));
        }
        fields.push((format!("{base}.{call}"), value));
        return fields;
    }
    if let Some((k, part)) = field.strip_prefix("contents.").and_then(indexed) {
        // OpenAI content parts: `{type: "text", text}`; an image's URL as `image_url.url`.
        let part = part.strip_prefix("message_content.").unwrap_or(part);
        let part = match part {
            "image.image.url" => "image_url.url",
            other => other,
        };
        return vec![(format!("content.{k}.{part}"), value)];
    }
    let path = match field {
        "function_call_name" => "function_call.name",
        "function_call_arguments_json" => "function_call.arguments",
        other => other,
    };
    vec![(path.to_owned(), value)]
}

/// A field of a Traceloop message (after `gen_ai.prompt.N.`) as paths inside an OpenAI chat
/// message: tool calls take OpenAI's shape, and content given as a JSON list of parts (images)
/// is parsed. Arguments stay JSON text, as OpenAI gives them.
fn traceloop_message(field: &str, value: Value) -> Vec<(String, Value)> {
    if let Some((m, call)) = field.strip_prefix("tool_calls.").and_then(indexed) {
        let base = format!("tool_calls.{m}");
        return match call {
            "name" => vec![
                (format!("{base}.type"), json!("function")),
                (format!("{base}.function.name"), value),
            ],
            "arguments" => vec![(format!("{base}.function.arguments"), value)],
            other => vec![(format!("{base}.{other}"), value)],
        };
    }
    let value = match (field, value) {
        // Only a list of parts is parsed: a tool result that is JSON stays the text the model
        // read.
        ("content", Value::String(text)) if text.trim_start().starts_with('[') => {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        }
        ("content_filter_results", value) => parsed(value),
        (_, value) => value,
    };
    vec![(field.to_owned(), value)]
}

/// A Langfuse input or output: an object is merged into the bucket, a list of chat messages
/// becomes `chat_history` / `messages` (one output message also at the top of `outputs`), and
/// anything else goes under `key`.
fn langfuse_io(bucket: Bucket, key: &str, value: Value) -> Vec<Placement> {
    let value = parsed(value);
    let is_message = |v: &Value| v.get("role").is_some_and(Value::is_string);
    match value {
        Value::Object(_) => vec![at(bucket, "", value)],
        Value::Array(items) if !items.is_empty() && items.iter().all(is_message) => {
            let mut placements = Vec::new();
            let list = if bucket == Bucket::Inputs {
                "chat_history"
            } else {
                "messages"
            };
            if let (Bucket::Outputs, [Value::Object(only)]) = (bucket, items.as_slice()) {
                placements.extend(only.iter().map(|(k, v)| at(bucket, k, v.clone())));
            }
            placements.push(at(bucket, list, Value::Array(items)));
            placements
        }
        other => vec![at(bucket, key, other)],
    }
}

/// Langfuse usage (`{"input": 10, "output": 3, "total": 13}`, its v2 SDK's `promptTokens`, or
/// swiftide's `{prompt_tokens, completion_tokens, total_tokens, details}`) as HoneyHive's token
/// counts in `metadata`; keys with no counterpart go to `metadata.usage`.
fn usage(value: Value) -> Vec<Placement> {
    let mut placements = Vec::new();
    match parsed(value) {
        Value::Object(map) => usage_entries("usage", map, &mut placements),
        other => placements.push(at(Bucket::Metadata, "usage", other)),
    }
    placements
}

fn usage_entries(base: &str, map: Map<String, Value>, placements: &mut Vec<Placement>) {
    for (key, value) in map {
        let canonical = match key.as_str() {
            "input" | "prompt_tokens" | "promptTokens" | "input_tokens" => "prompt_tokens",
            "output" | "completion_tokens" | "completionTokens" | "output_tokens" => {
                "completion_tokens"
            }
            "total" | "total_tokens" | "totalTokens" => "total_tokens",
            "input_cache_read"
            | "input_cached_tokens"
            | "cache_read_input_tokens"
            | "cached_tokens" => "cache_read_input_tokens",
            "input_cache_creation" | "cache_creation_input_tokens" => "cache_write_input_tokens",
            "output_reasoning" | "output_reasoning_tokens" | "reasoning_tokens" => {
                "reasoning_tokens"
            }
            _ => "",
        };
        let nested = matches!(
            key.as_str(),
            "details"
                | "prompt_tokens_details"
                | "input_tokens_details"
                | "completion_tokens_details"
                | "output_tokens_details"
        );
        match value {
            Value::Object(inner) if nested => {
                usage_entries(&format!("{base}.{key}"), inner, placements);
            }
            value if !canonical.is_empty() => {
                placements.push(at(Bucket::Metadata, canonical, value));
            }
            value => placements.push(at(Bucket::Metadata, &format!("{base}.{key}"), value)),
        }
    }
}

/// `"3.rest"` → (3, `"rest"`): an index, then the rest of the name.
fn indexed(rest: &str) -> Option<(usize, &str)> {
    let (index, field) = rest.split_once('.')?;
    if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) || field.is_empty() {
        return None;
    }
    Some((index.parse().ok()?, field))
}

fn at(bucket: Bucket, path: &str, value: Value) -> Placement {
    Placement {
        bucket,
        path: path.to_owned(),
        value,
    }
}

/// JSON text parsed: an object merged into the bucket (empty path), anything else under `key`.
fn merged_or(bucket: Bucket, key: &str, value: Value) -> Placement {
    match parsed(value) {
        object @ Value::Object(_) => at(bucket, "", object),
        other => at(bucket, key, other),
    }
}

/// Text holding a JSON object, array or string (the SDKs `json.dumps` what they record) becomes
/// that value; anything else, and text that does not parse, is kept.
fn parsed(value: Value) -> Value {
    match &value {
        Value::String(text) if text.trim_start().starts_with(['{', '[', '"']) => {
            serde_json::from_str(text).unwrap_or(value)
        }
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

    use super::*;

    /// The buckets a list of attributes becomes, applied by the mapping's own code: dotted
    /// paths re-nested, an empty path merging an object, objects keyed `0..n` made arrays.
    fn apply(attributes: &[(&str, Value)]) -> Value {
        let mut buckets = crate::mapping::Buckets::default();
        let mut renested = Vec::new();
        for (name, value) in attributes {
            let placements =
                place(name, value.clone()).unwrap_or_else(|| panic!("{name} belongs to a dialect"));
            buckets.apply(placements, &mut renested);
        }
        buckets.arrays(renested);
        let objects: Map<String, Value> = Bucket::ALL
            .into_iter()
            .filter_map(|b| Some((b.name().to_owned(), Value::Object(buckets.take(b)?))))
            .collect();
        Value::Object(objects)
    }

    fn placement(bucket: Bucket, path: &str, value: Value) -> Placement {
        at(bucket, path, value)
    }

    fn fields(attributes: &[(&str, &str)]) -> Fields {
        let mut fields = Fields::default();
        for (name, value) in attributes {
            fields.set(name.to_string(), FieldValue::Str((*value).to_owned()));
        }
        fields
    }

    /// An OpenAI chat completion traced by openinference-instrumentation-openai: a system and a
    /// user message, one tool advertised, an assistant answer that calls it.
    #[test]
    fn openinference_llm_span_reads_as_honeyhive_displays() {
        let tool_schema = r#"{"type": "function", "function": {"name": "get_weather", "description": "Get current weather", "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}}"#;
        let buckets = apply(&[
            ("openinference.span.kind", json!("LLM")),
            ("llm.system", json!("openai")),
            ("llm.provider", json!("azure")),
            ("llm.model_name", json!("gpt-4o-mini-2024-07-18")),
            (
                "llm.invocation_parameters",
                json!(r#"{"model": "gpt-4o-mini", "temperature": 0.1, "max_tokens": 256}"#),
            ),
            (
                "input.value",
                json!(
                    r#"{"messages": [{"role": "user", "content": "Weather in Boston?"}], "model": "gpt-4o-mini"}"#
                ),
            ),
            ("input.mime_type", json!("application/json")),
            ("llm.input_messages.0.message.role", json!("system")),
            (
                "llm.input_messages.0.message.content",
                json!("You are a weather assistant."),
            ),
            ("llm.input_messages.1.message.role", json!("user")),
            (
                "llm.input_messages.1.message.content",
                json!("What's the weather in Boston?"),
            ),
            ("llm.tools.0.tool.json_schema", json!(tool_schema)),
            ("llm.output_messages.0.message.role", json!("assistant")),
            (
                "llm.output_messages.0.message.tool_calls.0.tool_call.id",
                json!("call_123"),
            ),
            (
                "llm.output_messages.0.message.tool_calls.0.tool_call.function.name",
                json!("get_weather"),
            ),
            (
                "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments",
                json!(r#"{"location": "Boston, MA"}"#),
            ),
            ("output.mime_type", json!("application/json")),
            ("llm.token_count.prompt", json!(229)),
            ("llm.token_count.completion", json!(21)),
            ("llm.token_count.total", json!(250)),
            ("llm.token_count.prompt_details.cache_read", json!(128)),
            ("llm.token_count.completion_details.reasoning", json!(0)),
        ]);
        let tool_call = json!({
            "id": "call_123",
            "type": "function",
            "function": {"name": "get_weather", "arguments": "{\"location\": \"Boston, MA\"}"},
        });
        assert_eq!(
            buckets,
            json!({
                "inputs": {
                    "input": {
                        "messages": [{"role": "user", "content": "Weather in Boston?"}],
                        "model": "gpt-4o-mini",
                    },
                    "chat_history": [
                        {"role": "system", "content": "You are a weather assistant."},
                        {"role": "user", "content": "What's the weather in Boston?"},
                    ],
                },
                "config": {
                    "system": "openai",
                    "provider": "azure",
                    "model": "gpt-4o-mini",
                    "temperature": 0.1,
                    "max_tokens": 256,
                    "tools": [serde_json::from_str::<Value>(tool_schema).unwrap()],
                },
                "outputs": {
                    "messages": [{"role": "assistant", "tool_calls": [tool_call.clone()]}],
                    "role": "assistant",
                    "tool_calls": [tool_call],
                },
                "metadata": {
                    "openinference.span.kind": "LLM",
                    "input.mime_type": "application/json",
                    "output.mime_type": "application/json",
                    "prompt_tokens": 229,
                    "completion_tokens": 21,
                    "total_tokens": 250,
                    "cache_read_input_tokens": 128,
                    "reasoning_tokens": 0,
                },
            })
        );
    }

    #[test]
    fn openinference_tool_calls_are_placed_openai_shaped() {
        assert_eq!(
            place(
                "llm.input_messages.2.message.tool_calls.1.tool_call.function.name",
                json!("multiply"),
            ),
            Some(vec![
                placement(
                    Bucket::Inputs,
                    "chat_history.2.tool_calls.1.type",
                    json!("function")
                ),
                placement(
                    Bucket::Inputs,
                    "chat_history.2.tool_calls.1.function.name",
                    json!("multiply")
                ),
            ])
        );
        assert_eq!(
            place(
                "llm.input_messages.3.message.tool_call_id",
                json!("call_62136355")
            ),
            Some(vec![placement(
                Bucket::Inputs,
                "chat_history.3.tool_call_id",
                json!("call_62136355")
            )])
        );
        assert_eq!(
            place(
                "llm.output_messages.1.message.content",
                json!("second choice")
            ),
            Some(vec![placement(
                Bucket::Outputs,
                "messages.1.content",
                json!("second choice")
            )])
        );
        assert_eq!(
            place("llm.output_messages.0.message.content", json!("Done.")),
            Some(vec![
                placement(Bucket::Outputs, "messages.0.content", json!("Done.")),
                placement(Bucket::Outputs, "content", json!("Done.")),
            ])
        );
    }

    /// A TOOL span as openinference-instrumentation-langchain records a tool run.
    #[test]
    fn openinference_tool_span() {
        let buckets = apply(&[
            ("openinference.span.kind", json!("TOOL")),
            ("tool.name", json!("multiply")),
            ("tool.description", json!("Multiply two integers.")),
            (
                "tool.parameters",
                json!(r#"{"a": {"type": "integer"}, "b": {"type": "integer"}}"#),
            ),
            ("input.value", json!(r#"{"a": 23, "b": 87}"#)),
            ("input.mime_type", json!("application/json")),
            ("output.value", json!("2001")),
            ("output.mime_type", json!("text/plain")),
            ("session.id", json!("conv-42")),
            ("user.id", json!("user-7")),
            ("metadata", json!(r#"{"tenant": "acme", "run": 3}"#)),
            ("tag.tags", json!(["math", "demo"])),
        ]);
        assert_eq!(
            buckets,
            json!({
                "metadata": {
                    "openinference.span.kind": "TOOL",
                    "input.mime_type": "application/json",
                    "output.mime_type": "text/plain",
                    "session_id": "conv-42",
                    "tenant": "acme",
                    "run": 3,
                    "tags": ["math", "demo"],
                },
                "config": {
                    "tool_name": "multiply",
                    "tool_description": "Multiply two integers.",
                    "tool_parameters": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                },
                "inputs": {"input": {"a": 23, "b": 87}},
                "outputs": {"output": "2001"},
                "user_properties": {"user_id": "user-7"},
            })
        );
    }

    #[test]
    fn openinference_message_contents_become_openai_content_parts() {
        let buckets = apply(&[
            ("llm.input_messages.0.message.role", json!("user")),
            (
                "llm.input_messages.0.message.contents.0.message_content.type",
                json!("text"),
            ),
            (
                "llm.input_messages.0.message.contents.0.message_content.text",
                json!("What is in this image?"),
            ),
            (
                "llm.input_messages.0.message.contents.1.message_content.type",
                json!("image"),
            ),
            (
                "llm.input_messages.0.message.contents.1.message_content.image.image.url",
                json!("https://example.com/cat.png"),
            ),
            ("llm.input_messages.1.message.role", json!("assistant")),
            (
                "llm.input_messages.1.message.function_call_name",
                json!("lookup"),
            ),
            (
                "llm.input_messages.1.message.function_call_arguments_json",
                json!(r#"{"q": "cat"}"#),
            ),
            ("llm.input_messages.2.message.role", json!("tool")),
            ("llm.input_messages.2.message.name", json!("lookup")),
            ("llm.input_messages.2.message.content", json!("a cat")),
        ]);
        assert_eq!(
            buckets["inputs"]["chat_history"],
            json!([
                {"role": "user", "content": [
                    {"type": "text", "text": "What is in this image?"},
                    {"type": "image", "image_url": {"url": "https://example.com/cat.png"}},
                ]},
                {"role": "assistant", "function_call": {"name": "lookup", "arguments": "{\"q\": \"cat\"}"}},
                {"role": "tool", "name": "lookup", "content": "a cat"},
            ])
        );
    }

    /// A chat completion traced by opentelemetry-instrumentation-openai before it moved to the
    /// GenAI conventions' JSON messages: indexed prompts and completions, one tool call.
    #[test]
    fn traceloop_chat_span_with_a_tool_call() {
        let buckets = apply(&[
            ("llm.request.type", json!("chat")),
            ("gen_ai.prompt.0.role", json!("system")),
            (
                "gen_ai.prompt.0.content",
                json!("You are a helpful assistant."),
            ),
            ("gen_ai.prompt.1.role", json!("user")),
            ("gen_ai.prompt.1.content", json!("What's 23 times 87?")),
            ("gen_ai.prompt.2.role", json!("assistant")),
            ("gen_ai.prompt.2.tool_calls.0.id", json!("call_1")),
            ("gen_ai.prompt.2.tool_calls.0.name", json!("multiply")),
            (
                "gen_ai.prompt.2.tool_calls.0.arguments",
                json!(r#"{"a": 23, "b": 87}"#),
            ),
            ("gen_ai.prompt.3.role", json!("tool")),
            ("gen_ai.prompt.3.content", json!(r#"{"result": 2001}"#)),
            ("gen_ai.prompt.3.tool_call_id", json!("call_1")),
            ("gen_ai.completion.0.finish_reason", json!("tool_calls")),
            ("gen_ai.completion.0.role", json!("assistant")),
            ("gen_ai.completion.0.tool_calls.0.id", json!("call_2")),
            ("gen_ai.completion.0.tool_calls.0.name", json!("add")),
            (
                "gen_ai.completion.0.tool_calls.0.arguments",
                json!(r#"{"a": 2001, "b": 1}"#),
            ),
            ("llm.usage.total_tokens", json!(97)),
            ("llm.is_streaming", json!(false)),
            ("llm.frequency_penalty", json!(0.0)),
        ]);
        let add = json!({
            "id": "call_2",
            "type": "function",
            "function": {"name": "add", "arguments": "{\"a\": 2001, \"b\": 1}"},
        });
        assert_eq!(
            buckets,
            json!({
                "metadata": {"llm.request.type": "chat", "total_tokens": 97},
                "config": {"is_streaming": false, "frequency_penalty": 0.0},
                "inputs": {"chat_history": [
                    {"role": "system", "content": "You are a helpful assistant."},
                    {"role": "user", "content": "What's 23 times 87?"},
                    {"role": "assistant", "tool_calls": [{
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "multiply", "arguments": "{\"a\": 23, \"b\": 87}"},
                    }]},
                    // A tool result that is JSON stays the text the model read.
                    {"role": "tool", "content": "{\"result\": 2001}", "tool_call_id": "call_1"},
                ]},
                "outputs": {
                    "messages": [{
                        "finish_reason": "tool_calls",
                        "role": "assistant",
                        "tool_calls": [add.clone()],
                    }],
                    "finish_reason": "tool_calls",
                    "role": "assistant",
                    "tool_calls": [add],
                },
            })
        );
    }

    #[test]
    fn traceloop_multimodal_content_is_parsed_and_refusals_kept() {
        let parts = r#"[{"type": "text", "text": "Describe"}, {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]"#;
        assert_eq!(
            place("gen_ai.prompt.0.content", json!(parts)),
            Some(vec![placement(
                Bucket::Inputs,
                "chat_history.0.content",
                serde_json::from_str(parts).unwrap()
            )])
        );
        assert_eq!(
            place(
                "gen_ai.completion.1.refusal",
                json!("I can't help with that.")
            ),
            Some(vec![placement(
                Bucket::Outputs,
                "messages.1.refusal",
                json!("I can't help with that.")
            )])
        );
    }

    /// A `@workflow` function and its association properties, from the Traceloop SDK.
    #[test]
    fn traceloop_workflow_span_with_entity_input_and_output() {
        let buckets = apply(&[
            ("traceloop.span.kind", json!("workflow")),
            ("traceloop.entity.name", json!("answer_question")),
            ("traceloop.workflow.name", json!("answer_question")),
            (
                "traceloop.entity.input",
                json!(r#"{"args": ["What is HoneyHive?"], "kwargs": {"depth": 2}}"#),
            ),
            (
                "traceloop.entity.output",
                json!(r#""HoneyHive is an observability platform.""#),
            ),
            ("traceloop.association.properties.user_id", json!("user-7")),
            (
                "traceloop.association.properties.session_id",
                json!("conv-42"),
            ),
            (
                "traceloop.association.properties.customer_id",
                json!("acme"),
            ),
        ]);
        assert_eq!(
            buckets,
            json!({
                "metadata": {
                    "traceloop.span.kind": "workflow",
                    "entity_name": "answer_question",
                    "workflow_name": "answer_question",
                    "session_id": "conv-42",
                    "customer_id": "acme",
                },
                "inputs": {"args": ["What is HoneyHive?"], "kwargs": {"depth": 2}},
                "outputs": {"output": "HoneyHive is an observability platform."},
                "user_properties": {"user_id": "user-7"},
            })
        );
    }

    #[test]
    fn traceloop_function_definitions_become_config_tools() {
        let buckets = apply(&[
            ("llm.request.functions.0.name", json!("get_weather")),
            (
                "llm.request.functions.0.description",
                json!("Get the weather"),
            ),
            (
                "llm.request.functions.0.parameters",
                json!(r#"{"type": "object", "properties": {"city": {"type": "string"}}}"#),
            ),
        ]);
        assert_eq!(
            buckets["config"]["tools"],
            json!([{
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Get the weather",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                },
            }])
        );
    }

    /// A generation from the Langfuse Python SDK v3 (`start_as_current_generation`), whose
    /// values are `json.dumps`ed and whose metadata is flattened per key.
    #[test]
    fn langfuse_generation_from_the_otel_sdk() {
        let buckets = apply(&[
            ("langfuse.observation.type", json!("generation")),
            ("langfuse.observation.model.name", json!("gpt-4o")),
            (
                "langfuse.observation.model.parameters",
                json!(r#"{"temperature": 0.7, "max_tokens": 500}"#),
            ),
            (
                "langfuse.observation.input",
                json!(
                    r#"[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]"#
                ),
            ),
            (
                "langfuse.observation.output",
                json!(r#"{"role": "assistant", "content": "Hello!"}"#),
            ),
            (
                "langfuse.observation.usage_details",
                json!(
                    r#"{"input": 10, "output": 3, "total": 13, "input_cache_read": 4, "input_audio": 0}"#
                ),
            ),
            (
                "langfuse.observation.cost_details",
                json!(r#"{"input": 0.0001, "output": 0.0002, "total": 0.0003}"#),
            ),
            ("langfuse.observation.metadata.experiment", json!("b")),
            ("langfuse.observation.metadata.retries", json!(2)),
            (
                "langfuse.observation.metadata.flags",
                json!(r#"["x", "y"]"#),
            ),
            ("langfuse.observation.level", json!("WARNING")),
            (
                "langfuse.observation.status_message",
                json!("slow response"),
            ),
            (
                "langfuse.observation.completion_start_time",
                json!(r#""2025-06-01T12:00:00.250000Z""#),
            ),
            ("langfuse.trace.name", json!("chat-turn")),
            ("langfuse.trace.tags", json!(["prod", "chat"])),
            ("langfuse.trace.metadata.region", json!("eu")),
            ("langfuse.user.id", json!("user-7")),
            ("langfuse.session.id", json!("conv-42")),
            ("langfuse.environment", json!("production")),
        ]);
        assert_eq!(
            buckets,
            json!({
                "metadata": {
                    "langfuse.observation.type": "generation",
                    "prompt_tokens": 10,
                    "completion_tokens": 3,
                    "total_tokens": 13,
                    "cache_read_input_tokens": 4,
                    "usage": {"input_audio": 0},
                    "cost_details": {"input": 0.0001, "output": 0.0002, "total": 0.0003},
                    "experiment": "b",
                    "retries": 2,
                    "flags": ["x", "y"],
                    "level": "WARNING",
                    "status_message": "slow response",
                    "completion_start_time": "2025-06-01T12:00:00.250000Z",
                    "trace_name": "chat-turn",
                    "tags": ["prod", "chat"],
                    "region": "eu",
                    "session_id": "conv-42",
                    "environment": "production",
                },
                "config": {"model": "gpt-4o", "temperature": 0.7, "max_tokens": 500},
                "inputs": {"chat_history": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Hi"},
                ]},
                "outputs": {"role": "assistant", "content": "Hello!"},
                "user_properties": {"user_id": "user-7"},
            })
        );
    }

    /// The fields swiftide records for its Langfuse layer: `langfuse.type` on the span, the
    /// model, request, response and usage (its `Usage` as pretty JSON) recorded on it.
    #[test]
    fn swiftide_langfuse_fields() {
        let usage = serde_json::to_string_pretty(&json!({
            "prompt_tokens": 120,
            "completion_tokens": 30,
            "total_tokens": 150,
            "details": {
                "prompt_tokens_details": {"cached_tokens": 64, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 12},
            },
        }))
        .unwrap();
        let buckets = apply(&[
            ("langfuse.type", json!("GENERATION")),
            ("langfuse.model", json!("gpt-4.1-mini")),
            (
                "langfuse.input",
                json!(
                    r#"{"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": "Hi"}]}"#
                ),
            ),
            ("langfuse.output", json!("plain text answer")),
            ("langfuse.usage", json!(usage)),
        ]);
        assert_eq!(
            buckets,
            json!({
                "metadata": {
                    "langfuse.type": "GENERATION",
                    "prompt_tokens": 120,
                    "completion_tokens": 30,
                    "total_tokens": 150,
                    "cache_read_input_tokens": 64,
                    "reasoning_tokens": 12,
                    "usage": {"details": {"prompt_tokens_details": {"audio_tokens": 0}}},
                },
                "config": {"model": "gpt-4.1-mini"},
                "inputs": {
                    "model": "gpt-4.1-mini",
                    "messages": [{"role": "user", "content": "Hi"}],
                },
                "outputs": {"output": "plain text answer"},
            })
        );
    }

    #[test]
    fn langfuse_single_output_message_also_fills_the_top_of_outputs() {
        assert_eq!(
            apply(&[(
                "langfuse.observation.output",
                json!(r#"[{"role": "assistant", "content": "Done."}]"#)
            )]),
            json!({"outputs": {
                "role": "assistant",
                "content": "Done.",
                "messages": [{"role": "assistant", "content": "Done."}],
            }})
        );
        // Several messages: only the list, as the caller cannot tell which one answers.
        let two =
            r#"[{"role": "assistant", "content": "a"}, {"role": "assistant", "content": "b"}]"#;
        assert_eq!(
            place("langfuse.output", json!(two)),
            Some(vec![placement(
                Bucket::Outputs,
                "messages",
                serde_json::from_str(two).unwrap()
            )])
        );
        assert_eq!(
            place("langfuse.trace.input", json!("What is HoneyHive?")),
            Some(vec![placement(
                Bucket::Inputs,
                "trace_input",
                json!("What is HoneyHive?")
            )])
        );
    }

    #[test]
    fn retrieval_and_embedding_spans() {
        let buckets = apply(&[
            ("openinference.span.kind", json!("RETRIEVER")),
            ("input.value", json!("What is HoneyHive?")),
            ("retrieval.documents.0.document.id", json!("doc-1")),
            (
                "retrieval.documents.0.document.content",
                json!("HoneyHive is an observability platform."),
            ),
            ("retrieval.documents.0.document.score", json!(0.92)),
            (
                "retrieval.documents.0.document.metadata",
                json!(r#"{"source": "docs"}"#),
            ),
            ("retrieval.documents.1.document.id", json!("doc-2")),
            ("embedding.model_name", json!("text-embedding-3-small")),
            ("embedding.embeddings.0.embedding.text", json!("hello")),
            ("embedding.embeddings.0.embedding.vector", json!([0.1, 0.2])),
        ]);
        assert_eq!(
            buckets,
            json!({
                "metadata": {"openinference.span.kind": "RETRIEVER"},
                "inputs": {"input": "What is HoneyHive?", "texts": ["hello"]},
                "outputs": {
                    "documents": [
                        {
                            "id": "doc-1",
                            "content": "HoneyHive is an observability platform.",
                            "score": 0.92,
                            "metadata": {"source": "docs"},
                        },
                        {"id": "doc-2"},
                    ],
                    "embeddings": [[0.1, 0.2]],
                },
                "config": {"model": "text-embedding-3-small"},
            })
        );
    }

    #[test]
    fn json_text_that_does_not_parse_is_kept_as_text() {
        assert_eq!(
            place("llm.invocation_parameters", json!("{model_name: 'gpt-3'}")),
            Some(vec![placement(
                Bucket::Config,
                "invocation_parameters",
                json!("{model_name: 'gpt-3'}")
            )])
        );
        assert_eq!(
            place("traceloop.entity.input", json!("[truncated")),
            Some(vec![placement(
                Bucket::Inputs,
                "input",
                json!("[truncated")
            )])
        );
        assert_eq!(
            place("metadata", json!("not json")),
            Some(vec![placement(
                Bucket::Metadata,
                "metadata",
                json!("not json")
            )])
        );
        assert_eq!(
            place("langfuse.usage", json!("")),
            Some(vec![placement(Bucket::Metadata, "usage", json!(""))])
        );
        // A JSON array is a value, not an object to merge.
        assert_eq!(
            place("traceloop.entity.output", json!("[1, 2]")),
            Some(vec![placement(Bucket::Outputs, "output", json!([1, 2]))])
        );
    }

    #[test]
    fn span_kinds_declare_the_event_type() {
        use EventType::{Chain, Model, Tool};
        let cases: [(&str, &str, Option<EventType>); 29] = [
            ("openinference.span.kind", "LLM", Some(Model)),
            ("openinference.span.kind", "EMBEDDING", Some(Model)),
            ("openinference.span.kind", "TOOL", Some(Tool)),
            ("openinference.span.kind", "CHAIN", Some(Chain)),
            ("openinference.span.kind", "AGENT", Some(Chain)),
            ("openinference.span.kind", "RETRIEVER", Some(Chain)),
            ("openinference.span.kind", "RERANKER", Some(Chain)),
            ("openinference.span.kind", "GUARDRAIL", Some(Chain)),
            ("openinference.span.kind", "EVALUATOR", Some(Chain)),
            ("openinference.span.kind", "PROMPT", Some(Chain)),
            ("openinference.span.kind", "UNKNOWN", None),
            ("traceloop.span.kind", "workflow", Some(Chain)),
            ("traceloop.span.kind", "task", Some(Chain)),
            ("traceloop.span.kind", "agent", Some(Chain)),
            ("traceloop.span.kind", "tool", Some(Tool)),
            ("traceloop.span.kind", "unknown", None),
            ("llm.request.type", "chat", Some(Model)),
            ("llm.request.type", "completion", Some(Model)),
            ("llm.request.type", "embedding", Some(Model)),
            ("llm.request.type", "rerank", Some(Model)),
            ("llm.request.type", "unknown", None),
            ("langfuse.observation.type", "generation", Some(Model)),
            ("langfuse.observation.type", "embedding", Some(Model)),
            ("langfuse.observation.type", "tool", Some(Tool)),
            ("langfuse.observation.type", "span", Some(Chain)),
            ("langfuse.observation.type", "agent", Some(Chain)),
            ("langfuse.observation.type", "event", Some(Chain)),
            ("langfuse.type", "GENERATION", Some(Model)),
            ("langfuse.type", " Tool ", Some(Tool)),
        ];
        for (name, kind, expected) in cases {
            assert_eq!(
                event_type(&fields(&[(name, kind)])),
                expected,
                "{name} = {kind}"
            );
        }
    }

    #[test]
    fn the_first_dialect_kind_wins_and_other_fields_declare_nothing() {
        assert_eq!(
            event_type(&fields(&[
                ("llm.request.type", "chat"),
                ("openinference.span.kind", "TOOL"),
            ])),
            Some(EventType::Tool)
        );
        assert_eq!(
            event_type(&fields(&[
                ("openinference.span.kind", "UNKNOWN"),
                ("traceloop.span.kind", "task"),
            ])),
            Some(EventType::Chain)
        );
        assert_eq!(
            event_type(&fields(&[
                ("gen_ai.operation.name", "chat"),
                ("llm.model_name", "gpt-4o")
            ])),
            None
        );
        let mut not_text = Fields::default();
        not_text.set("openinference.span.kind", FieldValue::I64(1));
        assert_eq!(event_type(&not_text), None);
        assert_eq!(event_type(&Fields::default()), None);
    }

    #[test]
    fn names_of_no_dialect_here_are_left_to_the_caller() {
        for name in [
            // The GenAI conventions' own names, for gen_ai.rs.
            "gen_ai.request.model",
            "gen_ai.prompt",
            "gen_ai.completion",
            "gen_ai.prompt.prompt_filter_results",
            "gen_ai.usage.cache_read_input_tokens",
            "gen_ai.usage.input_tokens",
            "gen_ai.prompt.0",
            // HoneyHive's and the caller's own.
            "honeyhive.event_type",
            "inputs.question",
            "metadata.tenant",
            // Other attributes, and near misses.
            "http.request.method",
            "llm",
            "llm.cost.total",
            "llm.input_messages",
            "llm.input_messages.x.message.role",
            "input.valuex",
            "langfuse.internal.as_root",
            "traceloop.sdk.version",
        ] {
            assert_eq!(place(name, json!("x")), None, "{name}");
        }
    }
}
