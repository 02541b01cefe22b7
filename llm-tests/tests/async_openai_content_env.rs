//! `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=false` keeps async-openai's messages out
//! of the spans, whatever the crate's own switch says: a binary of its own, since the variable is
//! read once per process.

use serde_json::{Value, json};
use tracing_honeyhive::HoneyHiveLayer;
use tracing_honeyhive_llm_tests::{ANSWER, FakeOpenAi};

mod common;
use common::{Door, traced};

#[tokio::test]
async fn the_opentelemetry_variable_turns_content_off() {
    // SAFETY: the only test of this binary sets it first thing, before the runtime's other
    // threads or the instrumentation read the environment.
    unsafe {
        std::env::set_var(
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
            "false",
        )
    };
    let model_server = FakeOpenAi::start();
    let config = async_openai::config::OpenAIConfig::new()
        .with_api_base(model_server.url())
        .with_api_key("sk-test");
    let client = async_openai::Client::with_config(config)
        .with_http_service(tracing_honeyhive::async_openai::service());
    let request = serde_json::from_value(json!({
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "My card is 4111 1111 1111 1111."}],
    }))
    .expect("a chat request");
    // The layer itself captures content: only the instrumentation's switch is off.
    let layer = HoneyHiveLayer::builder().with_capture_content(true);
    let server = traced(Door::Layer(Box::new(layer)), async {
        let _turn = tracing::info_span!("private turn").entered();
        let answer = client.chat().create(request).await.expect("an answer");
        assert_eq!(answer.choices[0].message.content.as_deref(), Some(ANSWER));
    })
    .await;
    let events = server.events();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    let stored = serde_json::to_string(&(&event.inputs, &event.outputs)).unwrap();
    assert!(!stored.contains("4111"), "{stored}");
    assert!(!stored.contains(ANSWER), "{stored}");
    let inputs = event.inputs.clone().unwrap_or(Value::Null);
    assert_eq!(
        inputs["chat_history"],
        json!([{"role": "user", "content": "[hidden]"}])
    );
    let outputs = event.outputs.clone().unwrap_or(Value::Null);
    assert_eq!(outputs["content"], json!("[hidden]"));
    assert_eq!(outputs["finish_reason"], json!("stop"));
    let metadata = event.metadata.clone().unwrap_or(Value::Null);
    assert_eq!(metadata["total_tokens"], json!(51));
}
