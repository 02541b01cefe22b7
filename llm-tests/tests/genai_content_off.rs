//! genai without content capture (its default): a binary of its own, since the switch is an
//! environment variable of the process. The model call still arrives, with its model, tokens and
//! timing, and nothing of the conversation.

use genai::chat::{ChatMessage, ChatRequest};
use serde_json::json;
use tracing_honeyhive::HoneyHiveLayer;
use tracing_honeyhive_llm_tests::{ANSWER, FakeOpenAi};

mod common;
use common::{Door, genai_client, traced};

#[tokio::test]
async fn without_content_capture_the_call_arrives_and_the_conversation_does_not() {
    // SAFETY: removed first thing, before any thread of this test binary reads the environment.
    unsafe { std::env::remove_var("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT") };
    let model_server = FakeOpenAi::start();
    let client = genai_client(&model_server);
    let server = traced(Door::Layer(Box::new(HoneyHiveLayer::builder())), async {
        let _turn = tracing::info_span!("support turn").entered();
        let request = ChatRequest::new(vec![
            ChatMessage::system("You answer questions about orders."),
            ChatMessage::user("Where is order 7?"),
        ]);
        client
            .exec_chat("gpt-4o-mini", request, None)
            .await
            .expect("the model answers");
    })
    .await;
    let events = server.events();
    assert_eq!(events.len(), 1, "{events:#?}");
    let chat = &events[0];
    assert_eq!(chat.event_name.as_deref(), Some("chat gpt-4o-mini"));
    assert_eq!(chat.event_type.as_deref(), Some("model"));
    assert_eq!(chat.metadata.clone().unwrap()["total_tokens"], json!(51));
    let sent = server.received_bodies();
    for secret in ["Where is order 7?", ANSWER, "You answer"] {
        assert!(!sent.contains(secret), "{secret} left the process: {sent}");
    }
}
