//! The same spans two ways: exported in-process by `HoneyHiveExporter` to one server, and sent
//! by opentelemetry-otlp over OTLP/HTTP to another. Both servers store the same sessions and
//! events, whatever the encoding.

use std::collections::HashMap;

use opentelemetry::KeyValue;
use opentelemetry::trace::{Status, TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry_otlp::{Compression, Protocol, WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::json;
use tracing_honeyhive::emulator::Emulator;
use tracing_honeyhive::otel::HoneyHiveExporter;

use crate::{PATIENCE, stored};

/// A support turn: a session with a model call (messages, tokens) and a failing tool.
fn run_turn(provider: &SdkTracerProvider) {
    let tracer = provider.tracer("support-bot");
    tracer.in_span("support turn", |cx| {
        let turn = cx.span();
        turn.set_attribute(KeyValue::new("honeyhive.session_name", "order #7"));
        turn.set_attribute(KeyValue::new("user.id", "u-42"));
        tracer.in_span("chat gpt-4o-mini", |cx| {
            let span = cx.span();
            let messages = json!([{"role": "user", "parts": [{"type": "text", "content": "Where is order 7?"}]}]);
            span.set_attribute(KeyValue::new("gen_ai.operation.name", "chat"));
            span.set_attribute(KeyValue::new("gen_ai.request.model", "gpt-4o-mini"));
            span.set_attribute(KeyValue::new("gen_ai.input.messages", messages.to_string()));
            span.set_attribute(KeyValue::new("gen_ai.usage.input_tokens", 42_i64));
            span.set_attribute(KeyValue::new("gen_ai.usage.output_tokens", 9_i64));
            span.set_attribute(KeyValue::new(
                "gen_ai.response.finish_reasons",
                opentelemetry::Value::Array(vec![opentelemetry::StringValue::from("stop")].into()),
            ));
            span.add_event("token", vec![KeyValue::new("index", 1_i64)]);
        });
        tracer.in_span("lookup_order", |cx| {
            let span = cx.span();
            span.set_attribute(KeyValue::new("gen_ai.tool.name", "lookup_order"));
            span.set_attribute(KeyValue::new("gen_ai.tool.call.arguments", r#"{"order":7}"#));
            span.set_status(Status::error("the order service timed out"));
        });
    });
}

/// The OTLP exporter to `server`'s `path`, in `protocol`, gzipped or not.
fn otlp(
    server: &Emulator,
    path: &str,
    protocol: Protocol,
    gzip: bool,
) -> opentelemetry_otlp::SpanExporter {
    let mut builder = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(protocol)
        .with_endpoint(format!("{}{path}", server.url()))
        .with_headers(HashMap::from([(
            "authorization".to_owned(),
            "Bearer otlp-key".to_owned(),
        )]));
    if gzip {
        builder = builder.with_compression(Compression::Gzip);
    }
    builder.build().expect("the OTLP exporter builds")
}

fn same_spans_both_ways(path: &str, protocol: Protocol, gzip: bool) {
    let direct = Emulator::builder().start().unwrap();
    let ingest = Emulator::builder()
        .with_api_key("otlp-key")
        .start()
        .unwrap();
    let exporter = HoneyHiveExporter::builder()
        .with_api_url(direct.url())
        .build()
        .unwrap();
    let handle = exporter.handle();
    let resource = Resource::builder_empty()
        .with_attributes([KeyValue::new("service.name", "support-bot")])
        .build();
    let provider = SdkTracerProvider::builder()
        .with_resource(resource)
        .with_simple_exporter(exporter)
        .with_simple_exporter(otlp(&ingest, path, protocol, gzip))
        .build();
    run_turn(&provider);
    provider
        .force_flush()
        .expect("both exporters took the spans");
    handle.flush(PATIENCE).expect("delivered in-process");
    let (direct_sessions, direct_events) = stored(&direct);
    let (sessions, events) = stored(&ingest);
    assert_eq!(sessions.len(), 1, "{sessions:#?}");
    assert_eq!(events.len(), 2, "{events:#?}");
    assert_eq!(sessions, direct_sessions);
    assert_eq!(events, direct_events);
    let stats = ingest.otlp_stats().expect("the ingest ran");
    assert_eq!(stats.delivered(), 3, "{stats:?}");
    let tool = events
        .iter()
        .find(|e| e.event_name.as_deref() == Some("lookup_order"))
        .unwrap();
    assert_eq!(tool.event_type.as_deref(), Some("tool"));
    assert_eq!(tool.error.as_deref(), Some("the order service timed out"));
    let chat = events
        .iter()
        .find(|e| e.event_type.as_deref() == Some("model"))
        .unwrap();
    let inputs = chat.inputs.clone().unwrap();
    assert_eq!(
        inputs["chat_history"][0]["content"],
        json!("Where is order 7?")
    );
    assert_eq!(chat.metadata.clone().unwrap()["total_tokens"], json!(51));
    assert_eq!(sessions[0].event_name.as_deref(), Some("order #7"));
}

#[test]
fn protobuf_through_opentelemetry_otlp_stores_what_the_exporter_stores() {
    same_spans_both_ways(
        tracing_honeyhive::emulator::OTLP_TRACES_PATH,
        Protocol::HttpBinary,
        false,
    );
}

#[test]
fn json_through_opentelemetry_otlp_stores_what_the_exporter_stores() {
    same_spans_both_ways(
        tracing_honeyhive::emulator::HONEYHIVE_TRACES_PATH,
        Protocol::HttpJson,
        false,
    );
}

#[test]
fn gzipped_protobuf_and_json_are_inflated() {
    same_spans_both_ways(
        tracing_honeyhive::emulator::HONEYHIVE_TRACES_PATH,
        Protocol::HttpBinary,
        true,
    );
    same_spans_both_ways(
        tracing_honeyhive::emulator::OTLP_TRACES_PATH,
        Protocol::HttpJson,
        true,
    );
}
