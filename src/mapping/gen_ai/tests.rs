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
    for name in [
        "gen_ai.evaluation.name",
        "gen_ai.agent.invocation.status",
        "gen_ai.memory.records",
        "gen_ai.skill.id",
        "gen_ai.usage.cost",
        "gen_ai.usage.cache_write",
    ] {
        assert_eq!(
            placed(name, json!("kb-1")),
            vec![(Bucket::Metadata, name.into(), json!("kb-1"))],
            "{name}"
        );
    }
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
    let reasons = buckets
        .get("metadata")
        .and_then(|m| m.get("finish_reasons"))
        .cloned();
    finish_reason(buckets.entry("outputs").or_default(), reasons.as_ref());
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

/// Every name the table knows, newer and older spellings: (name, value given, bucket, key,
/// value placed).
#[test]
fn every_name_newer_and_older_goes_to_its_honeyhive_key() {
    use Bucket::{Config, Inputs, Metadata, Outputs};
    let rows: Vec<(&str, Value, Bucket, &str, Value)> = vec![
        (
            "gen_ai.request.model",
            json!("gpt-4o"),
            Config,
            "model",
            json!("gpt-4o"),
        ),
        (
            "gen_ai.provider.name",
            json!("openai"),
            Config,
            "provider",
            json!("openai"),
        ),
        (
            "gen_ai.system",
            json!("openai"),
            Config,
            "provider",
            json!("openai"),
        ),
        (
            "gen_ai.request.reasoning.level",
            json!("high"),
            Config,
            "reasoning_effort",
            json!("high"),
        ),
        (
            "gen_ai.request.reasoning_effort",
            json!("high"),
            Config,
            "reasoning_effort",
            json!("high"),
        ),
        (
            "gen_ai.request.stop_sequences",
            json!(r#"["END"]"#),
            Config,
            "stop_sequences",
            json!(["END"]),
        ),
        (
            "gen_ai.embeddings.dimension.count",
            json!("512"),
            Config,
            "dimensions",
            json!(512),
        ),
        (
            "gen_ai.output.type",
            json!("json"),
            Config,
            "output_type",
            json!("json"),
        ),
        (
            "gen_ai.tool.definitions",
            json!(r#"[{"name":"f"}]"#),
            Config,
            "tools",
            json!([{"name": "f"}]),
        ),
        (
            "gen_ai.usage.input_tokens",
            json!(12),
            Metadata,
            "prompt_tokens",
            json!(12),
        ),
        (
            "gen_ai.usage.prompt_tokens",
            json!("12"),
            Metadata,
            "prompt_tokens",
            json!(12),
        ),
        (
            "gen_ai.usage.output_tokens",
            json!(3),
            Metadata,
            "completion_tokens",
            json!(3),
        ),
        (
            "gen_ai.usage.completion_tokens",
            json!("3"),
            Metadata,
            "completion_tokens",
            json!(3),
        ),
        (
            "gen_ai.usage.total_tokens",
            json!("15"),
            Metadata,
            "total_tokens",
            json!(15),
        ),
        (
            "gen_ai.usage.cache_read.input_tokens",
            json!(4),
            Metadata,
            "cache_read_input_tokens",
            json!(4),
        ),
        (
            "gen_ai.usage.cache_read_input_tokens",
            json!(4),
            Metadata,
            "cache_read_input_tokens",
            json!(4),
        ),
        (
            "gen_ai.usage.cached_tokens",
            json!(4),
            Metadata,
            "cache_read_input_tokens",
            json!(4),
        ),
        (
            "gen_ai.usage.cache_write.input_tokens",
            json!("5"),
            Metadata,
            "cache_write_input_tokens",
            json!(5),
        ),
        (
            "gen_ai.usage.cache_creation.input_tokens",
            json!(5),
            Metadata,
            "cache_write_input_tokens",
            json!(5),
        ),
        (
            "gen_ai.usage.cache_creation_input_tokens",
            json!(5),
            Metadata,
            "cache_write_input_tokens",
            json!(5),
        ),
        (
            "gen_ai.usage.cache_write_input_tokens",
            json!(5),
            Metadata,
            "cache_write_input_tokens",
            json!(5),
        ),
        (
            "gen_ai.usage.reasoning.output_tokens",
            json!(6),
            Metadata,
            "reasoning_tokens",
            json!(6),
        ),
        (
            "gen_ai.usage.reasoning_tokens",
            json!(6),
            Metadata,
            "reasoning_tokens",
            json!(6),
        ),
        (
            "gen_ai.usage.reasoning_output_tokens",
            json!(6),
            Metadata,
            "reasoning_tokens",
            json!(6),
        ),
        (
            "gen_ai.usage.text.input_tokens",
            json!(7),
            Metadata,
            "prompt_text_tokens",
            json!(7),
        ),
        (
            "gen_ai.usage.image.input_tokens",
            json!(7),
            Metadata,
            "prompt_image_tokens",
            json!(7),
        ),
        (
            "gen_ai.usage.audio.input_tokens",
            json!("7"),
            Metadata,
            "prompt_audio_tokens",
            json!(7),
        ),
        (
            "gen_ai.usage.input_audio_tokens",
            json!(7),
            Metadata,
            "prompt_audio_tokens",
            json!(7),
        ),
        (
            "gen_ai.usage.video.input_tokens",
            json!(7),
            Metadata,
            "prompt_video_tokens",
            json!(7),
        ),
        (
            "gen_ai.usage.text.output_tokens",
            json!(8),
            Metadata,
            "completion_text_tokens",
            json!(8),
        ),
        (
            "gen_ai.usage.image.output_tokens",
            json!(8),
            Metadata,
            "completion_image_tokens",
            json!(8),
        ),
        (
            "gen_ai.usage.audio.output_tokens",
            json!(8),
            Metadata,
            "completion_audio_tokens",
            json!(8),
        ),
        (
            "gen_ai.usage.output_audio_tokens",
            json!(8),
            Metadata,
            "completion_audio_tokens",
            json!(8),
        ),
        (
            "gen_ai.usage.text.cache_read.input_tokens",
            json!(2),
            Metadata,
            "cache_read_text_input_tokens",
            json!(2),
        ),
        (
            "gen_ai.usage.image.cache_read.input_tokens",
            json!(2),
            Metadata,
            "cache_read_image_input_tokens",
            json!(2),
        ),
        (
            "gen_ai.usage.audio.cache_read.input_tokens",
            json!(2),
            Metadata,
            "cache_read_audio_input_tokens",
            json!(2),
        ),
        (
            "gen_ai.usage.cost.amount",
            json!(0.0123),
            Metadata,
            "cost",
            json!(0.0123),
        ),
        (
            "gen_ai.usage.cost.currency",
            json!("USD"),
            Metadata,
            "cost_currency",
            json!("USD"),
        ),
        (
            "gen_ai.usage.cost.source",
            json!("provider"),
            Metadata,
            "cost_source",
            json!("provider"),
        ),
        (
            "gen_ai.response.model",
            json!("gpt-4o-1"),
            Metadata,
            "response_model",
            json!("gpt-4o-1"),
        ),
        (
            "gen_ai.response.id",
            json!("resp_1"),
            Metadata,
            "response_id",
            json!("resp_1"),
        ),
        (
            "gen_ai.response.finish_reasons",
            json!(r#"["stop"]"#),
            Metadata,
            "finish_reasons",
            json!(["stop"]),
        ),
        (
            "gen_ai.request.previous_response.id",
            json!("resp_0"),
            Metadata,
            "previous_response_id",
            json!("resp_0"),
        ),
        (
            "gen_ai.operation.name",
            json!("chat"),
            Metadata,
            "operation",
            json!("chat"),
        ),
        (
            "gen_ai.conversation.id",
            json!("c-1"),
            Metadata,
            "conversation_id",
            json!("c-1"),
        ),
        (
            "gen_ai.conversation.compacted",
            json!(true),
            Metadata,
            "conversation_compacted",
            json!(true),
        ),
        (
            "gen_ai.agent.name",
            json!("support"),
            Metadata,
            "agent_name",
            json!("support"),
        ),
        (
            "gen_ai.agent.id",
            json!("asst_1"),
            Metadata,
            "agent_id",
            json!("asst_1"),
        ),
        (
            "gen_ai.agent.description",
            json!("Helps"),
            Metadata,
            "agent_description",
            json!("Helps"),
        ),
        (
            "gen_ai.agent.version",
            json!("1.0.0"),
            Metadata,
            "agent_version",
            json!("1.0.0"),
        ),
        (
            "gen_ai.main_agent.name",
            json!("triage"),
            Metadata,
            "main_agent_name",
            json!("triage"),
        ),
        (
            "gen_ai.agent.handoff.source.name",
            json!("triage"),
            Metadata,
            "handoff_source",
            json!("triage"),
        ),
        (
            "gen_ai.agent.handoff.target.name",
            json!("billing"),
            Metadata,
            "handoff_target",
            json!("billing"),
        ),
        (
            "gen_ai.workflow.name",
            json!("rag"),
            Metadata,
            "workflow_name",
            json!("rag"),
        ),
        (
            "gen_ai.step.name",
            json!("rerank"),
            Metadata,
            "step_name",
            json!("rerank"),
        ),
        (
            "gen_ai.prompt.name",
            json!("analyze"),
            Metadata,
            "prompt_name",
            json!("analyze"),
        ),
        (
            "gen_ai.prompt.version",
            json!("v2"),
            Metadata,
            "prompt_version",
            json!("v2"),
        ),
        (
            "gen_ai.tool.name",
            json!("lookup"),
            Config,
            "tool_name",
            json!("lookup"),
        ),
        (
            "gen_ai.tool.description",
            json!("Finds"),
            Config,
            "tool_description",
            json!("Finds"),
        ),
        (
            "gen_ai.tool.type",
            json!("function"),
            Config,
            "tool_type",
            json!("function"),
        ),
        (
            "gen_ai.tool.call.id",
            json!("call_1"),
            Metadata,
            "tool_call_id",
            json!("call_1"),
        ),
        (
            "gen_ai.tool.call.arguments",
            json!(r#"{"a":1}"#),
            Inputs,
            "arguments",
            json!({"a": 1}),
        ),
        (
            "gen_ai.tool.call.result",
            json!(r#"{"b":2}"#),
            Outputs,
            "result",
            json!({"b": 2}),
        ),
        (
            "gen_ai.data_source.id",
            json!("kb-1"),
            Metadata,
            "data_source_id",
            json!("kb-1"),
        ),
        (
            "gen_ai.retrieval.query.text",
            json!("weather"),
            Inputs,
            "query",
            json!("weather"),
        ),
        (
            "gen_ai.memory.query.text",
            json!("diet"),
            Inputs,
            "query",
            json!("diet"),
        ),
        (
            "gen_ai.retrieval.documents",
            json!(r#"[{"id":"d1","score":0.9}]"#),
            Outputs,
            "documents",
            json!([{"id": "d1", "score": 0.9}]),
        ),
        (
            "gen_ai.memory.store.id",
            json!("ms_1"),
            Metadata,
            "memory_store_id",
            json!("ms_1"),
        ),
        (
            "gen_ai.memory.record.id",
            json!("mem_1"),
            Metadata,
            "memory_record_id",
            json!("mem_1"),
        ),
        (
            "gen_ai.memory.record.count",
            json!("3"),
            Metadata,
            "memory_record_count",
            json!(3),
        ),
        (
            "gen_ai.input.messages_delta",
            json!(r#"[{"role":"user","parts":[{"type":"text","content":"Hi"}]}]"#),
            Inputs,
            "chat_history_delta",
            json!([{"role": "user", "content": "Hi"}]),
        ),
    ];
    for (name, value, bucket, key, expected) in rows {
        assert_eq!(
            placed(name, value),
            vec![(bucket, key.to_owned(), expected)],
            "{name}"
        );
    }
}

/// Request parameters without a name of their own keep the convention's, counts as numbers.
#[test]
fn other_request_parameters_keep_their_name_in_config() {
    for (name, value, key, expected) in [
        (
            "gen_ai.request.temperature",
            json!(0.2),
            "temperature",
            json!(0.2),
        ),
        ("gen_ai.request.top_p", json!(0.9), "top_p", json!(0.9)),
        ("gen_ai.request.top_k", json!("40"), "top_k", json!(40)),
        ("gen_ai.request.seed", json!("100"), "seed", json!(100)),
        (
            "gen_ai.request.max_tokens",
            json!("256"),
            "max_tokens",
            json!(256),
        ),
        (
            "gen_ai.request.choice.count",
            json!("3"),
            "choice.count",
            json!(3),
        ),
        ("gen_ai.request.stream", json!(true), "stream", json!(true)),
        (
            "gen_ai.request.frequency_penalty",
            json!(0.1),
            "frequency_penalty",
            json!(0.1),
        ),
        (
            "gen_ai.request.presence_penalty",
            json!(0.1),
            "presence_penalty",
            json!(0.1),
        ),
        (
            "gen_ai.request.encoding_formats",
            json!(r#"["float"]"#),
            "encoding_formats",
            json!(["float"]),
        ),
    ] {
        assert_eq!(
            placed(name, value),
            vec![(Bucket::Config, key.to_owned(), expected)],
            "{name}"
        );
    }
}

#[test]
fn the_time_to_first_chunk_in_seconds_becomes_milliseconds_and_stays_under_its_name() {
    for (given, expected) in [
        (json!(0.5), json!(500.0)),
        (json!(2), json!(2000.0)),
        (json!(" 1.25 "), json!(1250.0)),
        (json!("soon"), json!("soon")),
        (json!(true), json!(true)),
    ] {
        let name = "gen_ai.response.time_to_first_chunk";
        assert_eq!(
            placed(name, given.clone()),
            vec![
                (Bucket::Metadata, name.into(), given.clone()),
                (Bucket::Metadata, "time_to_first_token_ms".into(), expected),
            ],
            "{given}"
        );
    }
}

#[test]
fn prompt_variables_are_a_family_of_template_variables() {
    let placement = |path: &str, value: Value| Placement {
        bucket: Bucket::Inputs,
        path: path.to_owned(),
        value,
    };
    assert_eq!(
        try_family("gen_ai.prompt.variable.user_name", json!("Alice")),
        Ok(vec![placement(
            "template_variables.user_name",
            json!("Alice")
        )])
    );
    assert_eq!(
        try_family("gen_ai.prompt.variable.language", json!("French")),
        Ok(vec![placement(
            "template_variables.language",
            json!("French")
        )])
    );
    for name in [
        "gen_ai.prompt.variable.",
        "gen_ai.prompt.variable",
        "gen_ai.prompt.name",
        "gen_ai.prompt",
        "gen_ai.request.model",
    ] {
        assert_eq!(try_family(name, json!("x")), Err(json!("x")), "{name}");
    }
}

#[test]
fn every_operation_of_the_conventions_has_its_event_type() {
    use EventType::{Chain, Model, Tool};
    for (operation, expected) in [
        ("chat", Model),
        ("text_completion", Model),
        ("generate_content", Model),
        ("embeddings", Model),
        ("realtime_inference", Model),
        ("speech_to_text", Model),
        ("text_to_speech", Model),
        ("execute_tool", Tool),
        ("invoke_agent", Chain),
        ("create_agent", Chain),
        ("invoke_workflow", Chain),
        ("plan", Chain),
        ("run_step", Chain),
        ("handle_conversation_turn", Chain),
        ("retrieval", Chain),
        ("fetch_response", Chain),
        ("create_memory_store", Chain),
        ("delete_memory_store", Chain),
        ("create_memory", Chain),
        ("update_memory", Chain),
        ("upsert_memory", Chain),
        ("search_memory", Chain),
        ("delete_memory", Chain),
    ] {
        assert_eq!(
            infer_event_type(Some(operation), true, true),
            Some(expected),
            "{operation}: the operation decides before the model and tool attributes"
        );
    }
}

#[test]
fn workflows_and_plans_get_the_conventional_name() {
    let workflow = fields(&[
        ("gen_ai.operation.name", "invoke_workflow"),
        ("gen_ai.workflow.name", "rag"),
    ]);
    assert_eq!(
        span_name(&workflow, "invoke_workflow").as_deref(),
        Some("invoke_workflow rag")
    );
    assert_eq!(session_name(&workflow).as_deref(), Some("rag"));
    let plan = fields(&[
        ("gen_ai.operation.name", "plan"),
        ("gen_ai.agent.name", "support"),
    ]);
    assert_eq!(span_name(&plan, "plan").as_deref(), Some("plan support"));
    assert_eq!(session_name(&plan), None);
}

/// Each part of the messages' JSON schemas, as the message HoneyHive displays.
#[test]
fn every_message_part_has_its_place_in_the_chat_message() {
    let rows: Vec<(&str, Value, Value)> = vec![
        (
            "text",
            json!([{"type": "text", "content": "Hi"}]),
            json!([{"role": "assistant", "content": "Hi"}]),
        ),
        (
            "tool call, arguments an object",
            json!([{"type": "tool_call", "id": "c1", "name": "f", "arguments": {"a": 1}}]),
            json!([{"role": "assistant", "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}},
            ]}]),
        ),
        (
            "tool call without arguments or id",
            json!([{"type": "tool_call", "id": null, "name": "f"}]),
            json!([{"role": "assistant", "tool_calls": [
                {"type": "function", "function": {"name": "f", "arguments": "{}"}},
            ]}]),
        ),
        (
            "server tool call",
            json!([{"type": "server_tool_call", "id": "s1", "name": "web_search",
                    "server_tool_call": {"query": "rust"}}]),
            json!([{"role": "assistant", "tool_calls": [
                {"id": "s1", "type": "function", "function": {"name": "web_search",
                 "arguments": "{\"query\":\"rust\"}"}},
            ]}]),
        ),
        (
            "tool call response, the newer `response`",
            json!([{"type": "tool_call_response", "id": "c1", "response": "rainy"}]),
            json!([{"role": "tool", "tool_call_id": "c1", "content": "rainy"}]),
        ),
        (
            "tool call response, the older `result`",
            json!([{"type": "tool_call_response", "id": "c1", "result": {"t": 57}}]),
            json!([{"role": "tool", "tool_call_id": "c1", "content": "{\"t\":57}"}]),
        ),
        (
            "server tool call response",
            json!([{"type": "server_tool_call_response", "id": "s1",
                    "server_tool_call_response": {"hits": 2}}]),
            json!([{"role": "tool", "tool_call_id": "s1", "content": "{\"hits\":2}"}]),
        ),
        (
            "reasoning beside the answer",
            json!([{"type": "reasoning", "content": "Think."}, {"type": "text", "content": "42"}]),
            json!([{"role": "assistant", "content": "42", "reasoning": "Think."}]),
        ),
        (
            "audio with a transcript",
            json!([{"type": "blob", "modality": "audio", "content": "AAAA", "transcript": "Hello"}]),
            json!([{"role": "assistant", "content": "Hello", "parts": [
                {"type": "blob", "modality": "audio", "content": "AAAA", "transcript": "Hello"},
            ]}]),
        ),
        (
            "a transcript does not replace text",
            json!([{"type": "text", "content": "Hi"},
                   {"type": "uri", "modality": "audio", "uri": "gs://a", "transcript": "Hey"}]),
            json!([{"role": "assistant", "content": "Hi", "parts": [
                {"type": "uri", "modality": "audio", "uri": "gs://a", "transcript": "Hey"},
            ]}]),
        ),
        (
            "file, compaction and generic parts are kept",
            json!([{"type": "file", "modality": "document", "file_id": "f1"},
                   {"type": "compaction", "id": "k1"},
                   {"type": "generic", "generic_type": "citation", "url": "u"}]),
            json!([{"role": "assistant", "parts": [
                {"type": "file", "modality": "document", "file_id": "f1"},
                {"type": "compaction", "id": "k1"},
                {"type": "generic", "generic_type": "citation", "url": "u"},
            ]}]),
        ),
    ];
    for (label, parts, expected) in rows {
        let messages = json!([{"role": "assistant", "parts": parts}]);
        assert_eq!(messages::chat_messages(messages), expected, "{label}");
    }
}

#[test]
fn an_answer_without_a_finish_reason_takes_the_responses_only_one() {
    let answer = json!([{"role": "assistant", "parts": [{"type": "text", "content": "42"}]}]);
    let out = mapped(&[
        ("gen_ai.output.messages", json!(answer.to_string())),
        ("gen_ai.response.finish_reasons", json!(["stop"])),
    ]);
    assert_eq!(out["outputs"]["finish_reason"], json!("stop"));
    // Its own wins; several reasons (several answers) say nothing of one.
    let own = json!([{"role": "assistant", "content": "42", "finish_reason": "length"}]);
    let out = mapped(&[
        ("gen_ai.output.messages", json!(own.to_string())),
        ("gen_ai.response.finish_reasons", json!(["stop"])),
    ]);
    assert_eq!(out["outputs"]["finish_reason"], json!("length"));
    let out = mapped(&[
        ("gen_ai.output.messages", json!(answer.to_string())),
        ("gen_ai.response.finish_reasons", json!(["stop", "length"])),
    ]);
    assert_eq!(out["outputs"].get("finish_reason"), None);
    // No answer: nothing to give it to.
    let out = mapped(&[("gen_ai.response.finish_reasons", json!(["stop"]))]);
    assert_eq!(out.get("outputs"), None);
}

#[test]
fn prompt_variables_nest_under_template_variables_through_the_mapping() {
    let mut fields = Fields::default();
    fields.set(
        "gen_ai.prompt.variable.user_name",
        FieldValue::Str("Alice".into()),
    );
    fields.set("gen_ai.prompt.name", FieldValue::Str("greet".into()));
    let mapper = crate::mapping::Mapper {
        source: "test".into(),
        project: None,
        max_field_bytes: 64,
        capture_content: true,
    };
    let recorded = crate::recorded::Recorded {
        fields,
        ..Default::default()
    };
    let mut buckets = mapper.buckets(recorded, &[], None, &mut 0);
    assert_eq!(
        buckets.take(Bucket::Inputs),
        json!({"template_variables": {"user_name": "Alice"}})
            .as_object()
            .cloned()
    );
    assert_eq!(
        buckets.take(Bucket::Metadata),
        json!({"prompt_name": "greet"}).as_object().cloned()
    );
}
