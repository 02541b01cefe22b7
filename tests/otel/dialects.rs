//! Spans in the other dialects HoneyHive ingests — OpenInference, Traceloop / OpenLLMetry,
//! Langfuse — as their instrumentations export them, through the exporter to the server.

use opentelemetry::KeyValue;
use serde_json::json;

use super::*;

fn kv(key: &'static str, value: impl Into<opentelemetry::Value>) -> KeyValue {
    KeyValue::new(key, value)
}

#[test]
fn openinference_traceloop_and_langfuse_spans_read_as_honeyhive_events() {
    let server = server();
    let exporter = exporter(&server, |b| b);
    let mut openinference = Made::new(1, 2, 1, "ChatCompletion");
    openinference.attributes = vec![
        kv("openinference.span.kind", "LLM"),
        kv("llm.model_name", "gpt-4o-mini"),
        kv("llm.provider", "openai"),
        kv("llm.invocation_parameters", r#"{"temperature": 0.1}"#),
        kv("llm.input_messages.0.message.role", "system"),
        kv("llm.input_messages.0.message.content", "Be brief."),
        kv("llm.input_messages.1.message.role", "user"),
        kv("llm.input_messages.1.message.content", "Where is order 7?"),
        kv("llm.output_messages.0.message.role", "assistant"),
        kv(
            "llm.output_messages.0.message.tool_calls.0.tool_call.id",
            "call_1",
        ),
        kv(
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.name",
            "lookup",
        ),
        kv(
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments",
            r#"{"order": 7}"#,
        ),
        kv("llm.token_count.prompt", 21_i64),
        kv("llm.token_count.completion", 5_i64),
    ];
    let mut traceloop = Made::new(1, 3, 1, "openai.chat");
    traceloop.attributes = vec![
        kv("llm.request.type", "chat"),
        kv("gen_ai.request.model", "gpt-4o"),
        kv("gen_ai.prompt.0.role", "user"),
        kv("gen_ai.prompt.0.content", "Hi"),
        kv("gen_ai.completion.0.role", "assistant"),
        kv("gen_ai.completion.0.content", "Hello!"),
        kv("gen_ai.completion.0.finish_reason", "stop"),
    ];
    let mut langfuse = Made::new(1, 4, 1, "generation");
    langfuse.attributes = vec![
        kv("langfuse.observation.type", "generation"),
        kv("langfuse.observation.model.name", "claude-sonnet"),
        kv(
            "langfuse.observation.input",
            r#"[{"role":"user","content":"Summarise"}]"#,
        ),
        kv(
            "langfuse.observation.output",
            r#"{"role":"assistant","content":"Done."}"#,
        ),
        kv(
            "langfuse.observation.usage_details",
            r#"{"input": 10, "output": 3, "total": 13}"#,
        ),
    ];
    let mut workflow = Made::new(1, 1, 0, "support");
    workflow.attributes = vec![
        kv("traceloop.span.kind", "workflow"),
        kv(
            "traceloop.entity.input",
            r#"{"question": "Where is order 7?"}"#,
        ),
    ];
    export(
        &exporter,
        vec![vec![
            openinference.data(),
            traceloop.data(),
            langfuse.data(),
            workflow.data(),
        ]],
    );
    assert_all_delivered(&flushed(&exporter.handle()));

    let tree = only_tree(&server);
    assert_eq!(
        tree.event.inputs,
        Some(json!({"question": "Where is order 7?"}))
    );
    let event = |name: &str| {
        server
            .events()
            .into_iter()
            .find(|e| e.event_name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no event {name}"))
    };
    let oi = event("ChatCompletion");
    assert_eq!(oi.event_type.as_deref(), Some("model"));
    assert_eq!(
        oi.inputs.clone().unwrap()["chat_history"],
        json!([
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Where is order 7?"},
        ])
    );
    let outputs = oi.outputs.clone().unwrap();
    assert_eq!(outputs["role"], json!("assistant"));
    assert_eq!(
        outputs["tool_calls"][0]["function"],
        json!({"name": "lookup", "arguments": "{\"order\": 7}"})
    );
    let config = oi.config.clone().unwrap();
    assert_eq!(
        (&config["model"], &config["temperature"]),
        (&json!("gpt-4o-mini"), &json!(0.1))
    );
    let metadata = oi.metadata.clone().unwrap();
    assert_eq!(
        (&metadata["prompt_tokens"], &metadata["total_tokens"]),
        (&json!(21), &json!(26))
    );

    let tl = event("openai.chat");
    assert_eq!(tl.event_type.as_deref(), Some("model"));
    assert_eq!(
        tl.inputs.clone().unwrap()["chat_history"],
        json!([{"role": "user", "content": "Hi"}])
    );
    let outputs = tl.outputs.clone().unwrap();
    assert_eq!(
        (&outputs["content"], &outputs["finish_reason"]),
        (&json!("Hello!"), &json!("stop"))
    );

    let lf = event("generation");
    assert_eq!(lf.event_type.as_deref(), Some("model"));
    assert_eq!(lf.config.clone().unwrap()["model"], json!("claude-sonnet"));
    let metadata = lf.metadata.clone().unwrap();
    assert_eq!(
        (
            &metadata["prompt_tokens"],
            &metadata["completion_tokens"],
            &metadata["total_tokens"]
        ),
        (&json!(10), &json!(3), &json!(13))
    );
    assert_eq!(
        lf.inputs.clone().unwrap()["chat_history"],
        json!([{"role": "user", "content": "Summarise"}])
    );
}
