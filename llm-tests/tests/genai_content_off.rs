//! genai without content capture (its default): a binary of its own, since the switch is an
//! environment variable of the process. The model call still arrives, with its model, tokens and
//! timing, and nothing of the conversation.

use std::time::Duration;

use genai::adapter::AdapterKind;
use genai::chat::{ChatMessage, ChatRequest};
use genai::resolver::{AuthData, Endpoint, ServiceTargetResolver};
use genai::{Client, ModelIden, ServiceTarget};
use serde_json::json;
use tracing_honeyhive::HoneyHiveLayer;
use tracing_honeyhive::emulator::Emulator;
use tracing_honeyhive_llm_tests::FakeOpenAi;
use tracing_subscriber::layer::SubscriberExt;

#[tokio::test]
async fn without_content_capture_the_call_arrives_and_the_conversation_does_not() {
    // SAFETY: removed before any thread of this test binary reads the environment.
    unsafe { std::env::remove_var("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT") };
    let model_server = FakeOpenAi::start();
    let endpoint = format!("{}/", model_server.url());
    let resolver = ServiceTargetResolver::from_resolver_fn(
        move |target: ServiceTarget| -> Result<ServiceTarget, genai::resolver::Error> {
            Ok(ServiceTarget {
                endpoint: Endpoint::from_owned(endpoint.clone()),
                auth: AuthData::from_single("sk-test"),
                model: ModelIden::new(AdapterKind::OpenAI, target.model.model_name),
            })
        },
    );
    let client = Client::builder()
        .with_service_target_resolver(resolver)
        .build()
        .expect("a genai client");
    let server = Emulator::builder().start().unwrap();
    let (layer, guard) = HoneyHiveLayer::builder()
        .with_api_url(server.url())
        .build()
        .unwrap();
    let _default = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
    {
        let _turn = tracing::info_span!("support turn").entered();
        let request = ChatRequest::new(vec![
            ChatMessage::system("You answer questions about orders."),
            ChatMessage::user("Where is order 7?"),
        ]);
        client
            .exec_chat("gpt-4o-mini", request, None)
            .await
            .expect("the model answers");
    }
    guard.flush(Duration::from_secs(20)).expect("delivered");
    let events = server.events();
    assert_eq!(events.len(), 1, "{events:#?}");
    let chat = &events[0];
    println!(
        "content off in genai: {}",
        serde_json::to_string(chat).unwrap()
    );
    assert_eq!(chat.event_name.as_deref(), Some("chat gpt-4o-mini"));
    assert_eq!(chat.event_type.as_deref(), Some("model"));
    let metadata = chat.metadata.clone().unwrap();
    assert_eq!(metadata["total_tokens"], json!(51));
    let sent: String = server.requests().iter().map(|r| r.body.clone()).collect();
    for secret in [
        "Where is order 7?",
        tracing_honeyhive_llm_tests::ANSWER,
        "You answer",
    ] {
        assert!(!sent.contains(secret), "{secret} left the process: {sent}");
    }
}
