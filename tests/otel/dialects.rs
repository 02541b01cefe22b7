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

/// A subscriber sending `tracing` spans through tracing-opentelemetry (its defaults: the
/// `target` and `code.*` attributes recorded) to `provider`.
fn through_tracing_opentelemetry(
    provider: &opentelemetry_sdk::trace::SdkTracerProvider,
) -> impl tracing::Subscriber {
    use opentelemetry::trace::TracerProvider;
    use tracing_subscriber::layer::SubscriberExt;
    tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("app")))
}

#[test]
fn langchain_rust_spans_through_tracing_opentelemetry_become_typed_events() {
    let server = server();
    let exporter = exporter(&server, |b| b);
    let handle = exporter.handle();
    let provider = batch_provider(exporter, "app");
    tracing::subscriber::with_default(through_tracing_opentelemetry(&provider), || {
        let _turn = tracing::info_span!("turn").entered();
        crate::common::langchain_agent_run();
    });
    provider.shutdown().unwrap();
    assert_all_delivered(&handle.stats());
    let tree = only_tree(&server);
    assert_eq!(
        tree.children.len(),
        1,
        "{:?}",
        crate::common::outline(&tree)
    );
    crate::common::assert_langchain_agent_run(&tree.children[0]);
    // The target tracing-opentelemetry recorded stays visible.
    let run = &tree.children[0].event;
    assert_eq!(
        run.metadata.clone().unwrap()["target"],
        json!("langchain_rust::agent::executor")
    );
}

#[test]
fn langchain_rusts_span_names_from_another_target_stay_untyped_through_the_exporter() {
    let server = server();
    let exporter = exporter(&server, |b| b);
    let handle = exporter.handle();
    let provider = batch_provider(exporter, "app");
    tracing::subscriber::with_default(through_tracing_opentelemetry(&provider), || {
        let _turn = tracing::info_span!("turn").entered();
        crate::common::other_crates_llm_generate();
    });
    provider.shutdown().unwrap();
    assert_all_delivered(&handle.stats());
    let llm = server
        .events()
        .into_iter()
        .find(|e| e.event_name.as_deref() == Some("llm.generate"))
        .expect("the span arrived");
    assert_eq!(llm.event_type.as_deref(), Some("chain"));
    assert_eq!(llm.config.unwrap_or_else(|| json!({})), json!({}));
    let metadata = llm.metadata.unwrap();
    assert_eq!(metadata["model"], json!("gpt-4o-mini"));
    assert_eq!(metadata["target"], json!("my_app::llm"));
    // tracing-opentelemetry records a `u64` as text; only a dialect that knows the field counts.
    assert_eq!(metadata["prompt_tokens"], json!("21"));
}

/// A span exported without the `target` attribute is known by its module path
/// (`code.module.name`), which is langchain-rust's target for its own spans.
#[test]
fn a_langchain_rust_span_without_a_target_attribute_is_known_by_its_module_path() {
    let server = server();
    let exporter = exporter(&server, |b| b);
    let mut llm = Made::new(1, 2, 1, "llm.generate");
    llm.attributes = vec![
        kv("code.module.name", "langchain_rust::observability"),
        kv("provider", "anthropic"),
        kv("model", "claude-sonnet"),
        kv("prompt_tokens", "12"),
        kv("completion_tokens", "4"),
    ];
    export(
        &exporter,
        vec![vec![llm.data(), Made::new(1, 1, 0, "turn").data()]],
    );
    assert_all_delivered(&flushed(&exporter.handle()));
    let event = server
        .events()
        .into_iter()
        .find(|e| e.event_name.as_deref() == Some("llm.generate"))
        .expect("the span arrived");
    assert_eq!(event.event_type.as_deref(), Some("model"));
    assert_eq!(
        event.config,
        Some(json!({"provider": "anthropic", "model": "claude-sonnet"}))
    );
    let metadata = event.metadata.unwrap();
    assert_eq!(
        (
            &metadata["prompt_tokens"],
            &metadata["completion_tokens"],
            &metadata["total_tokens"]
        ),
        (&json!(12), &json!(4), &json!(16))
    );
}
