//! A small simulated support agent instrumented with plain OpenTelemetry, sending to HoneyHive
//! through the crate's OpenTelemetry exporter.
//!
//! The agent's turns and model calls are OpenTelemetry spans made with the SDK's tracer API;
//! its tools are ordinary `tracing` spans, which `tracing-opentelemetry` turns into spans of the
//! same traces. Two turns of one conversation carry its id in baggage, so both traces land in
//! one HoneyHive session. Nothing reaches a real model: replies are canned.
//!
//! With no API key set (`HH_INGESTION_API_KEY`, `HH_PROJECT_API_KEY`, `HH_API_KEY`) it starts
//! the local HoneyHive-compatible server in-process, sends there, and prints what the server
//! received as a waterfall. With a key set it sends to HoneyHive (at `HH_DATA_PLANE_URL` or
//! `HH_API_URL` when set). It exits non-zero unless everything it produced was
//! delivered.
//!
//! ```text
//! cargo run --example otel_pipeline --all-features
//! ```

use std::process::ExitCode;
use std::time::Duration;

use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::{Span, Status, TraceContextExt, Tracer, TracerProvider};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use serde_json::json;
use tracing_honeyhive::emulator::Emulator;
use tracing_honeyhive::otel::{BaggageSessionProcessor, HoneyHiveExporter};
use tracing_subscriber::prelude::*;

/// The customer's questions: two turns of one conversation.
const TURNS: [(&str, u32); 2] = [
    ("Where is my order #1042?", 1042),
    ("And order #77, why was it charged twice?", 77),
];

fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    // A key in HH_INGESTION_API_KEY, HH_PROJECT_API_KEY or HH_API_KEY sends to HoneyHive.
    let local = match tracing_honeyhive::config::resolve_api_key(None)? {
        Some(_) => None,
        None => Some(Emulator::builder().start()?),
    };
    let mut builder = HoneyHiveExporter::builder().with_source("otel-example");
    if let Some(server) = &local {
        builder = builder.with_api_url(server.url());
    }
    let exporter = builder.build()?;
    let handle = exporter.handle();
    let provider = SdkTracerProvider::builder()
        .with_resource(
            Resource::builder()
                .with_service_name("support-agent")
                .build(),
        )
        .with_span_processor(BaggageSessionProcessor::default())
        .with_batch_exporter(exporter)
        .build();
    // `tracing` spans (the tools) become OpenTelemetry spans of the same traces.
    let log = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_filter(tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("support-agent/tools")))
        .with(log)
        .init();

    let tracer = provider.tracer("support-agent");
    let conversation =
        Context::new().with_baggage([KeyValue::new("session.id", "conversation-support-7")]);
    for (question, order) in TURNS {
        let _conversation = conversation.clone().attach();
        support_turn(&tracer, question, order);
    }

    // Delivers what is queued, within the exporter's shutdown deadline (5 s by default).
    provider.shutdown()?;
    let stats = handle.stats();
    match &local {
        Some(server) => {
            println!(
                "\nThe local HoneyHive server at {} received:\n",
                server.url()
            );
            println!("{}", server.waterfalls());
        }
        None => println!(
            "\nSent {} events to {}",
            stats.events_sent,
            tracing_honeyhive::Client::builder().build()?.api_url()
        ),
    }
    println!(
        "{} spans exported: {} delivered, {} lost",
        stats.produced(),
        stats.delivered(),
        stats.lost()
    );
    if stats.produced() > 0 && stats.delivered() == stats.produced() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("not everything was delivered: {stats:#?}");
        Ok(ExitCode::FAILURE)
    }
}

/// One turn: an OpenTelemetry root span, a model call that asks for a tool, the tool (a
/// `tracing` span), and the model's answer.
fn support_turn(tracer: &SdkTracer, question: &str, order: u32) {
    let mut turn = tracer.start("support turn");
    turn.set_attribute(KeyValue::new("inputs.question", question.to_owned()));
    turn.set_attribute(KeyValue::new("honeyhive.session_name", "support chat"));
    let cx = Context::current_with_span(turn);
    let _turn = cx.clone().attach();

    let messages = json!([{"role": "user", "parts": [{"type": "text", "content": question}]}]);
    model_call(
        tracer,
        &messages.to_string(),
        "Let me look the order up.",
        180,
        12,
    );
    let status = lookup_order(order);
    let answer = match &status {
        Ok(status) => format!("Order #{order} {status}."),
        Err(error) => format!("I could not check order #{order} ({error}); a person will."),
    };
    model_call(tracer, &messages.to_string(), &answer, 240, 21);

    let span = cx.span();
    span.set_attribute(KeyValue::new("outputs.answer", answer));
    if status.is_err() {
        span.set_status(Status::error("the order service failed"));
    }
    span.end();
}

/// A model call in the OpenTelemetry GenAI conventions.
fn model_call(tracer: &SdkTracer, messages: &str, reply: &str, prompt: i64, completion: i64) {
    let mut call = tracer.start("chat gpt-4o-mini");
    call.set_attributes([
        KeyValue::new("gen_ai.operation.name", "chat"),
        KeyValue::new("gen_ai.provider.name", "openai"),
        KeyValue::new("gen_ai.request.model", "gpt-4o-mini"),
        KeyValue::new("gen_ai.request.temperature", 0.2),
        KeyValue::new("gen_ai.input.messages", messages.to_owned()),
        KeyValue::new(
            "gen_ai.output.messages",
            json!([{"role": "assistant", "parts": [{"type": "text", "content": reply}]}])
                .to_string(),
        ),
        KeyValue::new("gen_ai.usage.input_tokens", prompt),
        KeyValue::new("gen_ai.usage.output_tokens", completion),
    ]);
    std::thread::sleep(Duration::from_millis(30));
    call.end();
}

/// A tool, traced with `tracing`: tracing-opentelemetry puts it under the current OpenTelemetry
/// span.
#[tracing::instrument(
    name = "lookup_order",
    fields(gen_ai.operation.name = "execute_tool", gen_ai.tool.name = "lookup_order")
)]
fn lookup_order(order: u32) -> Result<&'static str, &'static str> {
    std::thread::sleep(Duration::from_millis(10));
    if order == 77 {
        tracing::error!(order, "the billing service timed out");
        Err("billing service timeout")
    } else {
        tracing::info!(order, "found it");
        Ok("shipped yesterday")
    }
}
