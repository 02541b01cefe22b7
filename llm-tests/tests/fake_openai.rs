//! The fake OpenAI server, driven by async-openai itself (no tracing): every answer it scripts
//! parses as async-openai's types, streamed or not, and its faults meet async-openai's default
//! retry as OpenAI's would.

use std::time::{Duration, Instant};

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionMessageToolCalls, CompletionUsage, CreateChatCompletionRequest, FinishReason,
    Role,
};
use async_openai::types::embeddings::{CreateEmbeddingRequest, EmbeddingInput, EncodingFormat};
use async_openai::types::responses::{
    CreateResponse, OutputItem, Response, ResponseStream, ResponseStreamEvent as Event, Status,
};
use futures::StreamExt;
use serde_json::{Value, json};
use tracing_honeyhive_llm_tests::{
    ANSWER, ANSWER_DELTAS, BROKEN_MODEL, EMBEDDING_DIMENSIONS, FLAKY_MODEL, FakeOpenAi,
    STALLING_DELTAS, STALLING_MODEL, SYSTEM_FINGERPRINT, TOOL_ARGUMENT_DELTAS, TOOL_ARGUMENTS,
    USAGE, embedding,
};

const TOOL: &str = "lookup_order";
const MODEL: &str = "gpt-4o-mini";

fn client(server: &FakeOpenAi) -> Client<OpenAIConfig> {
    let config = OpenAIConfig::new().with_api_base(server.url());
    Client::with_config(config.with_api_key("sk-test"))
}

const PARAMETERS: &str = r#"{"type": "object", "properties": {"order": {"type": "integer"}}}"#;

/// A chat request, offering the tool or not, streamed with `include_usage` or not.
fn chat_request(model: &str, tools: bool, stream: bool) -> CreateChatCompletionRequest {
    let messages = json!([{"role": "user", "content": "Where is order 7?"}]);
    let mut request = json!({"model": model, "messages": messages});
    if tools {
        let parameters: Value = serde_json::from_str(PARAMETERS).expect("JSON");
        let function = json!({"name": TOOL, "parameters": parameters});
        request["tools"] = json!([{"type": "function", "function": function}]);
    }
    if stream {
        request["stream_options"] = json!({"include_usage": true});
    }
    serde_json::from_value(request).expect("a chat request")
}

/// A Responses API request, offering the tool or not.
fn responses_request(model: &str, tools: bool) -> CreateResponse {
    let mut request = json!({"model": model, "input": "Where is order 7?"});
    if tools {
        let parameters: Value = serde_json::from_str(PARAMETERS).expect("JSON");
        request["tools"] = json!([{"type": "function", "name": TOOL, "parameters": parameters}]);
    }
    serde_json::from_value(request).expect("a responses request")
}

fn assert_usage(usage: Option<&CompletionUsage>) {
    let usage = usage.expect("usage");
    let (prompt, completion, cached, reasoning) = USAGE;
    let counts = (
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.total_tokens,
    );
    let counts = (counts.0.into(), counts.1.into(), counts.2.into());
    assert_eq!(counts, (prompt, completion, prompt + completion));
    let details = usage
        .prompt_tokens_details
        .as_ref()
        .expect("prompt details");
    assert_eq!(details.cached_tokens.map(u64::from), Some(cached));
    let details = usage
        .completion_tokens_details
        .as_ref()
        .expect("completion details");
    assert_eq!(details.reasoning_tokens.map(u64::from), Some(reasoning));
}

#[tokio::test]
#[allow(deprecated)] // system_fingerprint
async fn chat_answers_a_tool_call_then_text() {
    let server = FakeOpenAi::start();
    let client = client(&server);
    let chat = client.chat();

    let call = chat.create(chat_request(MODEL, true, false)).await;
    let call = call.expect("a tool call");
    assert_eq!(call.model, MODEL);
    assert_eq!(call.system_fingerprint.as_deref(), Some(SYSTEM_FINGERPRINT));
    assert_eq!(call.choices[0].finish_reason, Some(FinishReason::ToolCalls));
    let calls = call.choices[0].message.tool_calls.as_ref().expect("calls");
    let ChatCompletionMessageToolCalls::Function(function) = &calls[0] else {
        panic!("a function call: {calls:?}");
    };
    assert_eq!(function.id, "call_lookup_1");
    assert_eq!(function.function.name, TOOL);
    assert_eq!(function.function.arguments, TOOL_ARGUMENTS);
    assert_usage(call.usage.as_ref());

    let text = chat.create(chat_request(MODEL, false, false)).await;
    let text = text.expect("a text");
    assert_eq!(text.choices[0].message.role, Role::Assistant);
    assert_eq!(text.choices[0].message.content.as_deref(), Some(ANSWER));
    assert_eq!(text.choices[0].finish_reason, Some(FinishReason::Stop));
    assert_usage(text.usage.as_ref());
    assert_eq!(server.requests().len(), 2);
}

/// What a streamed chat assembled: text, tool call (id, name, arguments), finish, usage.
#[derive(Default)]
struct Assembled {
    role: Option<Role>,
    deltas: Vec<String>,
    call: [String; 3],
    finish: Option<FinishReason>,
    usage: Option<CompletionUsage>,
    chunks: usize,
}

#[allow(deprecated)] // system_fingerprint
async fn stream_chat(client: &Client<OpenAIConfig>, r: CreateChatCompletionRequest) -> Assembled {
    let chat = client.chat();
    let mut stream = chat.create_stream(r).await.expect("a stream");
    let mut got = Assembled::default();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("a chunk");
        let fingerprint = chunk.system_fingerprint.as_deref();
        assert_eq!(
            (chunk.object.as_str(), fingerprint),
            ("chat.completion.chunk", Some(SYSTEM_FINGERPRINT))
        );
        got.chunks += 1;
        if let Some(usage) = chunk.usage {
            assert!(chunk.choices.is_empty(), "the usage chunk has no choices");
            got.usage = Some(usage);
        }
        for choice in chunk.choices {
            got.role = got.role.or(choice.delta.role);
            let content = choice.delta.content.filter(|c| !c.is_empty());
            got.deltas.extend(content);
            for call in choice.delta.tool_calls.into_iter().flatten() {
                assert_eq!(call.index, 0);
                let function = call.function.expect("a function delta");
                let parts = [call.id, function.name, function.arguments];
                for (whole, part) in got.call.iter_mut().zip(parts) {
                    whole.push_str(&part.unwrap_or_default());
                }
            }
            got.finish = got.finish.or(choice.finish_reason);
        }
    }
    got
}

#[tokio::test]
async fn chat_streams_deltas_and_usage() {
    let server = FakeOpenAi::start();
    let client = client(&server);

    let text = stream_chat(&client, chat_request(MODEL, false, true)).await;
    assert_eq!(text.role, Some(Role::Assistant));
    assert_eq!(text.deltas.concat(), ANSWER);
    assert_eq!(text.deltas, ANSWER_DELTAS);
    assert_eq!(text.finish, Some(FinishReason::Stop));
    assert_usage(text.usage.as_ref());
    // The role, the deltas, the finish, the usage.
    assert_eq!(text.chunks, 1 + ANSWER_DELTAS.len() + 1 + 1);

    let call = stream_chat(&client, chat_request(MODEL, true, true)).await;
    assert!(call.deltas.is_empty());
    assert_eq!(call.call, ["call_lookup_1", TOOL, TOOL_ARGUMENTS]);
    assert_eq!(call.finish, Some(FinishReason::ToolCalls));
    assert_usage(call.usage.as_ref());
    assert_eq!(call.chunks, 1 + TOOL_ARGUMENT_DELTAS.len() + 1 + 1);

    let requests = server.requests();
    assert_eq!(requests[0]["stream"], true);
    assert_eq!(requests[0]["stream_options"]["include_usage"], true);

    // Without include_usage, no usage chunk.
    let mut request = chat_request(MODEL, false, false);
    request.stream_options = None;
    let bare = stream_chat(&client, request).await;
    assert_eq!(bare.deltas.concat(), ANSWER);
    assert!(bare.usage.is_none());
    assert_eq!(bare.chunks, 1 + ANSWER_DELTAS.len() + 1);
}

/// What a streamed response carried: its event types in order, the joined text and argument
/// deltas, and the completed response.
#[derive(Default)]
struct Events {
    kinds: Vec<String>,
    text: String,
    arguments: String,
    completed: Option<Response>,
}

async fn open(client: &Client<OpenAIConfig>, request: CreateResponse) -> ResponseStream {
    let responses = client.responses();
    responses.create_stream(request).await.expect("a stream")
}

/// Reads the stream to its end, or until that much text came.
async fn read(stream: &mut ResponseStream, until: Option<usize>) -> Events {
    let mut got = Events::default();
    while until.is_none_or(|n| got.text.len() < n) {
        let Some(event) = stream.next().await else {
            break;
        };
        let event = event.expect("an event");
        let value = serde_json::to_value(&event).expect("an event as JSON");
        assert_eq!(value["sequence_number"], got.kinds.len(), "in order");
        let kind = value["type"].as_str().expect("a type");
        got.kinds.push(kind.to_owned());
        match event {
            Event::ResponseOutputTextDelta(delta) => got.text.push_str(&delta.delta),
            Event::ResponseOutputTextDone(done) => assert_eq!(done.text, ANSWER),
            Event::ResponseFunctionCallArgumentsDelta(delta) => {
                got.arguments.push_str(&delta.delta)
            }
            Event::ResponseFunctionCallArgumentsDone(done) => {
                assert_eq!(
                    (done.name.as_deref(), done.arguments.as_str()),
                    (Some(TOOL), TOOL_ARGUMENTS)
                );
            }
            Event::ResponseOutputItemAdded(added) => {
                if let OutputItem::FunctionCall(call) = added.item {
                    assert_eq!((call.name.as_str(), call.arguments.as_str()), (TOOL, ""));
                }
            }
            Event::ResponseCompleted(done) => got.completed = Some(done.response),
            _ => {}
        }
    }
    got
}

/// The event types `response.{name}`, with `deltas` times `delta` after `before`.
fn kinds(before: &[&str], delta: &str, deltas: usize, after: &[&str]) -> Vec<String> {
    let names = [before, &vec![delta; deltas], after].concat();
    names
        .iter()
        .map(|name| format!("response.{name}"))
        .collect()
}

#[tokio::test]
async fn responses_answer_and_stream_text_and_tool_calls() {
    let server = FakeOpenAi::start();
    let client = client(&server);
    let responses = client.responses();
    let (prompt, completion, cached, reasoning) = USAGE;

    let text = responses.create(responses_request(MODEL, false)).await;
    let text = text.expect("a response");
    assert_eq!(text.status, Status::Completed);
    assert_eq!(text.output_text().as_deref(), Some(ANSWER));

    let mut stream = open(&client, responses_request(MODEL, false)).await;
    let text = read(&mut stream, None).await;
    let begin = ["created", "in_progress", "output_item.added"];
    let end = ["output_item.done", "completed"];
    let expected = kinds(
        &[&begin[..], &["content_part.added"]].concat(),
        "output_text.delta",
        ANSWER_DELTAS.len(),
        &[&["output_text.done", "content_part.done"][..], &end].concat(),
    );
    assert_eq!(text.kinds, expected);
    assert_eq!(text.text, ANSWER);
    let completed = text.completed.expect("response.completed");
    assert_eq!(completed.status, Status::Completed);
    assert_eq!(completed.output_text().as_deref(), Some(ANSWER));
    let usage = completed.usage.expect("usage");
    let counts = (usage.input_tokens, usage.output_tokens, usage.total_tokens);
    let counts = (counts.0.into(), counts.1.into(), counts.2.into());
    assert_eq!(counts, (prompt, completion, prompt + completion));
    let details = (usage.input_tokens_details, usage.output_tokens_details);
    assert_eq!(u64::from(details.0.cached_tokens), cached);
    assert_eq!(u64::from(details.1.reasoning_tokens), reasoning);

    let mut stream = open(&client, responses_request(MODEL, true)).await;
    let call = read(&mut stream, None).await;
    let expected = kinds(
        &begin,
        "function_call_arguments.delta",
        TOOL_ARGUMENT_DELTAS.len(),
        &[&["function_call_arguments.done"][..], &end].concat(),
    );
    assert_eq!(call.kinds, expected);
    assert_eq!(call.arguments, TOOL_ARGUMENTS);
    let completed = call.completed.expect("response.completed");
    let OutputItem::FunctionCall(function) = &completed.output[0] else {
        panic!("a function call: {:?}", completed.output);
    };
    assert_eq!(function.call_id, "call_lookup_1");
    assert_eq!(
        (function.name.as_str(), function.arguments.as_str()),
        (TOOL, TOOL_ARGUMENTS)
    );
    assert!(completed.usage.is_some());
}

fn embedding_request(input: impl Into<EmbeddingInput>) -> CreateEmbeddingRequest {
    let (model, input) = ("text-embedding-3-small".to_owned(), input.into());
    CreateEmbeddingRequest {
        model,
        input,
        ..Default::default()
    }
}

#[tokio::test]
async fn embeddings_one_several_and_shortened() {
    let server = FakeOpenAi::start();
    let client = client(&server);
    let embeddings = client.embeddings();
    let (food, waiter) = ("The food was delicious", "The waiter was good too");
    let dims = EMBEDDING_DIMENSIONS;

    let one = embeddings
        .create(embedding_request(food))
        .await
        .expect("one");
    assert_eq!(
        (one.object.as_str(), one.model.as_str()),
        ("list", "text-embedding-3-small")
    );
    assert_eq!(
        (one.data.len(), one.data[0].object.as_str()),
        (1, "embedding")
    );
    assert_eq!(one.data[0].embedding, embedding(food, dims));
    assert_eq!(one.data[0].embedding.len(), dims);
    let norm: f32 = one.data[0].embedding.iter().map(|x| x * x).sum();
    assert!((norm - 1.0).abs() < 1e-5, "unit length: {norm}");
    assert_eq!((one.usage.prompt_tokens, one.usage.total_tokens), (4, 4));

    let mut request = embedding_request([food, waiter]);
    request.dimensions = Some(3);
    let several = embeddings.create(request).await.expect("several");
    let indices: Vec<u32> = several.data.iter().map(|e| e.index).collect();
    assert_eq!(indices, [0, 1]);
    assert_eq!(several.data[0].embedding, embedding(food, 3));
    assert_eq!(several.data[1].embedding, embedding(waiter, 3));
    assert_ne!(several.data[0].embedding, several.data[1].embedding);
    assert_eq!(several.usage.prompt_tokens, 9);

    let tokens = EmbeddingInput::ArrayOfIntegerArray(vec![vec![1, 2, 3], vec![4]]);
    let tokens = embeddings
        .create(embedding_request(tokens))
        .await
        .expect("tokens");
    assert_eq!(tokens.data[0].embedding, embedding("1 2 3", dims));
    assert_eq!(tokens.data[1].embedding, embedding("4", dims));
    assert_eq!(tokens.usage.prompt_tokens, 4);

    let mut request = embedding_request(food);
    request.encoding_format = Some(EncodingFormat::Base64);
    let base64 = embeddings.create_base64(request).await.expect("base64");
    let decoded: Vec<f32> = base64.data[0].embedding.clone().into();
    assert_eq!(decoded, embedding(food, dims));

    let requests = server.requests();
    assert_eq!(requests[0]["input"], food);
    assert_eq!(requests[1]["dimensions"], 3);
    assert_eq!(requests[3]["encoding_format"], "base64");
}

#[tokio::test]
async fn a_rate_limit_is_retried_by_the_default_client() {
    let server = FakeOpenAi::start();
    let client = client(&server);
    let chat = client.chat();
    let started = Instant::now();

    let answer = chat.create(chat_request(FLAKY_MODEL, false, false)).await;
    let answer = answer.expect("an answer after one retry");
    assert_eq!(answer.choices[0].message.content.as_deref(), Some(ANSWER));
    assert_eq!(server.requests().len(), 2, "a 429, then a success");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "Retry-After: 0 is honoured"
    );

    // The flaky model fails once per server: a stream now goes through at once.
    let streamed = stream_chat(&client, chat_request(FLAKY_MODEL, false, true)).await;
    assert_eq!(streamed.deltas.concat(), ANSWER);
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_server_error_is_retried_then_reported() {
    let server = FakeOpenAi::start();
    let client = client(&server);
    let chat = client.chat();
    let started = Instant::now();

    let error = chat.create(chat_request(BROKEN_MODEL, false, false)).await;
    let error = error.expect_err("a server error");
    let OpenAIError::ApiError(error) = error else {
        panic!("an API error: {error:?}");
    };
    assert_eq!(error.status_code.as_u16(), 500);
    // async-openai does not parse a 5xx body: its message is the whole body, with no type.
    let message = &error.api_error.message;
    assert!(message.contains("The server had an error while processing your request"));
    assert!(message.contains(r#""type":"server_error""#), "{message}");
    assert_eq!(error.api_error.r#type, None);
    // The default retry: the first attempt and 3 retries, after 100, 200 and 400 ms.
    assert_eq!(server.requests().len(), 4);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(700),
        "backed off: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(3), "still fast: {elapsed:?}");
}

/// Waits for the server to see every stream's client go away.
async fn all_closed(server: &FakeOpenAi) {
    while server.open_streams() > 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_stalling_stream_can_be_dropped_half_way() {
    let server = FakeOpenAi::start();
    let client = client(&server);
    let quiet = Duration::from_millis(300);

    tokio::time::timeout(Duration::from_secs(10), async {
        let chat = client.chat();
        let request = chat_request(STALLING_MODEL, false, true);
        let mut stream = chat.create_stream(request).await.expect("a stream");
        let mut deltas = Vec::new();
        while deltas.len() < STALLING_DELTAS {
            let chunk = stream.next().await.expect("a chunk").expect("a chunk");
            deltas.extend(
                chunk.choices[0]
                    .delta
                    .content
                    .clone()
                    .filter(|c| !c.is_empty()),
            );
        }
        assert_eq!(deltas, ANSWER_DELTAS[..STALLING_DELTAS]);
        let next = tokio::time::timeout(quiet, stream.next()).await;
        assert!(next.is_err(), "then nothing more comes: {next:?}");
        assert_eq!(server.open_streams(), 1);
        drop(stream);
        all_closed(&server).await;

        // The Responses API stalls the same way.
        let mut stream = open(&client, responses_request(STALLING_MODEL, false)).await;
        let stalled = ANSWER_DELTAS[..STALLING_DELTAS].concat();
        assert_eq!(read(&mut stream, Some(stalled.len())).await.text, stalled);
        let next = tokio::time::timeout(quiet, stream.next()).await;
        assert!(next.is_err(), "then nothing more comes: {next:?}");
        assert_eq!(server.open_streams(), 1);
        drop(stream);
        all_closed(&server).await;
    })
    .await
    .expect("a dropped stream closes its connection promptly");
}
