//! genai (feature `otel`) against the fake OpenAI server: a tool-calling turn, then a text
//! answer, and a provider error, through the layer; a turn through tracing-opentelemetry and the
//! exporter. genai records content only with its OpenTelemetry variable, set here for the whole
//! binary (`genai_content_off.rs` runs without it).

use genai::chat::{ChatMessage, ChatRequest, Tool, ToolResponse};
use serde_json::{Value, json};
use tracing_honeyhive::HoneyHiveLayer;
use tracing_honeyhive::wire::EventRecord;
use tracing_honeyhive_llm_tests::{ANSWER, FakeOpenAi, MISSING_MODEL, TOOL_ARGUMENTS, USAGE};

mod common;
use common::{Door, genai_client, traced};

/// Turns genai's content capture on, before any thread reads the environment.
fn capture_content() {
    // SAFETY: every test of this binary sets the same value first thing, before the runtime's
    // threads or genai read the environment.
    unsafe { std::env::set_var("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true") };
}

fn object(value: &Option<Value>) -> Value {
    value.clone().unwrap_or_else(|| json!({}))
}

/// The events in start order.
fn in_order(mut events: Vec<EventRecord>) -> Vec<EventRecord> {
    events.sort_by(|a, b| a.start_time.partial_cmp(&b.start_time).unwrap());
    events
}

#[tokio::test]
async fn a_tool_calling_turn_then_an_answer_read_as_honeyhive_events() {
    capture_content();
    let model_server = FakeOpenAi::start();
    let client = genai_client(&model_server);
    let lookup = Tool::new("lookup_order")
        .with_description("Looks an order up by its number")
        .with_schema(json!({
            "type": "object",
            "properties": {"order": {"type": "integer"}},
            "required": ["order"],
        }));
    let server = traced(Door::Layer(Box::new(HoneyHiveLayer::builder())), async {
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
        assert_eq!(second.first_text(), Some(ANSWER));
        let failed = client
            .exec_chat(
                MISSING_MODEL,
                ChatRequest::new(vec![ChatMessage::user("Hi")]),
                None,
            )
            .await;
        assert!(failed.is_err());
    })
    .await;
    let events = in_order(server.events());
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
        json!({"name": "lookup_order", "arguments": TOOL_ARGUMENTS})
    );
    assert_eq!(
        object(&events[0].config)["tools"][0]["name"],
        json!("lookup_order")
    );
    // The answer, from the tool's result.
    let history = object(&events[1].inputs)["chat_history"].clone();
    assert_eq!(history[3]["role"], json!("tool"));
    assert_eq!(history[3]["tool_call_id"], json!("call_lookup_1"));
    assert_eq!(object(&events[1].outputs)["content"], json!(ANSWER));
    let metadata = object(&events[1].metadata);
    let (prompt, completion, cached, reasoning) = USAGE;
    assert_eq!(metadata["prompt_tokens"], json!(prompt));
    assert_eq!(metadata["total_tokens"], json!(prompt + completion));
    assert_eq!(metadata["cache_read_input_tokens"], json!(cached));
    assert_eq!(metadata["reasoning_tokens"], json!(reasoning));
    // The provider error says what happened.
    assert_eq!(events[2].error.as_deref(), Some("HTTP 404 Not Found"));
}

#[tokio::test]
async fn a_turn_through_tracing_opentelemetry_and_the_exporter_reads_the_same() {
    capture_content();
    let model_server = FakeOpenAi::start();
    let client = genai_client(&model_server);
    let server = traced(Door::Exporter, async {
        let _turn = tracing::info_span!("support turn").entered();
        let request = ChatRequest::new(vec![
            ChatMessage::system("You answer questions about orders."),
            ChatMessage::user("Where is order 7?"),
        ]);
        let answer = client
            .exec_chat("gpt-4o-mini", request, None)
            .await
            .expect("the model answers");
        assert_eq!(answer.first_text(), Some(ANSWER));
    })
    .await;
    let events = server.events();
    assert_eq!(events.len(), 1, "{events:#?}");
    let chat = &events[0];
    assert_eq!(chat.event_name.as_deref(), Some("chat gpt-4o-mini"));
    assert_eq!(chat.event_type.as_deref(), Some("model"));
    assert_eq!(
        object(&chat.inputs)["chat_history"],
        json!([
            {"role": "system", "content": "You answer questions about orders."},
            {"role": "user", "content": "Where is order 7?"},
        ])
    );
    assert_eq!(object(&chat.outputs)["content"], json!(ANSWER));
    let (prompt, completion, ..) = USAGE;
    assert_eq!(
        object(&chat.metadata)["total_tokens"],
        json!(prompt + completion),
        "counts arrive as numbers through tracing-opentelemetry"
    );
}
