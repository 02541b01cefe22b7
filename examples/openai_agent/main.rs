//! A support agent on async-openai, traced with one line: its model calls go through
//! `tracing_honeyhive::async_openai::service()`, its own steps are `#[trace]` functions.
//!
//! Each question is a HoneyHive session (`support_turn`). The model is asked with the chat
//! history and a tool; its answer is streamed. When it calls the tool, `lookup_order` runs
//! (a `tool` event), and the model is asked again with the tool's result. Every model call is a
//! `model` event with the messages, the tool calls, the finish reason and the tokens, streamed
//! or not, with no code of ours around it.
//!
//! The model: with `OPENAI_API_KEY` set it is OpenAI's (`OPENAI_BASE_URL` for another
//! OpenAI-compatible server, `OPENAI_MODEL` for the model); without, a canned model server is
//! started in-process (`model_server.rs`), so the example needs no account. HoneyHive: like the
//! quickstart, with no `HH_API_KEY` the local HoneyHive-compatible server is started in-process
//! and what it received is printed; with a key it goes to HoneyHive. It exits non-zero unless
//! everything was delivered.
//!
//! ```text
//! cargo run --example openai_agent --features emulator,async-openai
//! ```

mod model_server;

use std::process::ExitCode;
use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{
    ChatCompletionMessageToolCall, ChatCompletionMessageToolCalls,
    ChatCompletionRequestAssistantMessageArgs, ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestToolMessage,
    ChatCompletionRequestUserMessage, ChatCompletionStreamOptions, ChatCompletionTool,
    ChatCompletionTools, CreateChatCompletionRequestArgs, FunctionCall, FunctionObject,
};
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::{Value, json};
use tracing_honeyhive::emulator::Emulator;
use tracing_honeyhive::{HoneyHiveLayer, trace};
use tracing_subscriber::prelude::*;

const QUESTIONS: [&str; 2] = ["Where is my order #1042?", "Can I still change order #77?"];

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<ExitCode, Error> {
    let local = match tracing_honeyhive::config::resolve_api_key(None)? {
        Some(_) => None,
        None => Some(Emulator::builder().start()?),
    };
    let mut builder = HoneyHiveLayer::builder().with_source("openai-agent");
    if let Some(server) = &local {
        builder = builder.with_api_url(server.url());
    }
    let (layer, guard) = builder.build()?;
    tracing_subscriber::registry().with(layer).init();

    // The model: OpenAI's with a key, else the canned one.
    let (config, model, _canned) = match std::env::var("OPENAI_API_KEY") {
        Ok(_) => {
            let mut config = OpenAIConfig::new();
            if let Ok(base) = std::env::var("OPENAI_BASE_URL") {
                config = config.with_api_base(base);
            }
            let model = std::env::var("OPENAI_MODEL").unwrap_or_else(|_| "gpt-4o-mini".into());
            (config, model, None)
        }
        Err(_) => {
            let canned = model_server::start()?;
            let config = OpenAIConfig::new()
                .with_api_base(canned.url())
                .with_api_key("sk-canned");
            (config, "canned-gpt".to_owned(), Some(canned))
        }
    };
    // The one line: async-openai's own transport and retries, traced.
    let client =
        Client::with_config(config).with_http_service(tracing_honeyhive::async_openai::service());

    for question in QUESTIONS {
        let answer = support_turn(&client, &model, question).await?;
        println!("Q: {question}\nA: {answer}\n");
    }

    let report = guard.shutdown(Duration::from_secs(15));
    let stats = report.stats;
    match &local {
        Some(server) => {
            println!("The local HoneyHive server at {} received:\n", server.url());
            println!("{}", server.waterfalls());
            show(server);
        }
        None => println!(
            "Sent {} sessions and {} events to HoneyHive",
            stats.sessions_sent, stats.events_sent
        ),
    }
    if report.is_complete() && stats.lost() == 0 && stats.spans_queued > 0 {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("not everything was delivered: {report:?}");
        Ok(ExitCode::FAILURE)
    }
}

/// One question answered: the model, the tool when the model asks for it, the model again.
/// The client is not recorded (it is neither `Serialize` nor `Debug`); the question is.
#[trace]
async fn support_turn(
    client: &Client<OpenAIConfig>,
    model: &str,
    question: &str,
) -> Result<String, Error> {
    let mut messages: Vec<ChatCompletionRequestMessage> = vec![
        ChatCompletionRequestSystemMessage::from(
            "You are a support agent for an online shop. Look orders up before answering.",
        )
        .into(),
        ChatCompletionRequestUserMessage::from(question).into(),
    ];
    for _ in 0..4 {
        let reply = ask(client, model, &messages).await?;
        if reply.calls.is_empty() {
            return Ok(reply.text);
        }
        let calls = reply
            .calls
            .iter()
            .map(|(id, name, arguments)| {
                ChatCompletionMessageToolCalls::Function(ChatCompletionMessageToolCall {
                    id: id.clone(),
                    function: FunctionCall {
                        name: name.clone(),
                        arguments: arguments.clone(),
                    },
                })
            })
            .collect::<Vec<_>>();
        let assistant = ChatCompletionRequestAssistantMessageArgs::default()
            .tool_calls(calls)
            .build()?;
        messages.push(assistant.into());
        for (id, _, arguments) in reply.calls {
            let order = serde_json::from_str::<Value>(&arguments)?["order"]
                .as_u64()
                .unwrap_or_default();
            let result = serde_json::to_string(&lookup_order(order))?;
            messages.push(
                ChatCompletionRequestToolMessage {
                    content: result.into(),
                    tool_call_id: id,
                }
                .into(),
            );
        }
    }
    Err("the model kept calling tools".into())
}

/// What a streamed reply assembled: its text and its tool calls (id, name, arguments).
#[derive(Default)]
struct Reply {
    text: String,
    calls: Vec<(String, String, String)>,
}

/// Asks the model, streaming its answer, and assembles it. The model event (messages, tool
/// calls, finish reason, tokens) is the middleware's: nothing here records anything.
async fn ask(
    client: &Client<OpenAIConfig>,
    model: &str,
    messages: &[ChatCompletionRequestMessage],
) -> Result<Reply, Error> {
    let lookup = ChatCompletionTools::Function(ChatCompletionTool {
        function: FunctionObject {
            name: "lookup_order".into(),
            description: Some("Looks an order up by its number".into()),
            parameters: Some(json!({
                "type": "object",
                "properties": {"order": {"type": "integer"}},
                "required": ["order"],
            })),
            strict: None,
        },
    });
    let request = CreateChatCompletionRequestArgs::default()
        .model(model)
        .messages(messages.to_vec())
        .tools(vec![lookup])
        .stream_options(ChatCompletionStreamOptions {
            include_usage: Some(true),
            include_obfuscation: None,
        })
        .build()?;
    let mut stream = client.chat().create_stream(request).await?;
    let mut reply = Reply::default();
    while let Some(chunk) = stream.next().await {
        for choice in chunk?.choices {
            reply
                .text
                .push_str(choice.delta.content.as_deref().unwrap_or(""));
            for call in choice.delta.tool_calls.into_iter().flatten() {
                let index = call.index as usize;
                if reply.calls.len() <= index {
                    reply.calls.resize_with(index + 1, Default::default);
                }
                let (id, name, arguments) = &mut reply.calls[index];
                id.push_str(call.id.as_deref().unwrap_or(""));
                if let Some(function) = call.function {
                    name.push_str(function.name.as_deref().unwrap_or(""));
                    arguments.push_str(function.arguments.as_deref().unwrap_or(""));
                }
            }
        }
    }
    Ok(reply)
}

#[derive(Debug, Serialize)]
struct Order {
    id: u64,
    status: &'static str,
    carrier: &'static str,
    changeable: bool,
}

/// The shop's order lookup: a `tool` event, its argument in `inputs`, its result in `outputs`.
#[trace(event_type = "tool")]
fn lookup_order(order: u64) -> Order {
    match order {
        1042 => Order {
            id: order,
            status: "shipped",
            carrier: "DHL",
            changeable: false,
        },
        _ => Order {
            id: order,
            status: "packing",
            carrier: "not yet assigned",
            changeable: true,
        },
    }
}

/// The model events as they arrived: messages, tool calls, finish reasons, tokens.
fn show(server: &Emulator) {
    let compact = |v: &Option<Value>| v.as_ref().map(Value::to_string).unwrap_or_default();
    for event in server.events() {
        if event.event_type.as_deref() != Some("model") {
            continue;
        }
        let metadata = event.metadata.clone().unwrap_or_default();
        let tokens: serde_json::Map<String, Value> = metadata
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| k.ends_with("_tokens") || *k == "finish_reasons")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        println!("{} [model]", event.event_name.as_deref().unwrap_or("?"));
        println!("  inputs   {}", compact(&event.inputs));
        println!("  outputs  {}", compact(&event.outputs));
        println!("  metadata {}", Value::Object(tokens));
    }
}
