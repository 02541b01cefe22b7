//! Table tests of the pure parts: requests, answers, streams.

use serde_json::{Value, json};

use super::request::{self, Api};
use super::response;
use super::span::{self, Attr, Attrs};
use super::stream::{ChatAnswer, ResponsesAnswer, SseEvent, SseReader};

fn url() -> url::Url {
    url::Url::parse("https://api.openai.com/v1/chat/completions").unwrap()
}

/// The value of `name`, once (a name recorded twice is a bug).
fn get<'a>(attrs: &'a Attrs, name: &str) -> Option<&'a Attr> {
    let found: Vec<&Attr> = attrs
        .iter()
        .filter(|(n, _)| *n == name)
        .map(|(_, v)| v)
        .collect();
    assert!(found.len() <= 1, "{name} recorded {} times", found.len());
    found.first().copied()
}

fn json_of(attrs: &Attrs, name: &str) -> Value {
    match get(attrs, name) {
        Some(Attr::Str(text)) => serde_json::from_str(text).unwrap(),
        other => panic!("{name}: {other:?}"),
    }
}

fn str_of<'a>(attrs: &'a Attrs, name: &str) -> &'a str {
    match get(attrs, name) {
        Some(Attr::Str(text)) => text,
        other => panic!("{name}: {other:?}"),
    }
}

fn all_declared(attrs: &Attrs) {
    for (name, _) in attrs {
        assert!(span::declared(name), "{name} is not a field of the span");
    }
}

#[test]
fn apis_are_told_by_method_and_the_path_end() {
    use http::Method;
    let cases = [
        (
            Method::POST,
            "/v1/chat/completions",
            Some(Api::ChatCompletions),
        ),
        (
            Method::POST,
            "/openai/deployments/gpt4/chat/completions",
            Some(Api::ChatCompletions),
        ),
        (Method::POST, "/v1/responses", Some(Api::Responses)),
        (Method::POST, "/v1/embeddings/", Some(Api::Embeddings)),
        (Method::GET, "/v1/responses", None),
        (Method::POST, "/v1/responses/resp_1/cancel", None),
        (Method::POST, "/v1/files", None),
        (Method::POST, "/v1/completions", None),
    ];
    for (method, path, api) in cases {
        assert_eq!(Api::of(&method, path), api, "{method} {path}");
    }
}

#[test]
fn a_chat_request_gives_the_conventions_fields() {
    let body = json!({
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [
                {"type": "text", "text": "What is in the image?"},
                {"type": "image_url", "image_url": {"url": "https://x.test/cat.png"}},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            ]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{\"order\":7}"}},
                {"id": "call_2", "type": "function", "function": {"name": "broken", "arguments": "not json"}},
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "shipped"},
        ],
        "tools": [{"type": "function", "function": {"name": "lookup", "description": "Finds an order", "parameters": {"type": "object"}}}],
        "temperature": 0.2, "top_p": 0.9, "max_completion_tokens": 300, "seed": 7, "n": 2,
        "frequency_penalty": 0.5, "presence_penalty": -0.5, "stop": "END",
        "reasoning_effort": "low", "response_format": {"type": "json_schema"},
        "service_tier": "flex", "stream": true,
    });
    let call = request::call(Api::ChatCompletions, &url(), Some(&body), true);
    let attrs = call.attrs;
    all_declared(&attrs);
    assert!(call.streaming);
    assert_eq!(str_of(&attrs, "otel.name"), "chat gpt-4o-mini");
    assert_eq!(str_of(&attrs, "otel.kind"), "client");
    assert_eq!(str_of(&attrs, "gen_ai.operation.name"), "chat");
    assert_eq!(str_of(&attrs, "gen_ai.provider.name"), "openai");
    assert_eq!(str_of(&attrs, "openai.api.type"), "chat_completions");
    assert_eq!(str_of(&attrs, "server.address"), "api.openai.com");
    assert_eq!(get(&attrs, "server.port"), Some(&Attr::I64(443)));
    assert_eq!(
        get(&attrs, "gen_ai.request.temperature"),
        Some(&Attr::F64(0.2))
    );
    assert_eq!(get(&attrs, "gen_ai.request.top_p"), Some(&Attr::F64(0.9)));
    assert_eq!(
        get(&attrs, "gen_ai.request.max_tokens"),
        Some(&Attr::I64(300))
    );
    assert_eq!(get(&attrs, "gen_ai.request.seed"), Some(&Attr::I64(7)));
    assert_eq!(
        get(&attrs, "gen_ai.request.choice.count"),
        Some(&Attr::I64(2))
    );
    assert_eq!(
        get(&attrs, "gen_ai.request.frequency_penalty"),
        Some(&Attr::F64(0.5))
    );
    assert_eq!(
        get(&attrs, "gen_ai.request.presence_penalty"),
        Some(&Attr::F64(-0.5))
    );
    assert_eq!(
        json_of(&attrs, "gen_ai.request.stop_sequences"),
        json!(["END"])
    );
    assert_eq!(str_of(&attrs, "gen_ai.request.reasoning.level"), "low");
    assert_eq!(str_of(&attrs, "gen_ai.output.type"), "json");
    assert_eq!(str_of(&attrs, "openai.request.service_tier"), "flex");
    assert_eq!(
        get(&attrs, "gen_ai.request.stream"),
        Some(&Attr::Bool(true))
    );
    assert_eq!(
        json_of(&attrs, "gen_ai.input.messages"),
        json!([
            {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
            {"role": "user", "parts": [
                {"type": "text", "content": "What is in the image?"},
                {"type": "uri", "modality": "image", "uri": "https://x.test/cat.png"},
                {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "AAAA"},
            ]},
            {"role": "assistant", "parts": [
                {"type": "tool_call", "id": "call_1", "name": "lookup", "arguments": {"order": 7}},
                {"type": "tool_call", "id": "call_2", "name": "broken", "arguments": "not json"},
            ]},
            {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": "shipped"}]},
        ])
    );
    assert_eq!(
        json_of(&attrs, "gen_ai.tool.definitions"),
        json!([{"type": "function", "name": "lookup", "description": "Finds an order", "parameters": {"type": "object"}}])
    );
}

#[test]
fn content_off_keeps_roles_types_ids_and_tool_names() {
    let body = json!({
        "model": "m",
        "messages": [
            {"role": "user", "content": "my card is 4111"},
            {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "pay", "arguments": "{\"card\":\"4111\"}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "paid"},
        ],
    });
    let attrs = request::call(Api::ChatCompletions, &url(), Some(&body), false).attrs;
    let messages = json_of(&attrs, "gen_ai.input.messages");
    assert_eq!(
        messages,
        json!([
            {"role": "user", "parts": [{"type": "text", "content": "[hidden]"}]},
            {"role": "assistant", "parts": [
                {"type": "tool_call", "id": "c1", "name": "pay", "arguments": "[hidden]"}]},
            {"role": "tool", "parts": [
                {"type": "tool_call_response", "id": "c1", "response": "[hidden]"}]},
        ])
    );
    assert!(!messages.to_string().contains("4111"));

    let answer = json!({"choices": [{"index": 0, "finish_reason": "stop",
        "message": {"role": "assistant", "content": "done, 4111 charged"}}]});
    let out = response::chat_completion(&answer, false);
    assert_eq!(
        json_of(&out, "gen_ai.output.messages"),
        json!([{"role": "assistant", "parts": [{"type": "text", "content": "[hidden]"}],
            "finish_reason": "stop"}])
    );
}

#[test]
fn a_responses_request_gives_instructions_items_and_tools() {
    let body = json!({
        "model": "gpt-5",
        "instructions": "Answer in French.",
        "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "Where is order 7?"}]},
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Look it up."}]},
            {"type": "function_call", "call_id": "call_1", "name": "lookup", "arguments": "{\"order\":7}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "shipped"},
        ],
        "tools": [{"type": "function", "name": "lookup", "parameters": {}}],
        "max_output_tokens": 500, "reasoning": {"effort": "high"},
        "text": {"format": {"type": "text"}}, "previous_response_id": "resp_0",
        "conversation": {"id": "conv_1"},
    });
    let attrs = request::call(Api::Responses, &url(), Some(&body), true).attrs;
    all_declared(&attrs);
    assert_eq!(str_of(&attrs, "openai.api.type"), "responses");
    assert_eq!(str_of(&attrs, "otel.name"), "chat gpt-5");
    assert_eq!(
        get(&attrs, "gen_ai.request.max_tokens"),
        Some(&Attr::I64(500))
    );
    assert_eq!(str_of(&attrs, "gen_ai.request.reasoning.level"), "high");
    assert_eq!(str_of(&attrs, "gen_ai.output.type"), "text");
    assert_eq!(
        str_of(&attrs, "gen_ai.request.previous_response.id"),
        "resp_0"
    );
    assert_eq!(str_of(&attrs, "gen_ai.conversation.id"), "conv_1");
    assert_eq!(
        json_of(&attrs, "gen_ai.system_instructions"),
        json!([{"type": "text", "content": "Answer in French."}])
    );
    assert_eq!(
        json_of(&attrs, "gen_ai.input.messages"),
        json!([
            {"role": "user", "parts": [{"type": "text", "content": "Where is order 7?"}]},
            {"role": "assistant", "parts": [
                {"type": "reasoning", "content": "Look it up."},
                {"type": "tool_call", "id": "call_1", "name": "lookup", "arguments": {"order": 7}},
            ]},
            {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": "shipped"}]},
        ])
    );
    let text = request::call(
        Api::Responses,
        &url(),
        Some(&json!({"model": "m", "input": "hi"})),
        true,
    );
    assert_eq!(
        json_of(&text.attrs, "gen_ai.input.messages"),
        json!([{"role": "user", "parts": [{"type": "text", "content": "hi"}]}])
    );
}

#[test]
fn an_embeddings_request_counts_its_inputs() {
    let body = json!({"model": "text-embedding-3-small", "input": ["a", "b"], "dimensions": 8, "encoding_format": "float"});
    let attrs = request::call(Api::Embeddings, &url(), Some(&body), true).attrs;
    all_declared(&attrs);
    assert_eq!(
        str_of(&attrs, "otel.name"),
        "embeddings text-embedding-3-small"
    );
    assert_eq!(
        get(&attrs, "gen_ai.embeddings.dimension.count"),
        Some(&Attr::I64(8))
    );
    assert_eq!(
        json_of(&attrs, "gen_ai.request.encoding_formats"),
        json!(["float"])
    );
    assert_eq!(
        json_of(&attrs, "honeyhive.inputs"),
        json!({"input": ["a", "b"], "count": 2})
    );
    assert!(get(&attrs, "gen_ai.request.stream").is_none());
    let off = request::call(
        Api::Embeddings,
        &url(),
        Some(&json!({"input": [1, 2, 3]})),
        false,
    );
    assert_eq!(json_of(&off.attrs, "honeyhive.inputs"), json!({"count": 1}));
    assert_eq!(str_of(&off.attrs, "otel.name"), "embeddings");
}

#[test]
fn a_request_that_is_not_json_keeps_what_the_url_gives() {
    let azure =
        url::Url::parse("https://acme.openai.azure.com/openai/deployments/d/chat/completions")
            .unwrap();
    let call = request::call(Api::ChatCompletions, &azure, None, true);
    assert!(!call.streaming);
    assert_eq!(
        str_of(&call.attrs, "gen_ai.provider.name"),
        "azure.ai.openai"
    );
    assert_eq!(str_of(&call.attrs, "otel.name"), "chat");
    assert!(get(&call.attrs, "gen_ai.input.messages").is_none());
}

#[test]
fn a_chat_answer_gives_outputs_reasons_and_usage() {
    let answer = json!({
        "id": "chatcmpl-1", "model": "gpt-4o-mini-2024", "system_fingerprint": "fp_1", "service_tier": "default",
        "choices": [
            {"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
                "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{\"order\":7}"}}]}},
            {"index": 1, "finish_reason": "stop", "message": {"role": "assistant", "content": "Shipped."}},
        ],
        "usage": {"prompt_tokens": 42, "completion_tokens": 9, "total_tokens": 51,
                  "prompt_tokens_details": {"cached_tokens": 16}, "completion_tokens_details": {"reasoning_tokens": 4}},
    });
    let attrs = response::chat_completion(&answer, true);
    all_declared(&attrs);
    assert_eq!(str_of(&attrs, "gen_ai.response.id"), "chatcmpl-1");
    assert_eq!(str_of(&attrs, "gen_ai.response.model"), "gpt-4o-mini-2024");
    assert_eq!(str_of(&attrs, "openai.response.system_fingerprint"), "fp_1");
    assert_eq!(str_of(&attrs, "openai.response.service_tier"), "default");
    assert_eq!(
        json_of(&attrs, "gen_ai.response.finish_reasons"),
        json!(["tool_calls", "stop"])
    );
    assert_eq!(
        get(&attrs, "gen_ai.usage.input_tokens"),
        Some(&Attr::I64(42))
    );
    assert_eq!(
        get(&attrs, "gen_ai.usage.output_tokens"),
        Some(&Attr::I64(9))
    );
    assert_eq!(
        get(&attrs, "gen_ai.usage.cache_read.input_tokens"),
        Some(&Attr::I64(16))
    );
    assert_eq!(
        get(&attrs, "gen_ai.usage.reasoning.output_tokens"),
        Some(&Attr::I64(4))
    );
    assert_eq!(
        json_of(&attrs, "gen_ai.output.messages"),
        json!([
            {"role": "assistant", "finish_reason": "tool_calls", "parts": [
                {"type": "tool_call", "id": "call_1", "name": "lookup", "arguments": {"order": 7}}]},
            {"role": "assistant", "finish_reason": "stop", "parts": [{"type": "text", "content": "Shipped."}]},
        ])
    );
}

#[test]
fn a_response_gives_one_assistant_message() {
    let body = json!({
        "id": "resp_1", "model": "gpt-5", "status": "completed",
        "output": [
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Thinking."}]},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Shipped."}]},
        ],
        "usage": {"input_tokens": 42, "output_tokens": 9, "input_tokens_details": {"cached_tokens": 16},
                  "output_tokens_details": {"reasoning_tokens": 4}},
    });
    let attrs = response::response(&body, true);
    all_declared(&attrs);
    assert_eq!(
        json_of(&attrs, "gen_ai.response.finish_reasons"),
        json!(["stop"])
    );
    assert_eq!(
        json_of(&attrs, "gen_ai.output.messages"),
        json!([{"role": "assistant", "finish_reason": "stop", "parts": [
            {"type": "reasoning", "content": "Thinking."}, {"type": "text", "content": "Shipped."}]}])
    );
    assert_eq!(
        get(&attrs, "gen_ai.usage.reasoning.output_tokens"),
        Some(&Attr::I64(4))
    );
    let cases = [
        (
            json!({"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}),
            "length",
        ),
        (
            json!({"status": "incomplete", "incomplete_details": {"reason": "content_filter"}}),
            "content_filter",
        ),
        (
            json!({"status": "completed", "output": [{"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"}]}),
            "tool_calls",
        ),
        (
            json!({"status": "failed", "error": {"code": "server_error", "message": "boom"}}),
            "error",
        ),
    ];
    for (body, reason) in cases {
        let attrs = response::response(&body, true);
        assert_eq!(
            json_of(&attrs, "gen_ai.response.finish_reasons"),
            json!([reason]),
            "{body}"
        );
    }
    let failed = response::response(
        &json!({"status": "failed", "error": {"code": "server_error", "message": "boom"}}),
        true,
    );
    assert_eq!(str_of(&failed, "otel.status_description"), "boom");
    assert_eq!(str_of(&failed, "error.type"), "server_error");
}

#[test]
fn an_embeddings_answer_is_counted_not_kept() {
    let body = br#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2,0.3]},
        {"object":"embedding","index":1,"embedding":[0.4,0.5,0.6]}],"model":"text-embedding-3-small",
        "usage":{"prompt_tokens":5,"total_tokens":5}}"#;
    let attrs = response::embeddings(body);
    all_declared(&attrs);
    assert_eq!(
        json_of(&attrs, "honeyhive.outputs"),
        json!({"count": 2, "dimensions": 3})
    );
    assert_eq!(
        get(&attrs, "gen_ai.usage.input_tokens"),
        Some(&Attr::I64(5))
    );
    assert_eq!(
        str_of(&attrs, "gen_ai.response.model"),
        "text-embedding-3-small"
    );
    // Eight little-endian f32s in base64: 32 bytes, 44 characters with padding.
    let base64 = br#"{"data":[{"embedding":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}]}"#;
    assert_eq!(
        json_of(&response::embeddings(base64), "honeyhive.outputs"),
        json!({"count": 1, "dimensions": 8})
    );
    assert!(response::embeddings(b"not json").is_empty());
}

#[test]
fn errors_carry_the_status_the_message_and_the_type() {
    let body = br#"{"error":{"message":"Rate limit reached for gpt-4o-mini","type":"requests","code":"rate_limit_exceeded"}}"#;
    let attrs = response::http_error(http::StatusCode::TOO_MANY_REQUESTS, body);
    all_declared(&attrs);
    assert_eq!(str_of(&attrs, "otel.status_code"), "ERROR");
    assert_eq!(
        str_of(&attrs, "otel.status_description"),
        "HTTP 429 Too Many Requests: Rate limit reached for gpt-4o-mini"
    );
    assert_eq!(str_of(&attrs, "error.type"), "requests");
    assert_eq!(
        get(&attrs, "http.response.status_code"),
        Some(&Attr::I64(429))
    );
    let plain = response::http_error(http::StatusCode::BAD_GATEWAY, b"upstream down");
    assert_eq!(
        str_of(&plain, "otel.status_description"),
        "HTTP 502 Bad Gateway: upstream down"
    );
    assert_eq!(str_of(&plain, "error.type"), "502");
    let empty = response::http_error(http::StatusCode::INTERNAL_SERVER_ERROR, b"");
    assert_eq!(
        str_of(&empty, "otel.status_description"),
        "HTTP 500 Internal Server Error"
    );
}

/// Events from `input` fed in pieces of `size` bytes.
fn events(input: &str, size: usize) -> Vec<SseEvent> {
    let mut reader = SseReader::default();
    let mut out = Vec::new();
    for piece in input.as_bytes().chunks(size) {
        reader.feed(piece, &mut |e| out.push(e));
    }
    reader.finish(&mut |e| out.push(e));
    out
}

#[test]
fn server_sent_events_are_read_across_any_cut() {
    let input = ": comment\n\nevent: response.created\ndata: {\"a\":1}\n\ndata: first\r\ndata: second\r\n\r\ndata: [DONE]";
    let expected = vec![
        SseEvent {
            event: "response.created".into(),
            data: "{\"a\":1}".into(),
        },
        SseEvent {
            event: String::new(),
            data: "first\nsecond".into(),
        },
        SseEvent {
            event: String::new(),
            data: "[DONE]".into(),
        },
    ];
    for size in [1, 2, 3, 7, 1000] {
        assert_eq!(events(input, size), expected, "pieces of {size}");
    }
}

#[test]
fn chat_chunks_build_the_answer_a_whole_call_returns() {
    let chunks = [
        json!({"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}),
        json!({"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"content": "Hel"}}]}),
        json!({"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"content": "lo"}}]}),
        json!({"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": ""}}]}}]}),
        json!({"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "function": {"arguments": "{\"ord"}}]}}]}),
        json!({"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "function": {"arguments": "er\":7}"}}]}}]}),
        json!({"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
        json!({"id": "c1", "model": "m", "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}}),
    ];
    let mut answer = ChatAnswer::default();
    chunks.iter().for_each(|c| answer.add(c));
    assert_eq!(answer.chunks, 8);
    let whole = answer.completion();
    assert_eq!(
        whole,
        json!({"id": "c1", "model": "m",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": "Hello",
                "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{\"order\":7}"}}]}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2}})
    );
    let attrs = response::chat_completion(&whole, true);
    assert_eq!(
        json_of(&attrs, "gen_ai.response.finish_reasons"),
        json!(["tool_calls"])
    );
}

#[test]
fn responses_events_build_the_response_or_what_arrived() {
    let events = [
        json!({"type": "response.created", "response": {"id": "resp_1", "model": "m", "status": "in_progress"}}),
        json!({"type": "response.output_item.added", "output_index": 0, "item": {"type": "message", "role": "assistant", "content": []}}),
        json!({"type": "response.output_text.delta", "output_index": 0, "delta": "Ship"}),
        json!({"type": "response.output_text.delta", "output_index": 0, "delta": "ped"}),
        json!({"type": "response.output_item.added", "output_index": 1, "item": {"type": "function_call", "call_id": "c", "name": "f", "arguments": ""}}),
        json!({"type": "response.function_call_arguments.delta", "output_index": 1, "delta": "{\"a\":"}),
        json!({"type": "response.function_call_arguments.delta", "output_index": 1, "delta": "1}"}),
    ];
    let mut answer = ResponsesAnswer::default();
    for event in &events {
        assert!(!answer.add(event));
    }
    let partial = response::response(&answer.response(), true);
    assert_eq!(str_of(&partial, "gen_ai.response.id"), "resp_1");
    assert_eq!(
        json_of(&partial, "gen_ai.output.messages"),
        json!([{"role": "assistant", "parts": [
            {"type": "text", "content": "Shipped"},
            {"type": "tool_call", "id": "c", "name": "f", "arguments": {"a": 1}}]}])
    );
    assert!(get(&partial, "gen_ai.response.finish_reasons").is_none());
    let done = json!({"type": "response.completed", "response": {"id": "resp_1", "status": "completed", "output": []}});
    assert!(answer.add(&done));
    assert_eq!(answer.response()["status"], "completed");
    let mut failed = ResponsesAnswer::default();
    assert!(failed.add(&json!({"type": "error", "code": "server_error", "message": "boom"})));
    assert!(failed.error.is_some());
}
