//! A small simulated support agent traced with tracing-honeyhive.
//!
//! Three conversation turns, each a HoneyHive session: a chain of steps, model calls with chat
//! messages and token counts, tool calls — one of which fails. Nothing reaches a real model: the
//! replies are canned and the latencies simulated.
//!
//! With no API key set (`HH_INGESTION_API_KEY`, `HH_PROJECT_API_KEY`, `HH_API_KEY`) it starts
//! the local HoneyHive-compatible server in-process, sends there, and prints what the server
//! received as a waterfall. With a key set it sends to HoneyHive (at `HH_DATA_PLANE_URL` or
//! `HH_API_URL` when set) and prints where. It exits non-zero unless everything it
//! produced was delivered.
//!
//! ```text
//! cargo run --example quickstart --features emulator
//! ```

use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};
use tracing::field::Empty;
use tracing::{Instrument, Span, info, info_span, instrument};
use tracing_honeyhive::emulator::Emulator;
use tracing_honeyhive::{Enrichment, HoneyHiveLayer, HoneyHiveSpanExt};
use tracing_subscriber::prelude::*;

/// The customer's questions, one session each.
const TURNS: [(&str, u32); 3] = [
    ("Where is my order #1042?", 1042),
    ("Can I still change the address of order #2210?", 2210),
    ("Why was order #77 charged twice?", 77),
];

#[tokio::main]
async fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    // A key in HH_INGESTION_API_KEY, HH_PROJECT_API_KEY or HH_API_KEY sends to HoneyHive.
    let local = match tracing_honeyhive::config::resolve_api_key(None)? {
        Some(_) => None,
        None => Some(Emulator::builder().start()?),
    };
    let mut builder = HoneyHiveLayer::builder().with_source("quickstart");
    if let Some(server) = &local {
        builder = builder.with_api_url(server.url());
    }
    let (layer, guard) = builder.build()?;
    let log = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_filter(tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::registry().with(layer).with(log).init();

    for (question, order) in TURNS {
        support_turn(question, order).await;
    }

    let report = guard.shutdown(Duration::from_secs(15));
    let stats = report.stats;
    match &local {
        Some(server) => {
            println!(
                "\nThe local HoneyHive server at {} received:\n",
                server.url()
            );
            println!("{}", server.waterfalls());
            show_details(server);
        }
        None => println!(
            "\nSent {} sessions and {} events to {}",
            stats.sessions_sent,
            stats.events_sent,
            tracing_honeyhive::Client::builder().build()?.api_url()
        ),
    }
    println!(
        "{} spans queued: {} sessions completed, {} events sent, {} lost",
        stats.spans_queued,
        stats.sessions_completed,
        stats.events_sent,
        stats.lost()
    );
    if report.is_complete() && stats.lost() == 0 && stats.spans_queued > 0 {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("not everything was delivered: {report:?}");
        Ok(ExitCode::FAILURE)
    }
}

/// A model event and a failed tool call, as the server stored them.
fn show_details(server: &Emulator) {
    let events = server.events();
    if let Some(model) = events
        .iter()
        .rfind(|e| e.event_type.as_deref() == Some("model"))
    {
        let compact = |v: &Option<Value>| v.as_ref().map(Value::to_string).unwrap_or_default();
        println!("The last model event:");
        println!("  config   {}", compact(&model.config));
        println!("  metadata {}", compact(&model.metadata));
        println!("  outputs  {}", compact(&model.outputs));
    }
    for failed in events.iter().filter(|e| e.error.is_some()) {
        println!(
            "Failed: {} [{}]: {}",
            failed.event_name.as_deref().unwrap_or("?"),
            failed.event_type.as_deref().unwrap_or("?"),
            failed.error.as_deref().unwrap_or_default()
        );
    }
    println!();
}

/// One conversation turn: a session whose root span is this function's.
#[instrument(
    name = "support turn",
    skip_all,
    fields(
        honeyhive.session_name = %format!("order #{order}"),
        inputs.question = question,
        outputs.answer = Empty,
    )
)]
async fn support_turn(question: &str, order: u32) {
    let turn = Span::current();
    turn.enrich_session(
        Enrichment::new()
            .with_user_properties(json!({"user_id": "cust-118", "plan": "gold"}))
            .with_metadata(json!({"channel": "web chat"})),
    );
    info!("new question");
    let mut messages = vec![
        json!({"role": "system", "content": "You are a support agent for an online shop."}),
        json!({"role": "user", "content": question}),
    ];
    let plan = chat("plan", &messages).await;
    messages.push(json!({"role": "assistant", "content": plan}));
    let facts = gather(order).await;
    messages.push(json!({"role": "tool", "content": facts}));
    let answer = chat("answer", &messages).await;
    turn.record("outputs.answer", answer.as_str());
    turn.enrich_session(Enrichment::new().with_metrics(json!({"resolved": order != 77})));
}

/// A chain of tool calls: look the order up, then check the payment.
async fn gather(order: u32) -> Value {
    let span = info_span!("gather facts", inputs.order = order);
    async move {
        let order_status = tool("lookup_order", order).await;
        let payment = tool("check_payment", order).await;
        let facts = json!({"order": order_status, "payment": payment});
        Span::current().set_outputs(facts.clone());
        facts
    }
    .instrument(span)
    .await
}

/// A tool call; the payment service is down for order 77.
#[instrument(
    name = "tool call",
    skip(name),
    fields(
        honeyhive.event_name = name,
        gen_ai.operation.name = "execute_tool",
        gen_ai.tool.name = name,
        outputs.result = Empty,
    )
)]
async fn tool(name: &str, order: u32) -> Value {
    tokio::time::sleep(Duration::from_millis(15 + u64::from(order % 20))).await;
    let span = Span::current();
    span.set_inputs(json!({"arguments": {"order_id": order}}));
    if name == "check_payment" && order == 77 {
        tracing::error!("payment service timed out after 3 attempts");
        return json!({"error": "payment service unavailable"});
    }
    let result = match name {
        "lookup_order" => json!({"status": "shipped", "eta_days": 2, "carrier": "DHL"}),
        _ => json!({"charged": true, "amount_eur": 42.5}),
    };
    span.record("outputs.result", result.to_string().as_str());
    result
}

/// A model call with a canned reply; its token counts are the words in and out.
#[instrument(
    name = "chat completion",
    skip(messages),
    fields(
        honeyhive.event_name = step,
        gen_ai.operation.name = "chat",
        gen_ai.provider.name = "canned",
        gen_ai.request.model = "canned-gpt",
        gen_ai.request.temperature = 0.2,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
    )
)]
async fn chat(step: &str, messages: &[Value]) -> String {
    let span = Span::current();
    span.set_inputs(json!({"chat_history": messages}));
    tokio::time::sleep(Duration::from_millis(40)).await;
    let last = match messages.last().map(|m| &m["content"]) {
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let reply = match step {
        "plan" => format!("I will look the order up, then check its payment. ({last})"),
        _ if last.contains("unavailable") => {
            "I could not reach the payment service; a colleague will email you today.".to_owned()
        }
        _ => "Your order has shipped and arrives in two days.".to_owned(),
    };
    let words = |text: &str| text.split_whitespace().count() as u64;
    let input: u64 = messages
        .iter()
        .filter_map(|m| m["content"].as_str())
        .map(words)
        .sum();
    span.record("gen_ai.usage.input_tokens", input);
    span.record("gen_ai.usage.output_tokens", words(&reply));
    span.set_outputs(json!({"role": "assistant", "content": reply}));
    reply
}
