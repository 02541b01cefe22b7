use serde_json::json;

use super::*;

fn placed(key: &str, value: Value) -> Vec<(Bucket, String, Value)> {
    let mut out = Vec::new();
    place(key, value, &mut |b, k, v| out.push((b, k.into_owned(), v)));
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
        placed("gen_ai.data_source.id", json!("kb-1")),
        vec![(
            Bucket::Metadata,
            "gen_ai.data_source.id".into(),
            json!("kb-1")
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
    let object = |pairs: &[(&'static str, u64)]| -> Object {
        pairs
            .iter()
            .map(|&(k, n)| (Key::Borrowed(k), json!(n)))
            .collect()
    };
    let mut metadata = object(&[("prompt_tokens", 10), ("completion_tokens", 5)]);
    complete_usage(&mut metadata);
    assert_eq!(metadata["total_tokens"], json!(15));
    let mut given = object(&[
        ("prompt_tokens", 10),
        ("completion_tokens", 5),
        ("total_tokens", 99),
    ]);
    complete_usage(&mut given);
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

/// The placements of several attributes applied to buckets as the mapping applies them, with
/// [`finish`]: the bucket objects by name.
fn mapped(attributes: &[(&str, Value)]) -> Value {
    let mut buckets: std::collections::BTreeMap<&str, Object> = Default::default();
    for (key, value) in attributes {
        place(key, value.clone(), &mut |b, k, v| {
            buckets.entry(b.name()).or_default().insert(k, v);
        });
    }
    finish(buckets.entry("inputs").or_default());
    complete_usage(buckets.entry("metadata").or_default());
    buckets.retain(|_, m| !m.is_empty());
    serde_json::to_value(buckets).unwrap()
}

#[test]
fn otel_parts_become_the_chat_messages_honeyhive_displays() {
    let history = json!([
        {"role": "user", "parts": [{"type": "text", "content": "Where is order 7?"}]},
        {"role": "assistant", "parts": [
            {"type": "text", "content": "Let me check."},
            {"type": "tool_call", "id": "call_1", "name": "lookup", "arguments": {"order": 7}},
        ]},
        {"role": "tool", "parts": [
            {"type": "tool_call_response", "id": "call_1", "response": {"status": "shipped"}},
        ]},
        {"role": "user", "parts": [
            {"type": "tool_call_response", "id": "call_2", "response": "late"},
            {"type": "tool_call_response", "id": "call_3", "response": "early"},
        ]},
        {"role": "user", "parts": [{"type": "blob", "mime_type": "image/png"}]},
    ]);
    let out = mapped(&[("gen_ai.input.messages", json!(history.to_string()))]);
    assert_eq!(
        out["inputs"]["chat_history"],
        json!([
            {"role": "user", "content": "Where is order 7?"},
            {"role": "assistant", "content": "Let me check.", "tool_calls": [
                {"id": "call_1", "type": "function",
                 "function": {"name": "lookup", "arguments": "{\"order\":7}"}},
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "{\"status\":\"shipped\"}"},
            {"role": "tool", "tool_call_id": "call_2", "content": "late"},
            {"role": "tool", "tool_call_id": "call_3", "content": "early"},
            {"role": "user", "parts": [{"type": "blob", "mime_type": "image/png"}]},
        ])
    );
}

#[test]
fn system_instructions_lead_the_history_once() {
    let instructions = json!([{"type": "text", "content": "Be brief."}]).to_string();
    let user = json!([{"role": "user", "content": "Hi"}]).to_string();
    let out = mapped(&[
        ("gen_ai.input.messages", json!(user)),
        ("gen_ai.system_instructions", json!(instructions)),
    ]);
    assert_eq!(
        out["inputs"],
        json!({"chat_history": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
        ]})
    );
    // A history that already starts with that system message (as rig records it) keeps one.
    let with_system = json!([
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]);
    let out = mapped(&[
        ("gen_ai.system_instructions", json!("Be brief.")),
        ("gen_ai.input.messages", json!(with_system.to_string())),
    ]);
    assert_eq!(out["inputs"]["chat_history"], with_system);
    // Instructions alone (genai records no history without content capture) still show.
    let out = mapped(&[("gen_ai.system_instructions", json!("Be brief."))]);
    assert_eq!(
        out["inputs"]["chat_history"],
        json!([{"role": "system", "content": "Be brief."}])
    );
}

#[test]
fn an_answer_with_tool_calls_and_a_text_answer_read_as_outputs() {
    let calls = json!([{"role": "assistant", "finish_reason": "tool_calls", "parts": [
        {"type": "tool_call", "id": "c1", "name": "lookup", "arguments": "{\"order\":7}"},
    ]}]);
    let out = mapped(&[("gen_ai.output.messages", json!(calls.to_string()))]);
    let outputs = &out["outputs"];
    assert_eq!(outputs["role"], json!("assistant"));
    assert_eq!(outputs["finish_reason"], json!("tool_calls"));
    assert_eq!(
        outputs["tool_calls"],
        json!([{"id": "c1", "type": "function",
                "function": {"name": "lookup", "arguments": "{\"order\":7}"}}])
    );
    assert_eq!(outputs.get("content"), None);
    let text = json!([{"role": "assistant", "parts": [{"type": "text", "content": "Shipped."}]}]);
    let out = mapped(&[("gen_ai.output.messages", json!(text.to_string()))]);
    assert_eq!(out["outputs"]["content"], json!("Shipped."));
}

#[test]
fn plain_text_prompts_and_completions_become_messages() {
    let out = mapped(&[
        ("gen_ai.prompt", json!("What is 2+2?")),
        ("gen_ai.completion", json!("4")),
    ]);
    assert_eq!(
        out,
        json!({
            "inputs": {"chat_history": [{"role": "user", "content": "What is 2+2?"}]},
            "outputs": {"role": "assistant", "content": "4"},
        })
    );
}

#[test]
fn usage_and_parameters_have_one_canonical_key_whatever_the_spelling() {
    for (names, key) in [
        (
            &[
                "gen_ai.usage.cache_read.input_tokens",
                "gen_ai.usage.cache_read_input_tokens",
            ][..],
            "cache_read_input_tokens",
        ),
        (
            &[
                "gen_ai.usage.cache_creation.input_tokens",
                "gen_ai.usage.cache_creation_input_tokens",
            ][..],
            "cache_write_input_tokens",
        ),
        (
            &[
                "gen_ai.usage.reasoning.output_tokens",
                "gen_ai.usage.reasoning_tokens",
            ][..],
            "reasoning_tokens",
        ),
    ] {
        for name in names {
            assert_eq!(
                mapped(&[(name, json!(9))])["metadata"],
                json!({key: 9}),
                "{name}"
            );
        }
    }
    let out = mapped(&[
        ("gen_ai.request.max_tokens", json!(256)),
        ("gen_ai.request.stream", json!(true)),
        ("gen_ai.request.reasoning_effort", json!("low")),
        (
            "gen_ai.tool.definitions",
            json!(r#"[{"type":"function","name":"lookup"}]"#),
        ),
        ("gen_ai.agent.name", json!("support")),
        ("gen_ai.conversation.id", json!("c-1")),
        ("gen_ai.operation.name", json!("chat")),
    ]);
    assert_eq!(
        out["config"],
        json!({"max_tokens": 256, "stream": true, "reasoning_effort": "low",
               "tools": [{"type": "function", "name": "lookup"}]})
    );
    assert_eq!(
        out["metadata"],
        json!({"agent_name": "support", "conversation_id": "c-1", "operation": "chat"})
    );
}

fn fields(pairs: &[(&'static str, &str)]) -> Fields {
    let mut fields = Fields::default();
    for (name, value) in pairs {
        fields.set(*name, FieldValue::Str((*value).to_owned()));
    }
    fields
}

#[test]
fn counts_given_as_text_become_numbers() {
    let out = mapped(&[
        ("gen_ai.usage.input_tokens", json!("42")),
        ("gen_ai.usage.output_tokens", json!("9")),
        ("gen_ai.request.max_tokens", json!("256")),
        ("gen_ai.response.id", json!("123")),
    ]);
    assert_eq!(out["metadata"]["prompt_tokens"], json!(42));
    assert_eq!(out["metadata"]["total_tokens"], json!(51));
    assert_eq!(out["config"]["max_tokens"], json!(256));
    assert_eq!(
        out["metadata"]["response_id"],
        json!("123"),
        "ids stay text"
    );
}

#[test]
fn spans_named_by_their_operation_get_the_conventional_name() {
    let chat = fields(&[
        ("gen_ai.operation.name", "chat"),
        ("gen_ai.request.model", "gpt-4o-mini"),
    ]);
    assert_eq!(
        span_name(&chat, "chat").as_deref(),
        Some("chat gpt-4o-mini")
    );
    assert_eq!(
        span_name(&chat, "summarise"),
        None,
        "a name of the user's own stays"
    );
    let tool = fields(&[
        ("gen_ai.operation.name", "execute_tool"),
        ("gen_ai.tool.name", "lookup"),
    ]);
    assert_eq!(
        span_name(&tool, "execute_tool").as_deref(),
        Some("execute_tool lookup")
    );
    let agent = fields(&[
        ("gen_ai.operation.name", "invoke_agent"),
        ("gen_ai.agent.name", "support"),
    ]);
    assert_eq!(
        span_name(&agent, "invoke_agent").as_deref(),
        Some("invoke_agent support")
    );
    assert_eq!(session_name(&agent).as_deref(), Some("support"));
    assert_eq!(session_name(&chat), None);
    let nameless = fields(&[("gen_ai.operation.name", "chat")]);
    assert_eq!(span_name(&nameless, "chat"), None);
}

#[test]
fn a_failed_tool_call_says_what_failed() {
    let failed = fields(&[
        ("gen_ai.tool.name", "lookup"),
        ("gen_ai.tool.call.outcome", "error"),
        ("gen_ai.tool.call.result", "order service timed out"),
    ]);
    assert_eq!(
        tool_error(&failed).as_deref(),
        Some("lookup failed: order service timed out")
    );
    let typed = fields(&[
        ("gen_ai.tool.name", "lookup"),
        ("gen_ai.tool.error.type", "Timeout"),
    ]);
    assert_eq!(
        tool_error(&typed).as_deref(),
        Some("lookup failed: Timeout")
    );
    let fine = fields(&[
        ("gen_ai.tool.name", "lookup"),
        ("gen_ai.tool.call.outcome", "success"),
    ]);
    assert_eq!(tool_error(&fine), None);
}
