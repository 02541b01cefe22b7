//! OpenTelemetry GenAI semantic conventions (`gen_ai.*`) onto HoneyHive's canonical keys, for the
//! tracing layer and the OpenTelemetry exporter alike.
//!
//! | attribute | HoneyHive |
//! |---|---|
//! | `gen_ai.request.model` | `config.model` |
//! | `gen_ai.provider.name`, `gen_ai.system` | `config.provider` |
//! | `gen_ai.request.{temperature, top_p, top_k, max_tokens, frequency_penalty, presence_penalty, stop_sequences, seed}` | `config.<name>` |
//! | `gen_ai.usage.input_tokens` (`prompt_tokens`) | `metadata.prompt_tokens` |
//! | `gen_ai.usage.output_tokens` (`completion_tokens`) | `metadata.completion_tokens` |
//! | `gen_ai.usage.total_tokens`, else the sum of the two | `metadata.total_tokens` |
//! | `gen_ai.response.model`, `.id`, `.finish_reasons` | `metadata.response_model`, `.response_id`, `.finish_reasons` |
//! | `gen_ai.tool.name`, `gen_ai.tool.description` | `config.tool_name`, `config.tool_description` |
//! | `gen_ai.tool.call.id` | `metadata.tool_call_id` |
//! | `gen_ai.tool.call.arguments`, `gen_ai.tool.call.result` | `inputs.arguments`, `outputs.result` |
//! | `gen_ai.input.messages` (`gen_ai.prompt`) | `inputs.chat_history` |
//! | `gen_ai.output.messages` (`gen_ai.completion`) | `outputs.messages`, and a single message's `outputs.role` and `outputs.content` |
//! | `gen_ai.system_instructions` | `inputs.system_instructions` |
//! | any other `gen_ai.*` | `metadata` under its full name |
//!
//! Values given as JSON text (message lists, arguments) are parsed; messages in the OpenTelemetry
//! `parts` form also get a `content` with their text parts joined, which HoneyHive displays.

use serde_json::{Map, Value};

use crate::recorded::Bucket;
use crate::wire::EventType;

/// Where `key` goes when it is a known GenAI attribute: bucket, key, and whether a text value
/// is JSON to parse.
fn target(key: &str) -> Option<(Bucket, &'static str, bool)> {
    use Bucket::{Config, Inputs, Metadata, Outputs};
    Some(match key {
        "gen_ai.request.model" => (Config, "model", false),
        "gen_ai.provider.name" | "gen_ai.system" => (Config, "provider", false),
        "gen_ai.request.temperature" => (Config, "temperature", false),
        "gen_ai.request.top_p" => (Config, "top_p", false),
        "gen_ai.request.top_k" => (Config, "top_k", false),
        "gen_ai.request.max_tokens" => (Config, "max_tokens", false),
        "gen_ai.request.frequency_penalty" => (Config, "frequency_penalty", false),
        "gen_ai.request.presence_penalty" => (Config, "presence_penalty", false),
        "gen_ai.request.stop_sequences" => (Config, "stop_sequences", true),
        "gen_ai.request.seed" => (Config, "seed", false),
        "gen_ai.usage.input_tokens" | "gen_ai.usage.prompt_tokens" => {
            (Metadata, "prompt_tokens", false)
        }
        "gen_ai.usage.output_tokens" | "gen_ai.usage.completion_tokens" => {
            (Metadata, "completion_tokens", false)
        }
        "gen_ai.usage.total_tokens" => (Metadata, "total_tokens", false),
        "gen_ai.response.model" => (Metadata, "response_model", false),
        "gen_ai.response.id" => (Metadata, "response_id", false),
        "gen_ai.response.finish_reasons" => (Metadata, "finish_reasons", true),
        "gen_ai.tool.name" => (Config, "tool_name", false),
        "gen_ai.tool.description" => (Config, "tool_description", false),
        "gen_ai.tool.call.id" => (Metadata, "tool_call_id", false),
        "gen_ai.tool.call.arguments" => (Inputs, "arguments", true),
        "gen_ai.tool.call.result" => (Outputs, "result", true),
        "gen_ai.input.messages" | "gen_ai.prompt" => (Inputs, "chat_history", true),
        "gen_ai.output.messages" | "gen_ai.completion" => (Outputs, "messages", true),
        "gen_ai.system_instructions" => (Inputs, "system_instructions", true),
        _ => return None,
    })
}

/// Places a `gen_ai.*` value with `put(bucket, key, value)`. Unknown `gen_ai.*` names go to
/// `metadata` under their full name.
pub(crate) fn place(key: &str, value: Value, put: &mut dyn FnMut(Bucket, &str, Value)) {
    let Some((bucket, name, parse)) = target(key) else {
        put(Bucket::Metadata, key, value);
        return;
    };
    let value = if parse { parse_json_text(value) } else { value };
    match (bucket, name) {
        (Bucket::Inputs, "chat_history") => put(bucket, name, with_content(value)),
        (Bucket::Outputs, "messages") => {
            let value = with_content(value);
            if let Some(Value::Object(only)) =
                value.as_array().filter(|m| m.len() == 1).map(|m| &m[0])
            {
                for key in ["role", "content"] {
                    if let Some(v) = only.get(key) {
                        put(bucket, key, v.clone());
                    }
                }
            }
            put(bucket, name, value);
        }
        _ => put(bucket, name, value),
    }
}

/// Adds `metadata.total_tokens` when both token counts are there and the total is not.
pub(crate) fn complete_usage(metadata: &mut Map<String, Value>) {
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

/// Messages in the OpenTelemetry form (`{"role", "parts": [{"type": "text", "content"}]}`) get
/// a `content` with their text parts, as HoneyHive's chat view reads `role` and `content`.
fn with_content(mut messages: Value) -> Value {
    if let Value::Array(list) = &mut messages {
        for message in list.iter_mut().filter_map(Value::as_object_mut) {
            if message.contains_key("content") {
                continue;
            }
            let Some(parts) = message.get("parts").and_then(Value::as_array) else {
                continue;
            };
            let text: Vec<&str> = parts
                .iter()
                .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|p| p.get("content").and_then(Value::as_str))
                .collect();
            if !text.is_empty() {
                message.insert("content".into(), Value::from(text.join("\n")));
            }
        }
    }
    messages
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn placed(key: &str, value: Value) -> Vec<(Bucket, String, Value)> {
        let mut out = Vec::new();
        place(key, value, &mut |b, k, v| out.push((b, k.to_owned(), v)));
        out
    }

    #[test]
    fn request_parameters_go_to_config_and_usage_to_metadata() {
        assert_eq!(
            placed("gen_ai.request.model", json!("gpt-4o")),
            vec![(Bucket::Config, "model".into(), json!("gpt-4o"))]
        );
        assert_eq!(
            placed("gen_ai.system", json!("openai")),
            vec![(Bucket::Config, "provider".into(), json!("openai"))]
        );
        assert_eq!(
            placed("gen_ai.request.temperature", json!(0.2)),
            vec![(Bucket::Config, "temperature".into(), json!(0.2))]
        );
        assert_eq!(
            placed("gen_ai.usage.input_tokens", json!(12)),
            vec![(Bucket::Metadata, "prompt_tokens".into(), json!(12))]
        );
        assert_eq!(
            placed("gen_ai.usage.output_tokens", json!(3)),
            vec![(Bucket::Metadata, "completion_tokens".into(), json!(3))]
        );
    }

    #[test]
    fn unknown_gen_ai_names_go_to_metadata_verbatim() {
        assert_eq!(
            placed("gen_ai.agent.name", json!("triage")),
            vec![(
                Bucket::Metadata,
                "gen_ai.agent.name".into(),
                json!("triage")
            )]
        );
    }

    #[test]
    fn json_text_is_parsed_and_otel_parts_gain_content() {
        let text = r#"[{"role":"user","parts":[{"type":"text","content":"Hi"},{"type":"text","content":"there"}]}]"#;
        let placed = placed("gen_ai.input.messages", json!(text));
        assert_eq!(placed.len(), 1);
        assert_eq!(placed[0].1, "chat_history");
        assert_eq!(placed[0].2[0]["content"], json!("Hi\nthere"));
        assert_eq!(placed[0].2[0]["role"], json!("user"));
    }

    #[test]
    fn a_single_output_message_also_fills_role_and_content() {
        let text = r#"[{"role":"assistant","content":"Done."}]"#;
        let placed = placed("gen_ai.output.messages", json!(text));
        let keys: Vec<&str> = placed.iter().map(|(_, k, _)| k.as_str()).collect();
        assert_eq!(keys, ["role", "content", "messages"]);
        assert_eq!(placed[1].2, json!("Done."));
    }

    #[test]
    fn text_that_is_not_json_is_kept_as_text() {
        assert_eq!(
            placed("gen_ai.tool.call.arguments", json!("[not json")),
            vec![(Bucket::Inputs, "arguments".into(), json!("[not json"))]
        );
        assert_eq!(
            placed("gen_ai.tool.call.result", json!("plain")),
            vec![(Bucket::Outputs, "result".into(), json!("plain"))]
        );
    }

    #[test]
    fn total_tokens_is_the_sum_unless_given() {
        let mut metadata = json!({"prompt_tokens": 10, "completion_tokens": 5});
        complete_usage(metadata.as_object_mut().unwrap());
        assert_eq!(metadata["total_tokens"], json!(15));
        let mut given = json!({"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 99});
        complete_usage(given.as_object_mut().unwrap());
        assert_eq!(given["total_tokens"], json!(99));
    }

    #[test]
    fn event_type_is_inferred_from_operation_then_model_then_tool() {
        use EventType::{Chain, Model, Tool};
        for (op, expected) in [
            ("chat", Model),
            ("text_completion", Model),
            ("generate_content", Model),
            ("embeddings", Model),
            ("execute_tool", Tool),
            ("invoke_agent", Chain),
        ] {
            assert_eq!(
                infer_event_type(Some(op), false, false),
                Some(expected),
                "{op}"
            );
        }
        assert_eq!(
            infer_event_type(Some("execute_tool"), true, false),
            Some(Tool)
        );
        assert_eq!(
            infer_event_type(Some("unknown_op"), true, false),
            Some(Model)
        );
        assert_eq!(infer_event_type(None, false, true), Some(Tool));
        assert_eq!(infer_event_type(None, false, false), None);
    }
}
