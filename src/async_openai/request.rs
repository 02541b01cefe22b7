//! What a request says about a call: which API, whether it streams, and the span fields it gives
//! (the OpenTelemetry GenAI conventions). Pure: a method, a URL and a JSON body in.

use serde_json::{Map, Value, json};

use super::messages;
use super::span::{Attr, Attrs};

/// The APIs whose calls are traced; any other request passes through untouched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    /// `POST …/chat/completions`.
    ChatCompletions,
    /// `POST …/responses`.
    Responses,
    /// `POST …/embeddings`.
    Embeddings,
}

impl Api {
    /// The API a request calls, from its method and path: the path's end, so that a base URL with
    /// a prefix (Azure's `/openai/deployments/{name}`, a proxy's) is recognised too.
    pub(crate) fn of(method: &http::Method, path: &str) -> Option<Api> {
        if method != http::Method::POST {
            return None;
        }
        let path = path.trim_end_matches('/');
        if path.ends_with("/chat/completions") {
            Some(Api::ChatCompletions)
        } else if path.ends_with("/responses") {
            Some(Api::Responses)
        } else if path.ends_with("/embeddings") {
            Some(Api::Embeddings)
        } else {
            None
        }
    }

    /// `gen_ai.operation.name`.
    pub(crate) fn operation(self) -> &'static str {
        match self {
            Api::ChatCompletions | Api::Responses => "chat",
            Api::Embeddings => "embeddings",
        }
    }
}

/// A call as its request describes it.
#[derive(Debug)]
pub(crate) struct Call {
    /// The body asked for server-sent events (`"stream": true`).
    pub(crate) streaming: bool,
    /// The fields known before the answer.
    pub(crate) attrs: Attrs,
}

/// The call a request makes. `body` is the JSON body (`None` when it is not JSON, which keeps
/// only what the URL gives); `content` says whether messages and inputs are recorded (when it
/// is off, messages keep their roles, part types and tool names, and lose their text).
pub(crate) fn call(api: Api, url: &url::Url, body: Option<&Value>, content: bool) -> Call {
    let empty = Map::new();
    let body = body.and_then(Value::as_object).unwrap_or(&empty);
    let model = body.get("model").and_then(Value::as_str).unwrap_or("");
    let mut attrs: Attrs = Vec::with_capacity(24);
    let name = if model.is_empty() {
        api.operation().to_owned()
    } else {
        format!("{} {model}", api.operation())
    };
    attrs.push(("otel.name", name.into()));
    attrs.push(("otel.kind", "client".into()));
    attrs.push(("gen_ai.operation.name", api.operation().into()));
    attrs.push(("gen_ai.provider.name", provider(url).into()));
    match api {
        Api::ChatCompletions => attrs.push(("openai.api.type", "chat_completions".into())),
        Api::Responses => attrs.push(("openai.api.type", "responses".into())),
        Api::Embeddings => {}
    }
    if !model.is_empty() {
        attrs.push(("gen_ai.request.model", model.into()));
    }
    if let Some(host) = url.host_str() {
        attrs.push(("server.address", host.into()));
    }
    if let Some(port) = url.port_or_known_default() {
        attrs.push(("server.port", Attr::I64(port.into())));
    }
    let streaming = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    match api {
        Api::ChatCompletions => chat(body, content, &mut attrs),
        Api::Responses => responses(body, content, &mut attrs),
        Api::Embeddings => embeddings(body, content, &mut attrs),
    }
    if api != Api::Embeddings {
        attrs.push(("gen_ai.request.stream", Attr::Bool(streaming)));
    }
    Call { streaming, attrs }
}

/// `azure.ai.openai` for Azure OpenAI's hosts, else `openai`: the API the client speaks, whatever
/// server answers it (Ollama, vLLM and the like speak OpenAI's).
fn provider(url: &url::Url) -> &'static str {
    match url.host_str() {
        Some(host) if host.ends_with(".openai.azure.com") => "azure.ai.openai",
        _ => "openai",
    }
}

/// A number field as a float attribute.
fn float(body: &Map<String, Value>, key: &str, name: &'static str, attrs: &mut Attrs) {
    if let Some(n) = body.get(key).and_then(Value::as_f64) {
        attrs.push((name, Attr::F64(n)));
    }
}

/// An integer field as an integer attribute.
fn int(body: &Map<String, Value>, key: &str, name: &'static str, attrs: &mut Attrs) {
    if let Some(n) = body.get(key).and_then(Value::as_i64) {
        attrs.push((name, Attr::I64(n)));
    }
}

/// A text field as a text attribute.
fn text(value: Option<&Value>, name: &'static str, attrs: &mut Attrs) {
    if let Some(text) = value.and_then(Value::as_str) {
        attrs.push((name, text.into()));
    }
}

/// A JSON value as JSON text, the form a structured attribute takes on a `tracing` span.
pub(crate) fn json_text(value: &Value) -> Attr {
    Attr::Str(value.to_string())
}

/// The sampling parameters both chat APIs share.
fn sampling(body: &Map<String, Value>, attrs: &mut Attrs) {
    float(body, "temperature", "gen_ai.request.temperature", attrs);
    float(body, "top_p", "gen_ai.request.top_p", attrs);
    text(
        body.get("service_tier"),
        "openai.request.service_tier",
        attrs,
    );
}

/// `json_object` and `json_schema` are `json`; `text` is `text`.
fn output_type(format: Option<&Value>, attrs: &mut Attrs) {
    let kind = match format.and_then(|f| f.get("type")).and_then(Value::as_str) {
        Some("json_object" | "json_schema") => "json",
        Some("text") => "text",
        _ => return,
    };
    attrs.push(("gen_ai.output.type", kind.into()));
}

fn chat(body: &Map<String, Value>, content: bool, attrs: &mut Attrs) {
    sampling(body, attrs);
    float(
        body,
        "frequency_penalty",
        "gen_ai.request.frequency_penalty",
        attrs,
    );
    float(
        body,
        "presence_penalty",
        "gen_ai.request.presence_penalty",
        attrs,
    );
    let max = if body.contains_key("max_completion_tokens") {
        "max_completion_tokens"
    } else {
        "max_tokens"
    };
    int(body, max, "gen_ai.request.max_tokens", attrs);
    int(body, "seed", "gen_ai.request.seed", attrs);
    if let Some(n) = body.get("n").and_then(Value::as_i64).filter(|n| *n != 1) {
        attrs.push(("gen_ai.request.choice.count", Attr::I64(n)));
    }
    match body.get("stop") {
        Some(Value::String(one)) => {
            attrs.push(("gen_ai.request.stop_sequences", json_text(&json!([one]))))
        }
        Some(list @ Value::Array(_)) => {
            attrs.push(("gen_ai.request.stop_sequences", json_text(list)))
        }
        _ => {}
    }
    text(
        body.get("reasoning_effort"),
        "gen_ai.request.reasoning.level",
        attrs,
    );
    output_type(body.get("response_format"), attrs);
    if let Some(Value::Array(list)) = body.get("messages") {
        let messages = messages::from_chat(list, content);
        attrs.push(("gen_ai.input.messages", json_text(&messages)));
    }
    if let Some(Value::Array(tools)) = body.get("tools") {
        let tools: Vec<Value> = tools.iter().map(messages::chat_tool).collect();
        attrs.push(("gen_ai.tool.definitions", json_text(&Value::Array(tools))));
    }
}

fn responses(body: &Map<String, Value>, content: bool, attrs: &mut Attrs) {
    sampling(body, attrs);
    int(
        body,
        "max_output_tokens",
        "gen_ai.request.max_tokens",
        attrs,
    );
    text(
        body.get("reasoning").and_then(|r| r.get("effort")),
        "gen_ai.request.reasoning.level",
        attrs,
    );
    output_type(body.get("text").and_then(|t| t.get("format")), attrs);
    text(
        body.get("previous_response_id"),
        "gen_ai.request.previous_response.id",
        attrs,
    );
    let conversation = body.get("conversation");
    text(
        conversation.and_then(|c| c.get("id")).or(conversation),
        "gen_ai.conversation.id",
        attrs,
    );
    if let Some(Value::String(instructions)) = body.get("instructions") {
        let parts = json!([{"type": "text", "content": instructions}]);
        let parts = if content {
            parts
        } else {
            messages::strip_parts(parts)
        };
        attrs.push(("gen_ai.system_instructions", json_text(&parts)));
    }
    if let Some(input) = body.get("input") {
        let messages = messages::from_responses_input(input, content);
        attrs.push(("gen_ai.input.messages", json_text(&messages)));
    }
    if let Some(Value::Array(tools)) = body.get("tools") {
        attrs.push((
            "gen_ai.tool.definitions",
            json_text(&Value::Array(tools.clone())),
        ));
    }
}

fn embeddings(body: &Map<String, Value>, content: bool, attrs: &mut Attrs) {
    if let Some(format) = body.get("encoding_format").and_then(Value::as_str) {
        attrs.push((
            "gen_ai.request.encoding_formats",
            json_text(&json!([format])),
        ));
    }
    int(
        body,
        "dimensions",
        "gen_ai.embeddings.dimension.count",
        attrs,
    );
    if let Some(input) = body.get("input") {
        let count = match input {
            Value::Array(items) if items.iter().all(|i| !i.is_number()) => items.len(),
            _ => 1,
        };
        let inputs = if content {
            json!({"input": input, "count": count})
        } else {
            json!({"count": count})
        };
        attrs.push(("honeyhive.inputs", json_text(&inputs)));
    }
}
