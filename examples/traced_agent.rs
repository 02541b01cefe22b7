//! A small support agent whose own steps are traced with `#[trace]` and `traced!`.
//!
//! Each conversation turn is a HoneyHive session: `support_turn` is the root, the model calls
//! are `model` events with their chat history and token counts, the tools are `tool` events —
//! their arguments recorded as `inputs`, their results as `outputs.result`, and the payment
//! check that fails for order #77 carries its error on its own event. The answer is streamed,
//! and the stream is traced too. Nothing reaches a real model: the replies are canned.
//!
//! Like the quickstart, with no API key set it starts the local HoneyHive-compatible server
//! in-process and prints what it received; with a key it sends to HoneyHive. It exits non-zero
//! unless everything was delivered.
//!
//! ```text
//! cargo run --example traced_agent --features emulator
//! ```

use std::process::ExitCode;
use std::time::Duration;

use futures_util::StreamExt;
use serde::Serialize;
use serde_json::Value;
use tracing::Span;
use tracing::field::Empty;
use tracing_honeyhive::emulator::Emulator;
use tracing_honeyhive::{HoneyHiveLayer, trace, traced};
use tracing_subscriber::prelude::*;

const TURNS: [(&str, u32); 2] = [
    ("Where is my order #1042?", 1042),
    ("Why was order #77 charged twice?", 77),
];

#[derive(Debug, Clone, Serialize)]
struct Message {
    role: &'static str,
    content: String,
}

#[derive(Debug, Serialize)]
struct Order {
    id: u32,
    status: &'static str,
    carrier: &'static str,
}

#[derive(Debug, Serialize)]
struct Payment {
    charged: u32,
    amount_eur: f64,
}

#[derive(Debug, thiserror::Error)]
enum ToolError {
    #[error("the payment service timed out after {attempts} attempts")]
    Timeout { attempts: u32 },
}

/// The shop's backend client: neither `Serialize` nor `Debug`, so never recorded (and named
/// as left out).
struct Backend {
    latency: Duration,
}

#[tokio::main]
async fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let local = match tracing_honeyhive::config::resolve_api_key(None)? {
        Some(_) => None,
        None => Some(Emulator::builder().start()?),
    };
    let mut builder = HoneyHiveLayer::builder().with_source("traced-agent");
    if let Some(server) = &local {
        builder = builder.with_api_url(server.url());
    }
    let (layer, guard) = builder.build()?;
    tracing_subscriber::registry().with(layer).init();

    let backend = Backend {
        latency: Duration::from_millis(10),
    };
    for (question, order) in TURNS {
        let answer = support_turn(&backend, question, order).await;
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

/// One turn: a session named after the order, the question as its input, the answer as its
/// output.
#[trace(honeyhive.session_name = %format!("order #{order}"), user_properties.plan = "gold")]
async fn support_turn(backend: &Backend, question: &str, order: u32) -> String {
    let mut chat_history = vec![
        Message {
            role: "system",
            content: "You are a support agent for an online shop.".into(),
        },
        Message {
            role: "user",
            content: question.into(),
        },
    ];
    let plan = chat(&chat_history).await;
    chat_history.push(plan);
    let facts = gather(backend, order).await;
    chat_history.push(Message {
        role: "tool",
        content: facts.to_string(),
    });
    stream_answer(&chat_history).await
}

/// A chain of tool calls; a failed one is recorded on its own event and the chain goes on.
#[trace(event_type = "chain", skip(backend))]
async fn gather(backend: &Backend, order: u32) -> Value {
    let order_status = lookup_order(backend, order).await;
    let payment = check_payment(backend, order).await;
    serde_json::json!({
        "order": order_status.map_or(Value::Null, |o| serde_json::to_value(o).unwrap_or_default()),
        "payment": payment.map_or_else(|e| Value::String(e.to_string()), |p| serde_json::to_value(p).unwrap_or_default()),
    })
}

#[trace(event_type = "tool")]
async fn lookup_order(backend: &Backend, order: u32) -> Result<Order, ToolError> {
    tokio::time::sleep(backend.latency).await;
    Ok(Order {
        id: order,
        status: "shipped",
        carrier: "DHL",
    })
}

#[trace(event_type = "tool", metadata.service = "payments")]
async fn check_payment(backend: &Backend, order: u32) -> Result<Payment, ToolError> {
    tokio::time::sleep(backend.latency).await;
    if order == 77 {
        return Err(ToolError::Timeout { attempts: 3 });
    }
    Ok(Payment {
        charged: 1,
        amount_eur: 42.5,
    })
}

/// A model call with a canned reply. Naming the argument `chat_history` puts the messages where
/// HoneyHive shows a conversation; the token counts are recorded as the call ends.
#[trace(
    event_type = "model",
    gen_ai.request.model = "canned-gpt",
    gen_ai.provider.name = "canned",
    gen_ai.usage.input_tokens = Empty,
    gen_ai.usage.output_tokens = Empty
)]
async fn chat(chat_history: &[Message]) -> Message {
    tokio::time::sleep(Duration::from_millis(30)).await;
    let reply = "I will look the order up, then check its payment.".to_owned();
    record_usage(chat_history, &reply);
    Message {
        role: "assistant",
        content: reply,
    }
}

/// The answer, streamed in chunks; the traced stream records the whole text when it ends.
async fn stream_answer(chat_history: &[Message]) -> String {
    let failed = chat_history
        .last()
        .is_some_and(|m| m.content.contains("timed out"));
    let text = if failed {
        "I could not reach the payment service; a colleague will email you today."
    } else {
        "Your order has shipped with DHL and arrives in two days."
    };
    let chunks = futures_util::stream::iter(text.split_inclusive(' ').map(str::to_owned)).then(
        |chunk| async move {
            tokio::time::sleep(Duration::from_millis(2)).await;
            chunk
        },
    );
    let answer = traced!(
        "stream answer",
        event_type = "model",
        inputs(chat_history),
        gen_ai.request.model = "canned-gpt",
        stream = chunks
    );
    answer.collect::<String>().await
}

fn record_usage(chat_history: &[Message], reply: &str) {
    let words = |text: &str| text.split_whitespace().count() as u64;
    let span = Span::current();
    span.record(
        "gen_ai.usage.input_tokens",
        chat_history.iter().map(|m| words(&m.content)).sum::<u64>(),
    );
    span.record("gen_ai.usage.output_tokens", words(reply));
}

/// What `#[trace]` recorded: each session, its model call, tool calls (the failed one with its
/// error), and the streamed answer.
fn show(server: &Emulator) {
    let compact = |v: &Option<Value>| v.as_ref().map(Value::to_string).unwrap_or_default();
    for session in server.sessions() {
        let id = session.session_id.clone().unwrap_or_default();
        println!("{} [session]", session.event_name.as_deref().unwrap_or("?"));
        println!("  inputs   {}", compact(&session.inputs));
        println!("  outputs  {}", compact(&session.outputs));
        println!("  user_properties {}", compact(&session.user_properties));
        show_events(&server.events_of(&id), compact);
    }
    println!();
}

fn show_events(
    events: &[tracing_honeyhive::wire::EventRecord],
    compact: impl Fn(&Option<Value>) -> String,
) {
    for event in events {
        let name = event.event_name.as_deref().unwrap_or("?");
        if name == "chat" {
            println!("chat [model]");
            println!("  config   {}", compact(&event.config));
            println!("  metadata {}", compact(&event.metadata));
        }
        if matches!(name, "lookup_order" | "check_payment" | "stream answer") {
            println!("{name} [{}]", event.event_type.as_deref().unwrap_or("?"));
            println!("  inputs   {}", compact(&event.inputs));
            println!("  outputs  {}", compact(&event.outputs));
            if let Some(error) = &event.error {
                println!("  error    {error}");
                println!("  metadata {}", compact(&event.metadata));
            }
        }
    }
}
