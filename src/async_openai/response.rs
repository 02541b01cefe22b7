//! What an answer says about a call: its output messages, finish reasons, usage, ids, and errors,
//! as span fields. Pure: a parsed answer (whole, or accumulated from a stream) in.

use serde::Deserialize;
use serde_json::{Value, json};

use super::messages;
use super::request::json_text;
use super::span::{Attr, Attrs};

/// A Chat Completions answer (`chat.completion`, or one accumulated from its chunks).
pub(crate) fn chat_completion(body: &Value, content: bool) -> Attrs {
    let mut attrs = Attrs::new();
    identity(body, &mut attrs);
    text(
        body.get("system_fingerprint"),
        "openai.response.system_fingerprint",
        &mut attrs,
    );
    let choices = body.get("choices").and_then(Value::as_array);
    let choices = choices.map(Vec::as_slice).unwrap_or_default();
    let mut reasons = Vec::new();
    let mut outputs = Vec::new();
    for choice in choices {
        let finish = choice.get("finish_reason").filter(|r| !r.is_null());
        if let Some(reason) = finish {
            reasons.push(reason.clone());
        }
        if let Some(message) = choice.get("message") {
            let mut message = messages::chat_message(message);
            if let Some(reason) = finish {
                message["finish_reason"] = reason.clone();
            }
            outputs.push(message);
        }
    }
    if !reasons.is_empty() {
        attrs.push((
            "gen_ai.response.finish_reasons",
            json_text(&Value::Array(reasons)),
        ));
    }
    output_messages(outputs, content, &mut attrs);
    if let Some(usage) = body.get("usage").filter(|u| u.is_object()) {
        tokens(
            usage,
            "prompt_tokens",
            "gen_ai.usage.input_tokens",
            &mut attrs,
        );
        tokens(
            usage,
            "completion_tokens",
            "gen_ai.usage.output_tokens",
            &mut attrs,
        );
        let cached = usage.pointer("/prompt_tokens_details/cached_tokens");
        count(cached, "gen_ai.usage.cache_read.input_tokens", &mut attrs);
        let reasoning = usage.pointer("/completion_tokens_details/reasoning_tokens");
        count(
            reasoning,
            "gen_ai.usage.reasoning.output_tokens",
            &mut attrs,
        );
    }
    attrs
}

/// A Responses API answer (a `response` object, or one accumulated from its events). A response
/// that failed carries its error.
pub(crate) fn response(body: &Value, content: bool) -> Attrs {
    let mut attrs = Attrs::new();
    identity(body, &mut attrs);
    let output = body.get("output").and_then(Value::as_array);
    let parts = messages::from_responses_output(output.map(Vec::as_slice).unwrap_or_default());
    let calls = parts.iter().any(|p| p["type"] == "tool_call");
    let status = body.get("status").and_then(Value::as_str);
    let reason = match status {
        Some("incomplete") => match body
            .pointer("/incomplete_details/reason")
            .and_then(Value::as_str)
        {
            Some("max_output_tokens") => "length",
            Some(other) => other,
            None => "incomplete",
        },
        Some("failed") => "error",
        Some("completed") if calls => "tool_calls",
        Some("completed") => "stop",
        // A response still in progress (a stream that stopped early) has no reason yet.
        _ => "",
    };
    let mut message = json!({"role": "assistant", "parts": parts});
    if !reason.is_empty() {
        attrs.push((
            "gen_ai.response.finish_reasons",
            json_text(&json!([reason])),
        ));
        message["finish_reason"] = json!(reason);
    }
    if !parts_empty(&message) || !reason.is_empty() {
        output_messages(vec![message], content, &mut attrs);
    }
    if let Some(usage) = body.get("usage").filter(|u| u.is_object()) {
        tokens(
            usage,
            "input_tokens",
            "gen_ai.usage.input_tokens",
            &mut attrs,
        );
        tokens(
            usage,
            "output_tokens",
            "gen_ai.usage.output_tokens",
            &mut attrs,
        );
        let cached = usage.pointer("/input_tokens_details/cached_tokens");
        count(cached, "gen_ai.usage.cache_read.input_tokens", &mut attrs);
        let reasoning = usage.pointer("/output_tokens_details/reasoning_tokens");
        count(
            reasoning,
            "gen_ai.usage.reasoning.output_tokens",
            &mut attrs,
        );
    }
    if let Some(error) = body.get("error").filter(|e| e.is_object()) {
        attrs.extend(api_error(None, error));
    }
    attrs
}

fn parts_empty(message: &Value) -> bool {
    message["parts"].as_array().is_none_or(Vec::is_empty)
}

/// The id, model and service tier every answer carries.
fn identity(body: &Value, attrs: &mut Attrs) {
    text(body.get("id"), "gen_ai.response.id", attrs);
    text(body.get("model"), "gen_ai.response.model", attrs);
    text(
        body.get("service_tier"),
        "openai.response.service_tier",
        attrs,
    );
}

fn output_messages(outputs: Vec<Value>, content: bool, attrs: &mut Attrs) {
    if outputs.is_empty() {
        return;
    }
    let outputs = Value::Array(outputs);
    let outputs = if content {
        outputs
    } else {
        messages::strip_messages(outputs)
    };
    attrs.push(("gen_ai.output.messages", json_text(&outputs)));
}

fn text(value: Option<&Value>, name: &'static str, attrs: &mut Attrs) {
    if let Some(text) = value.and_then(Value::as_str) {
        attrs.push((name, text.into()));
    }
}

fn tokens(usage: &Value, key: &str, name: &'static str, attrs: &mut Attrs) {
    count(usage.get(key), name, attrs);
}

fn count(value: Option<&Value>, name: &'static str, attrs: &mut Attrs) {
    if let Some(n) = value.and_then(Value::as_i64) {
        attrs.push((name, Attr::I64(n)));
    }
}

/// An embeddings answer, read without building its vectors: how many, of what dimension, the
/// model and the tokens. A body that is not one gives nothing.
pub(crate) fn embeddings(body: &[u8]) -> Attrs {
    #[derive(Deserialize)]
    struct Answer {
        #[serde(default)]
        data: Vec<Item>,
        model: Option<String>,
        usage: Option<Usage>,
    }
    #[derive(Deserialize)]
    struct Item {
        embedding: Vector,
    }
    #[derive(Deserialize)]
    struct Usage {
        prompt_tokens: Option<i64>,
    }
    let Ok(answer) = serde_json::from_slice::<Answer>(body) else {
        return Attrs::new();
    };
    let mut attrs = Attrs::new();
    if let Some(model) = answer.model {
        attrs.push(("gen_ai.response.model", model.into()));
    }
    if let Some(tokens) = answer.usage.and_then(|u| u.prompt_tokens) {
        attrs.push(("gen_ai.usage.input_tokens", Attr::I64(tokens)));
    }
    let dimensions = answer.data.first().map_or(0, |item| item.embedding.0);
    let outputs = json!({"count": answer.data.len(), "dimensions": dimensions});
    attrs.push(("honeyhive.outputs", json_text(&outputs)));
    attrs
}

/// An embedding's length, counted as it is read: a list of numbers, or base64 of
/// little-endian `f32`s.
struct Vector(usize);

impl<'de> Deserialize<'de> for Vector {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Counter;
        impl<'de> serde::de::Visitor<'de> for Counter {
            type Value = Vector;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of numbers or base64 text")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Vector, A::Error> {
                let mut n = 0;
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Vector(n))
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Vector, E> {
                let padding = text.bytes().rev().take_while(|b| *b == b'=').count();
                Ok(Vector((text.len() / 4 * 3).saturating_sub(padding) / 4))
            }
        }
        deserializer.deserialize_any(Counter)
    }
}

/// An error answer (HTTP status 400 and above): the span's status, its message (OpenAI's
/// `error.message`, else the body's text), and `error.type` (OpenAI's error type or code, else
/// the status code, as the conventions give it).
pub(crate) fn http_error(status: http::StatusCode, body: &[u8]) -> Attrs {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed
        .as_ref()
        .and_then(|b| b.get("error"))
        .filter(|e| e.is_object());
    let mut attrs = match error {
        Some(error) => api_error(Some(status), error),
        None => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            let reason = status.canonical_reason().unwrap_or("error");
            let message = if text.is_empty() || text.len() > 1024 {
                format!("HTTP {} {reason}", status.as_u16())
            } else {
                format!("HTTP {} {reason}: {text}", status.as_u16())
            };
            vec![
                ("otel.status_code", "ERROR".into()),
                ("otel.status_description", message.into()),
                ("error.type", status.as_u16().to_string().into()),
            ]
        }
    };
    attrs.push((
        "http.response.status_code",
        Attr::I64(status.as_u16().into()),
    ));
    attrs
}

/// OpenAI's error object (`{message, type, code, param}`), from an error answer or a stream.
pub(crate) fn api_error(status: Option<http::StatusCode>, error: &Value) -> Attrs {
    let message = error.get("message").and_then(Value::as_str).unwrap_or("");
    let kind = ["type", "code"]
        .iter()
        .find_map(|k| error.get(*k).and_then(Value::as_str))
        .map(str::to_owned)
        .or_else(|| status.map(|s| s.as_u16().to_string()))
        .unwrap_or_else(|| "error".to_owned());
    let message = match status {
        Some(status) => format!(
            "HTTP {} {}: {message}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("error")
        ),
        None if message.is_empty() => kind.clone(),
        None => message.to_owned(),
    };
    vec![
        ("otel.status_code", "ERROR".into()),
        ("otel.status_description", message.into()),
        ("error.type", kind.into()),
    ]
}
