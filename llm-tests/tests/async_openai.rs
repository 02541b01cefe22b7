//! async-openai, traced by `tracing_honeyhive::async_openai`, against the fake OpenAI server:
//! what the local HoneyHive server stored, through the layer and through tracing-opentelemetry
//! and the exporter. A tool-calling chat, streamed chats (text and tool-call deltas, and one
//! dropped half-way), the Responses API, embeddings, a rate limit then success, a server error,
//! and content off.

use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::middleware::retry::OpenAIRetryLayer;
use async_openai::middleware::{HttpRequestFactory, ReqwestService};
use async_openai::types::chat::{CreateChatCompletionRequest, CreateChatCompletionResponse};
use async_openai::types::embeddings::CreateEmbeddingRequest;
use async_openai::types::responses::CreateResponse;
use futures::StreamExt;
use serde_json::{Value, json};
use tracing_honeyhive::HoneyHiveLayer;
use tracing_honeyhive::async_openai::TraceLayer;
use tracing_honeyhive::wire::EventRecord;
use tracing_honeyhive_llm_tests::{
    ANSWER, ANSWER_DELTAS, BROKEN_MODEL, EMBEDDING_DIMENSIONS, FLAKY_MODEL, FakeOpenAi,
    MISSING_MODEL, STALLING_DELTAS, STALLING_MODEL, TOOL_ARGUMENTS, USAGE,
};

mod common;
use common::{Door, traced};

const MODEL: &str = "gpt-4o-mini";
const QUESTION: &str = "Where is order 7?";

/// Both front doors, each with a fresh layer builder.
fn doors() -> [fn() -> Door; 2] {
    [
        || Door::Layer(Box::new(HoneyHiveLayer::builder())),
        || Door::Exporter,
    ]
}

/// A client of `server` whose calls go through `service`.
fn client_with<S>(server: &FakeOpenAi, service: S) -> Client<OpenAIConfig>
where
    S: tower::Service<HttpRequestFactory, Response = reqwest::Response>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<async_openai::error::OpenAIError> + Send + Sync + 'static,
{
    let config = OpenAIConfig::new()
        .with_api_base(server.url())
        .with_api_key("sk-test");
    Client::with_config(config).with_http_service(service)
}

/// A client of `server` traced the one-line way.
fn client(server: &FakeOpenAi) -> Client<OpenAIConfig> {
    client_with(server, tracing_honeyhive::async_openai::service())
}

fn tool() -> Value {
    json!({"type": "function", "function": {
        "name": "lookup_order",
        "description": "Looks an order up by its number",
        "parameters": {"type": "object", "properties": {"order": {"type": "integer"}}},
    }})
}

/// A chat request from its messages, offering the tool, streamed (with usage) or not.
fn chat_request(model: &str, messages: Value, stream: bool) -> CreateChatCompletionRequest {
    let mut request =
        json!({"model": model, "messages": messages, "tools": [tool()], "temperature": 0.2});
    if stream {
        request["stream"] = json!(true);
        request["stream_options"] = json!({"include_usage": true});
    }
    serde_json::from_value(request).expect("a chat request")
}

/// A question alone, with no tool offered: answered with text.
fn question(model: &str, stream: bool) -> CreateChatCompletionRequest {
    let messages = json!([{"role": "user", "content": QUESTION}]);
    let mut request = json!({"model": model, "messages": messages});
    if stream {
        request["stream"] = json!(true);
        request["stream_options"] = json!({"include_usage": true});
    }
    serde_json::from_value(request).expect("a chat request")
}

fn first_turn() -> Value {
    json!([
        {"role": "system", "content": "You answer questions about orders."},
        {"role": "user", "content": QUESTION},
    ])
}

/// The first turn, the model's tool call, and the tool's answer.
fn second_turn() -> Value {
    let mut messages = first_turn();
    let messages_list = messages.as_array_mut().expect("a list");
    messages_list.push(
        json!({"role": "assistant", "content": null, "tool_calls": [{
            "id": "call_lookup_1", "type": "function",
            "function": {"name": "lookup_order", "arguments": TOOL_ARGUMENTS},
        }]}),
    );
    messages_list.push(
        json!({"role": "tool", "tool_call_id": "call_lookup_1", "content": "shipped yesterday"}),
    );
    messages
}

fn object(value: &Option<Value>) -> Value {
    value.clone().unwrap_or_else(|| json!({}))
}

/// The model events, in start order; each printed, as the closing note shows them.
fn model_events(server: &tracing_honeyhive::emulator::Emulator) -> Vec<EventRecord> {
    let mut events = server.events();
    events.sort_by(|a, b| a.start_time.partial_cmp(&b.start_time).unwrap());
    for event in &events {
        println!(
            "{} [{}]\n  inputs   {}\n  outputs  {}\n  config   {}\n  metadata {}\n  error    {:?}",
            event.event_name.as_deref().unwrap_or("?"),
            event.event_type.as_deref().unwrap_or("?"),
            object(&event.inputs),
            object(&event.outputs),
            object(&event.config),
            object(&event.metadata),
            event.error,
        );
    }
    events
}

/// The token counts every answer of the fake server reports, as HoneyHive's metadata has them.
fn assert_tokens(event: &EventRecord) {
    let (prompt, completion, cached, reasoning) = USAGE;
    let metadata = object(&event.metadata);
    assert_eq!(metadata["prompt_tokens"], json!(prompt), "{metadata}");
    assert_eq!(metadata["completion_tokens"], json!(completion));
    assert_eq!(metadata["total_tokens"], json!(prompt + completion));
    assert_eq!(metadata["cache_read_input_tokens"], json!(cached));
    assert_eq!(metadata["reasoning_tokens"], json!(reasoning));
}

#[tokio::test]
async fn a_tool_calling_chat_and_its_answer_are_model_events() {
    for door in doors() {
        let model_server = FakeOpenAi::start();
        let client = client(&model_server);
        let server = traced(door(), async {
            let _turn = tracing::info_span!("support turn").entered();
            let first: CreateChatCompletionResponse = client
                .chat()
                .create(chat_request(MODEL, first_turn(), false))
                .await
                .expect("a tool call");
            assert_eq!(first.choices.len(), 1);
            let second = client
                .chat()
                .create(chat_request(MODEL, second_turn(), false))
                .await
                .expect("an answer");
            assert_eq!(second.choices[0].message.content.as_deref(), Some(ANSWER));
        })
        .await;
        let events = model_events(&server);
        let names: Vec<_> = events
            .iter()
            .map(|e| e.event_name.clone().unwrap())
            .collect();
        assert_eq!(names, ["chat gpt-4o-mini", "chat gpt-4o-mini"]);
        assert!(
            events
                .iter()
                .all(|e| e.event_type.as_deref() == Some("model"))
        );
        let session = server.sessions();
        assert_eq!(session.len(), 1);
        assert!(events.iter().all(|e| e.parent_id == session[0].event_id));

        let call = &events[0];
        let system = json!({"role": "system", "content": "You answer questions about orders."});
        let user = json!({"role": "user", "content": QUESTION});
        assert_eq!(object(&call.inputs)["chat_history"], json!([system, user]));
        let outputs = object(&call.outputs);
        assert_eq!(outputs["finish_reason"], json!("tool_calls"));
        assert_eq!(outputs["tool_calls"][0]["id"], json!("call_lookup_1"));
        assert_eq!(
            outputs["tool_calls"][0]["function"],
            json!({"name": "lookup_order", "arguments": TOOL_ARGUMENTS})
        );
        let config = object(&call.config);
        assert_eq!(config["model"], json!(MODEL));
        assert_eq!(config["provider"], json!("openai"));
        assert_eq!(config["temperature"], json!(0.2));
        assert_eq!(config["tools"][0]["name"], json!("lookup_order"));
        let metadata = object(&call.metadata);
        assert_eq!(metadata["response_id"], json!("chatcmpl-fake-1"));
        assert_eq!(metadata["finish_reasons"], json!(["tool_calls"]));
        assert_tokens(call);
        assert_eq!(call.error, None);

        let answer = &events[1];
        let history = object(&answer.inputs)["chat_history"].clone();
        assert_eq!(
            history[3],
            json!({"role": "tool", "tool_call_id": "call_lookup_1", "content": "shipped yesterday"})
        );
        assert_eq!(
            history[2]["tool_calls"][0]["function"]["name"],
            json!("lookup_order")
        );
        let outputs = object(&answer.outputs);
        assert_eq!(outputs["content"], json!(ANSWER));
        assert_eq!(outputs["finish_reason"], json!("stop"));
    }
}

/// Reads a streamed chat to its end; returns the text and the tool call's arguments.
async fn read_stream(client: &Client<OpenAIConfig>, messages: Value) -> (String, String) {
    let mut stream = client
        .chat()
        .create_stream(chat_request(MODEL, messages, true))
        .await
        .expect("a stream");
    let (mut text, mut arguments) = (String::new(), String::new());
    while let Some(chunk) = stream.next().await {
        for choice in chunk.expect("a chunk").choices {
            text.push_str(choice.delta.content.as_deref().unwrap_or(""));
            for call in choice.delta.tool_calls.into_iter().flatten() {
                let function = call.function.unwrap_or_default();
                arguments.push_str(function.arguments.as_deref().unwrap_or(""));
            }
        }
    }
    (text, arguments)
}

#[tokio::test]
async fn a_streamed_chat_records_what_a_whole_one_does() {
    for door in doors() {
        let model_server = FakeOpenAi::start();
        let client = client(&model_server);
        let server = traced(door(), async {
            let _turn = tracing::info_span!("streamed turn").entered();
            let (_, arguments) = read_stream(&client, first_turn()).await;
            assert_eq!(arguments, TOOL_ARGUMENTS);
            let (text, _) = read_stream(&client, second_turn()).await;
            assert_eq!(text, ANSWER);
            // The same two calls, whole.
            for messages in [first_turn(), second_turn()] {
                let whole = chat_request(MODEL, messages, false);
                client.chat().create(whole).await.expect("an answer");
            }
        })
        .await;
        let events = model_events(&server);
        assert_eq!(events.len(), 4);
        for (streamed, whole) in [(&events[0], &events[2]), (&events[1], &events[3])] {
            assert_eq!(streamed.inputs, whole.inputs);
            assert_eq!(streamed.outputs, whole.outputs);
            assert_tokens(streamed);
            let (streamed_meta, whole_meta) = (object(&streamed.metadata), object(&whole.metadata));
            for key in ["finish_reasons", "response_model", "response_id"] {
                assert_eq!(streamed_meta[key], whole_meta[key], "{key}");
            }
            assert_eq!(object(&streamed.config)["stream"], json!(true));
            assert_eq!(object(&whole.config)["stream"], json!(false));
            let first_chunk = &streamed_meta["gen_ai.response.time_to_first_chunk"];
            assert!(
                first_chunk.as_f64().is_some_and(|s| s > 0.0),
                "{streamed_meta}"
            );
        }
        let tool_call = object(&events[0].outputs);
        assert_eq!(
            tool_call["tool_calls"][0]["function"]["arguments"],
            json!(TOOL_ARGUMENTS)
        );
        assert_eq!(object(&events[1].outputs)["content"], json!(ANSWER));
    }
}

#[tokio::test]
async fn a_stream_dropped_half_way_reads_as_cancelled_with_what_arrived() {
    for door in doors() {
        let model_server = FakeOpenAi::start();
        let client = client(&model_server);
        let server = traced(door(), async {
            let _turn = tracing::info_span!("impatient turn").entered();
            let request = question(STALLING_MODEL, true);
            let mut stream = client
                .chat()
                .create_stream(request)
                .await
                .expect("a stream");
            let mut text = String::new();
            let mut chunks = 0;
            while chunks < 1 + STALLING_DELTAS {
                let chunk = tokio::time::timeout(Duration::from_secs(10), stream.next())
                    .await
                    .expect("a chunk in time")
                    .expect("a chunk")
                    .expect("a chunk");
                chunks += 1;
                for choice in chunk.choices {
                    text.push_str(choice.delta.content.as_deref().unwrap_or(""));
                }
            }
            assert_eq!(text, ANSWER_DELTAS[..STALLING_DELTAS].concat());
            drop(stream);
            // async-openai's reading task lets the answer go once it sees the stream dropped.
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while model_server.open_streams() > 0 {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the answer was let go"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        let events = model_events(&server);
        assert_eq!(events.len(), 1);
        let event = &events[0];
        let metadata = object(&event.metadata);
        assert_eq!(metadata["cancelled"], json!(true), "{metadata}");
        assert!(metadata.get("finish_reasons").is_none());
        let outputs = object(&event.outputs);
        assert_eq!(
            outputs["content"],
            json!(ANSWER_DELTAS[..STALLING_DELTAS].concat())
        );
        assert_eq!(event.error, None);
    }
}

#[tokio::test]
async fn the_responses_api_whole_and_streamed() {
    for door in doors() {
        let model_server = FakeOpenAi::start();
        let client = client(&model_server);
        let request = |tools: bool, stream: bool| -> CreateResponse {
            let mut body =
                json!({"model": "gpt-5", "instructions": "Be brief.", "input": QUESTION});
            if tools {
                body["tools"] = json!([{"type": "function", "name": "lookup_order",
                    "parameters": {"type": "object", "properties": {"order": {"type": "integer"}}}}]);
            }
            if stream {
                body["stream"] = json!(true);
            }
            serde_json::from_value(body).expect("a responses request")
        };
        let server = traced(door(), async {
            let _turn = tracing::info_span!("responses turn").entered();
            client
                .responses()
                .create(request(true, false))
                .await
                .expect("a tool call");
            client
                .responses()
                .create(request(false, false))
                .await
                .expect("an answer");
            for tools in [true, false] {
                let mut stream = client
                    .responses()
                    .create_stream(request(tools, true))
                    .await
                    .expect("a stream");
                while let Some(event) = stream.next().await {
                    event.expect("an event");
                }
            }
        })
        .await;
        let events = model_events(&server);
        assert_eq!(events.len(), 4);
        for (streamed, whole) in [(&events[2], &events[0]), (&events[3], &events[1])] {
            assert_eq!(streamed.outputs, whole.outputs);
            assert_eq!(streamed.inputs, whole.inputs);
            assert_tokens(streamed);
        }
        let history = object(&events[0].inputs)["chat_history"].clone();
        assert_eq!(
            history,
            json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}])
        );
        let call = object(&events[0].outputs);
        assert_eq!(
            call["tool_calls"][0]["function"],
            json!({"name": "lookup_order", "arguments": TOOL_ARGUMENTS})
        );
        assert_eq!(call["finish_reason"], json!("tool_calls"));
        let answer = object(&events[1].outputs);
        assert_eq!(answer["content"], json!(ANSWER));
        assert_eq!(
            object(&events[1].metadata)["gen_ai.request.stream"],
            Value::Null
        );
        assert_eq!(
            object(&events[1].metadata)["openai.api.type"],
            json!("responses")
        );
        assert!(
            events
                .iter()
                .all(|e| e.event_name.as_deref() == Some("chat gpt-5"))
        );
    }
}

#[tokio::test]
async fn embeddings_are_counted_never_kept() {
    for door in doors() {
        let model_server = FakeOpenAi::start();
        let client = client(&model_server);
        let server = traced(door(), async {
            let _turn = tracing::info_span!("indexing").entered();
            let request: CreateEmbeddingRequest = serde_json::from_value(json!({
                "model": "text-embedding-3-small", "input": ["order 7", "order 8"],
            }))
            .expect("an embeddings request");
            let answer = client
                .embeddings()
                .create(request)
                .await
                .expect("embeddings");
            assert_eq!(answer.data.len(), 2);
        })
        .await;
        let events = model_events(&server);
        assert_eq!(events.len(), 1);
        let event = &events[0];
        assert_eq!(
            event.event_name.as_deref(),
            Some("embeddings text-embedding-3-small")
        );
        assert_eq!(event.event_type.as_deref(), Some("model"));
        assert_eq!(
            object(&event.inputs),
            json!({"input": ["order 7", "order 8"], "count": 2})
        );
        assert_eq!(
            object(&event.outputs),
            json!({"count": 2, "dimensions": EMBEDDING_DIMENSIONS})
        );
        assert!(
            object(&event.metadata)["prompt_tokens"]
                .as_u64()
                .is_some_and(|n| n > 0)
        );
    }
}

#[tokio::test]
async fn a_rate_limit_then_success_is_one_span() {
    for door in doors() {
        let model_server = FakeOpenAi::start();
        let client = client(&model_server);
        let server = traced(door(), async {
            let _turn = tracing::info_span!("busy turn").entered();
            let request = question(FLAKY_MODEL, false);
            client
                .chat()
                .create(request)
                .await
                .expect("an answer after the retry");
        })
        .await;
        assert_eq!(model_server.requests().len(), 2, "a 429, then the answer");
        let events = model_events(&server);
        assert_eq!(events.len(), 1);
        let event = &events[0];
        assert_eq!(event.error, None);
        assert_eq!(
            object(&event.metadata)["http.request.resend_count"],
            json!(1)
        );
        assert_eq!(object(&event.outputs)["content"], json!(ANSWER));
    }
}

#[tokio::test]
async fn provider_errors_carry_status_message_and_type() {
    for door in doors() {
        let model_server = FakeOpenAi::start();
        // A stack of one's own: the trace outside async-openai's retry, allowed one retry.
        let service = tower::ServiceBuilder::new()
            .layer(TraceLayer::new())
            .layer(OpenAIRetryLayer::new(1))
            .service(ReqwestService::new(reqwest::Client::new()));
        let client = client_with(&model_server, service);
        let server = traced(door(), async {
            let _turn = tracing::info_span!("failing turn").entered();
            for model in [BROKEN_MODEL, MISSING_MODEL] {
                let request = question(model, false);
                assert!(client.chat().create(request).await.is_err());
            }
        })
        .await;
        let events = model_events(&server);
        assert_eq!(events.len(), 2);
        let broken = &events[0];
        let error = broken.error.as_deref().unwrap_or_default();
        assert!(
            error.starts_with("HTTP 500 Internal Server Error: "),
            "{error}"
        );
        let metadata = object(&broken.metadata);
        assert_eq!(metadata["error.type"], json!("server_error"), "{metadata}");
        assert_eq!(metadata["http.response.status_code"], json!(500));
        assert_eq!(metadata["http.request.resend_count"], json!(1));
        let missing = &events[1];
        let error = missing.error.as_deref().unwrap_or_default();
        assert!(
            error.starts_with("HTTP 404 Not Found: The model `missing-model` does not exist"),
            "{error}"
        );
        assert_eq!(
            object(&missing.metadata)["error.type"],
            json!("invalid_request_error")
        );
    }
}

#[tokio::test]
async fn content_off_keeps_the_shape_and_nothing_written() {
    let model_server = FakeOpenAi::start();
    let service = tower::ServiceBuilder::new()
        .layer(TraceLayer::new().with_capture_content(false))
        .layer(OpenAIRetryLayer::default())
        .service(ReqwestService::new(reqwest::Client::new()));
    let private = client_with(&model_server, service);
    let server = traced(Door::Exporter, async {
        let _turn = tracing::info_span!("private turn").entered();
        private
            .chat()
            .create(chat_request(MODEL, first_turn(), false))
            .await
            .expect("a call");
        let (text, _) = read_stream(&private, second_turn()).await;
        assert_eq!(text, ANSWER);
    })
    .await;
    let events = model_events(&server);
    let stored = serde_json::to_string(
        &events
            .iter()
            .map(|e| (&e.inputs, &e.outputs))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    for private in [QUESTION, "shipped yesterday", ANSWER, "order\\\":7"] {
        assert!(!stored.contains(private), "{private} in {stored}");
    }
    let call = object(&events[0].outputs);
    assert_eq!(
        call["tool_calls"][0]["function"]["name"],
        json!("lookup_order")
    );
    assert_tokens(&events[0]);

    // The crate's own switch: the layer hides content whatever the instrumentation recorded.
    let model_server = FakeOpenAi::start();
    let plain = client(&model_server);
    let layer = HoneyHiveLayer::builder().with_capture_content(false);
    let server = traced(Door::Layer(Box::new(layer)), async {
        let _turn = tracing::info_span!("private turn").entered();
        plain
            .chat()
            .create(chat_request(MODEL, first_turn(), false))
            .await
            .expect("a call");
    })
    .await;
    let events = model_events(&server);
    assert_eq!(
        object(&events[0].inputs),
        json!({"chat_history": [
            {"role": "system", "content": "[hidden]"},
            {"role": "user", "content": "[hidden]"},
        ]})
    );
    assert!(
        !serde_json::to_string(&events[0].outputs)
            .unwrap()
            .contains(TOOL_ARGUMENTS)
    );
}
