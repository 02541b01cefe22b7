//! genai (feature `otel`) against the fake OpenAI server, traced by the layer: a tool-calling
//! turn, then a text answer, and a provider error.

use std::time::Duration;

use genai::adapter::AdapterKind;
use genai::chat::{ChatMessage, ChatRequest, Tool, ToolResponse};
use genai::resolver::{AuthData, Endpoint, ServiceTargetResolver};
use genai::{Client, ModelIden, ServiceTarget};
use serde_json::json;
use tracing_honeyhive::HoneyHiveLayer;
use tracing_honeyhive::emulator::Emulator;
use tracing_honeyhive_llm_tests::FakeOpenAi;
use tracing_subscriber::layer::SubscriberExt;

/// A genai client whose OpenAI models are served by `server`.
fn client(server: &FakeOpenAi) -> Client {
    let endpoint = format!("{}/", server.url());
    let resolver = ServiceTargetResolver::from_resolver_fn(
        move |target: ServiceTarget| -> Result<ServiceTarget, genai::resolver::Error> {
            Ok(ServiceTarget {
                endpoint: Endpoint::from_owned(endpoint.clone()),
                auth: AuthData::from_single("sk-test"),
                model: ModelIden::new(AdapterKind::OpenAI, target.model.model_name),
            })
        },
    );
    Client::builder()
        .with_service_target_resolver(resolver)
        .build()
        .expect("a genai client")
}

#[tokio::test]
async fn a_tool_calling_turn_then_an_answer_read_as_honeyhive_events() {
    // genai records message content only when asked, with the OpenTelemetry variable.
    // SAFETY: set before any thread of this test binary reads the environment.
    unsafe { std::env::set_var("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true") };
    let model_server = FakeOpenAi::start();
    let server = Emulator::builder().start().unwrap();
    let (layer, guard) = HoneyHiveLayer::builder()
        .with_api_url(server.url())
        .build()
        .unwrap();
    let _default = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
    let client = client(&model_server);
    let lookup = Tool::new("lookup_order")
        .with_description("Looks an order up by its number")
        .with_schema(json!({
            "type": "object",
            "properties": {"order": {"type": "integer"}},
            "required": ["order"],
        }));
    {
        let _turn = tracing::info_span!("support turn").entered();
        let request = ChatRequest::new(vec![
            ChatMessage::system("You answer questions about orders."),
            ChatMessage::user("Where is order 7?"),
        ])
        .with_tools(vec![lookup]);
        let first = client
            .exec_chat("gpt-4o-mini", request.clone(), None)
            .await
            .expect("the model answers");
        let calls = first.into_tool_calls();
        assert_eq!(calls.len(), 1);
        let response = ToolResponse::new(
            calls[0].call_id.clone(),
            json!({"status": "shipped yesterday"}).to_string(),
        );
        let request = request.append_message(calls).append_message(response);
        let second = client
            .exec_chat("gpt-4o-mini", request, None)
            .await
            .expect("the model answers");
        assert_eq!(
            second.first_text(),
            Some(tracing_honeyhive_llm_tests::ANSWER)
        );
        let failed = client
            .exec_chat(
                tracing_honeyhive_llm_tests::MISSING_MODEL,
                ChatRequest::new(vec![ChatMessage::user("Hi")]),
                None,
            )
            .await;
        assert!(failed.is_err());
    }
    guard.flush(Duration::from_secs(20)).expect("delivered");
    let mut events = server.events();
    events.sort_by(|a, b| a.start_time.partial_cmp(&b.start_time).unwrap());
    let object = |v: &Option<serde_json::Value>| v.clone().unwrap_or_else(|| json!({}));
    for event in &events {
        println!(
            "{} [{}] chat_history {} outputs {} tokens {} error {:?}",
            event.event_name.as_deref().unwrap_or("?"),
            event.event_type.as_deref().unwrap_or("?"),
            object(&event.inputs)["chat_history"],
            object(&event.outputs),
            object(&event.metadata)["total_tokens"],
            event.error,
        );
    }
    let names: Vec<_> = events
        .iter()
        .map(|e| e.event_name.clone().unwrap())
        .collect();
    assert_eq!(
        names,
        ["chat gpt-4o-mini", "chat gpt-4o-mini", "chat missing-model"]
    );
    assert!(
        events
            .iter()
            .all(|e| e.event_type.as_deref() == Some("model"))
    );
    let system = json!({"role": "system", "content": "You answer questions about orders."});
    let user = json!({"role": "user", "content": "Where is order 7?"});
    // The tool-calling turn: genai's system message leads the history once.
    assert_eq!(
        object(&events[0].inputs)["chat_history"],
        json!([system, user])
    );
    let outputs = object(&events[0].outputs);
    assert_eq!(outputs["finish_reason"], json!("tool_calls"));
    assert_eq!(
        outputs["tool_calls"][0]["function"],
        json!({"name": "lookup_order", "arguments": tracing_honeyhive_llm_tests::TOOL_ARGUMENTS})
    );
    assert_eq!(
        object(&events[0].config)["tools"][0]["name"],
        json!("lookup_order")
    );
    // The answer, from the tool's result.
    let history = object(&events[1].inputs)["chat_history"].clone();
    assert_eq!(history[3]["role"], json!("tool"));
    assert_eq!(history[3]["tool_call_id"], json!("call_lookup_1"));
    assert_eq!(
        object(&events[1].outputs)["content"],
        json!(tracing_honeyhive_llm_tests::ANSWER)
    );
    let metadata = object(&events[1].metadata);
    let (prompt, completion, cached, reasoning) = tracing_honeyhive_llm_tests::USAGE;
    assert_eq!(metadata["prompt_tokens"], json!(prompt));
    assert_eq!(metadata["total_tokens"], json!(prompt + completion));
    assert_eq!(metadata["cache_read_input_tokens"], json!(cached));
    assert_eq!(metadata["reasoning_tokens"], json!(reasoning));
    // The provider error says what happened.
    assert_eq!(events[2].error.as_deref(), Some("HTTP 404 Not Found"));
}

/// A turn through tracing-opentelemetry into the exporter. (genai without content capture is
/// `genai_content_off.rs`: the variable is the process's.)
#[tokio::test]
async fn the_same_turns_through_tracing_opentelemetry_and_the_exporter() {
    use opentelemetry::trace::TracerProvider;
    // SAFETY: set before any thread of this test binary reads the environment.
    unsafe { std::env::set_var("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true") };
    let model_server = FakeOpenAi::start();
    let server = Emulator::builder().start().unwrap();
    let exporter = tracing_honeyhive::otel::HoneyHiveExporter::builder()
        .with_api_url(server.url())
        .build()
        .unwrap();
    let handle = exporter.handle();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .build();
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("genai-app"));
    let _default = tracing::subscriber::set_default(tracing_subscriber::registry().with(otel));
    let client = client(&model_server);
    {
        let _turn = tracing::info_span!("support turn").entered();
        let request = ChatRequest::new(vec![
            ChatMessage::system("You answer questions about orders."),
            ChatMessage::user("Where is order 7?"),
        ]);
        let answer = client
            .exec_chat("gpt-4o-mini", request, None)
            .await
            .expect("the model answers");
        assert_eq!(
            answer.first_text(),
            Some(tracing_honeyhive_llm_tests::ANSWER)
        );
    }
    provider.shutdown().expect("delivered");
    let stats = handle.stats();
    assert_eq!(stats.delivered(), stats.produced(), "{stats:#?}");
    let events = server.events();
    assert_eq!(events.len(), 1, "{events:#?}");
    let chat = &events[0];
    assert_eq!(chat.event_name.as_deref(), Some("chat gpt-4o-mini"));
    assert_eq!(chat.event_type.as_deref(), Some("model"));
    let object = |v: &Option<serde_json::Value>| v.clone().unwrap_or_else(|| json!({}));
    assert_eq!(
        object(&chat.inputs)["chat_history"],
        json!([
            {"role": "system", "content": "You answer questions about orders."},
            {"role": "user", "content": "Where is order 7?"},
        ])
    );
    assert_eq!(
        object(&chat.outputs)["content"],
        json!(tracing_honeyhive_llm_tests::ANSWER)
    );
    let (prompt, completion, ..) = tracing_honeyhive_llm_tests::USAGE;
    assert_eq!(
        object(&chat.metadata)["total_tokens"],
        json!(prompt + completion),
        "counts arrive as numbers through tracing-opentelemetry"
    );
}
