//! `HoneyHiveSpanProcessor`: what it stamps on the spans a stock OTLP pipeline sends is what the
//! exporter derives from the same spans — sessions, their names, event types, sources — first
//! against the exporter's own result, then through opentelemetry-otlp into the local server's
//! OTLP route.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::{TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    SdkTracerProvider, SimpleSpanProcessor, SpanData, SpanExporter, SpanProcessor,
};
use tracing_honeyhive::emulator::{Emulator, HONEYHIVE_TRACES_PATH};
use tracing_honeyhive::ids;
use tracing_honeyhive::otel::{BaggageSessionProcessor, HoneyHiveSpanProcessor};
use tracing_honeyhive::wire::EventRecord;

use super::*;

/// A `SpanExporter` that keeps what it is given: the spans as an OTLP exporter would send them.
#[derive(Debug, Clone, Default)]
struct Capture(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Capture {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.lock().unwrap().extend(batch);
        Ok(())
    }
}

impl Capture {
    fn spans(&self) -> Vec<SpanData> {
        self.0.lock().unwrap().clone()
    }
}

/// The processor under test, as an application would configure it beside the exporter.
fn stamping<P: SpanProcessor>(next: P) -> HoneyHiveSpanProcessor<P> {
    HoneyHiveSpanProcessor::builder()
        .with_source("test")
        .build(next)
}

/// A support bot's traffic: a turn of its own (a model call, a tool call, an OpenInference
/// model step), two requests of one conversation keyed in baggage, and an agent's run named by
/// the agent.
fn traffic(provider: &SdkTracerProvider) {
    let tracer = provider.tracer("support-bot");
    tracer.in_span("support turn", |cx| {
        cx.span()
            .set_attribute(KeyValue::new("honeyhive.source", "chat-ui"));
        tracer.in_span("chat gpt-4o-mini", |cx| {
            let span = cx.span();
            span.set_attribute(KeyValue::new("gen_ai.operation.name", "chat"));
            span.set_attribute(KeyValue::new("gen_ai.request.model", "gpt-4o-mini"));
            span.set_attribute(KeyValue::new("gen_ai.usage.input_tokens", 42_i64));
        });
        tracer.in_span("lookup_order", |cx| {
            let span = cx.span();
            span.set_attribute(KeyValue::new("gen_ai.operation.name", "execute_tool"));
            span.set_attribute(KeyValue::new("gen_ai.tool.name", "lookup_order"));
        });
        tracer.in_span("rerank", |cx| {
            cx.span()
                .set_attribute(KeyValue::new("openinference.span.kind", "LLM"));
        });
    });
    for question in ["first question", "second question"] {
        let cx = Context::current_with_baggage([KeyValue::new("session.id", "conversation-7")]);
        let _attached = cx.attach();
        tracer.in_span(question, |_| {
            tracer.in_span("embed", |cx| {
                cx.span()
                    .set_attribute(KeyValue::new("gen_ai.operation.name", "embeddings"));
            });
        });
    }
    // A key on a span below the root, given when it starts: the whole trace goes to its session.
    tracer.in_span("handle request", |_| {
        let thread = [KeyValue::new("gen_ai.conversation.id", "thread-3")];
        let agent = tracer
            .span_builder("agent step")
            .with_attributes(thread)
            .start(&tracer);
        let cx = Context::current_with_span(agent);
        tracer.in_span_with_context("answer", &cx, |cx| {
            cx.span()
                .set_attribute(KeyValue::new("gen_ai.operation.name", "text_completion"));
        });
        cx.span().end();
    });
    // The agent's name given when its span starts, so that the spans ending before it agree.
    let run = tracer
        .span_builder("invoke_agent triage")
        .with_attributes([
            KeyValue::new("gen_ai.operation.name", "invoke_agent"),
            KeyValue::new("gen_ai.agent.name", "triage"),
        ])
        .start(&tracer);
    let cx = Context::current_with_span(run);
    tracer.in_span_with_context("search_kb", &cx, |cx| {
        cx.span()
            .set_attribute(KeyValue::new("traceloop.span.kind", "tool"));
    });
    cx.span().end();
}

/// The spans `traffic` makes.
const SPANS: usize = 4 + 2 * 2 + 3 + 2;

fn text(span: &SpanData, name: &str) -> String {
    let value = span
        .attributes
        .iter()
        .rev()
        .find(|kv| kv.key.as_str() == name)
        .map(|kv| kv.value.as_str().into_owned());
    value.unwrap_or_else(|| panic!("{} has no {name}: {:?}", span.name, span.attributes))
}

fn event_id(span: &SpanData) -> String {
    let context = &span.span_context;
    ids::event_id_for_span(context.trace_id().to_bytes(), context.span_id().to_bytes()).to_string()
}

#[test]
fn stamps_are_the_sessions_names_and_types_the_exporter_sends() {
    let server = server();
    let exporter = exporter(&server, |b| b);
    let handle = exporter.handle();
    let capture = Capture::default();
    let provider = SdkTracerProvider::builder()
        .with_resource(resource("support-bot"))
        .with_span_processor(BaggageSessionProcessor::default())
        .with_span_processor(stamping(SimpleSpanProcessor::new(capture.clone())))
        .with_batch_exporter(exporter)
        .build();
    traffic(&provider);
    provider.shutdown().expect("delivered");
    assert_all_delivered(&handle.stats());

    let spans = capture.spans();
    assert_eq!(spans.len(), SPANS);
    let events: BTreeMap<String, EventRecord> = server
        .events()
        .into_iter()
        .map(|e| (e.event_id.clone().unwrap(), e))
        .collect();
    let sessions: BTreeMap<String, EventRecord> = server
        .sessions()
        .into_iter()
        .map(|s| (s.session_id.clone().unwrap(), s))
        .collect();
    let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for span in &spans {
        let session = text(span, "honeyhive.session_id");
        assert!(sessions.contains_key(&session), "{}: {session}", span.name);
        assert_eq!(text(span, "honeyhive.session_auto_create"), "true");
        names
            .entry(session.clone())
            .or_default()
            .insert(text(span, "honeyhive.session_name"));
        match events.get(&event_id(span)) {
            Some(event) => {
                let at = &span.name;
                assert_eq!(event.session_id.as_deref(), Some(&*session), "{at}");
                let stamped = text(span, "honeyhive_event_type");
                assert_eq!(event.event_type.as_deref(), Some(&*stamped), "{at}");
                assert_eq!(
                    event.source.as_deref(),
                    Some(&*text(span, "honeyhive.source"))
                );
            }
            // The root of a trace without a key is the session itself.
            None => {
                let trace = span.span_context.trace_id().to_bytes();
                assert_eq!(session, ids::session_id_for_trace(trace).to_string());
                assert_eq!(
                    sessions[&session].event_name.as_deref(),
                    Some(&*text(span, "honeyhive.session_name"))
                );
            }
        }
    }
    // Every span of a session names it as the exporter named it.
    for (session, stamped) in &names {
        let name = sessions[session].event_name.clone().unwrap();
        assert!(stamped.contains(&name), "{session}: {name} ∉ {stamped:?}");
    }
    let by_name = |name: &str| spans.iter().find(|s| s.name == name).unwrap();
    let types: Vec<String> = [
        "chat gpt-4o-mini",
        "lookup_order",
        "rerank",
        "embed",
        "search_kb",
    ]
    .into_iter()
    .map(|name| text(by_name(name), "honeyhive_event_type"))
    .collect();
    assert_eq!(types, ["model", "tool", "model", "model", "tool"]);
    assert_eq!(sessions.len(), 4, "{names:?}");
    let thread = ids::session_id_for_key("thread-3").to_string();
    for name in ["handle request", "agent step", "answer"] {
        assert_eq!(
            text(by_name(name), "honeyhive.session_id"),
            thread,
            "{name}"
        );
    }
    let conversation = ids::session_id_for_key("conversation-7").to_string();
    assert_eq!(text(by_name("embed"), "honeyhive.session_id"), conversation);
    assert_eq!(
        text(by_name("search_kb"), "honeyhive.session_name"),
        "triage"
    );
    assert_eq!(text(by_name("lookup_order"), "honeyhive.source"), "test");
    assert_eq!(text(by_name("support turn"), "honeyhive.source"), "chat-ui");
}

#[test]
fn through_opentelemetry_otlp_the_local_server_stores_the_exporters_sessions_and_types() {
    let direct = server();
    let exporter = exporter(&direct, |b| b);
    let handle = exporter.handle();
    let ingest = Emulator::builder().start().unwrap();
    let otlp = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("{}{HONEYHIVE_TRACES_PATH}", ingest.url()))
        .build()
        .expect("the OTLP exporter builds");
    let capture = Capture::default();
    let provider = SdkTracerProvider::builder()
        .with_resource(resource("support-bot"))
        .with_span_processor(BaggageSessionProcessor::default())
        .with_span_processor(stamping(SimpleSpanProcessor::new(otlp)))
        .with_span_processor(stamping(SimpleSpanProcessor::new(capture.clone())))
        .with_simple_exporter(exporter)
        .build();
    traffic(&provider);
    provider.shutdown().expect("delivered");
    assert_all_delivered(&handle.stats());
    assert!(ingest.flush_otlp(PATIENCE), "the ingested spans are stored");

    let key = |e: &EventRecord| {
        (
            e.event_id.clone(),
            e.session_id.clone(),
            e.event_type.clone(),
            e.event_name.clone(),
            e.source.clone(),
        )
    };
    let session_names = |server: &Emulator| -> BTreeMap<String, String> {
        server
            .sessions()
            .into_iter()
            .map(|s| (s.session_id.unwrap(), s.event_name.unwrap()))
            .collect()
    };
    assert_eq!(session_names(&ingest), session_names(&direct));
    let sent: BTreeSet<_> = direct.events().iter().map(key).collect();
    let stored: BTreeSet<_> = ingest.events().iter().map(key).collect();
    assert_eq!(
        stored, sent,
        "the same events, sessions, types, names and sources"
    );
    // The roots of traces without a key arrive with their trace's own session stamped: that is
    // no key, so each is its session there too, not an event of it.
    let roots: Vec<_> = capture
        .spans()
        .into_iter()
        .filter(|s| {
            let trace = s.span_context.trace_id().to_bytes();
            s.parent_span_id == opentelemetry::trace::SpanId::INVALID
                && text(s, "honeyhive.session_id") == ids::session_id_for_trace(trace).to_string()
        })
        .collect();
    for root in &roots {
        let id = event_id(root);
        assert!(!stored.iter().any(|e| e.0.as_deref() == Some(id.as_str())));
        let session = text(root, "honeyhive.session_id");
        assert!(ingest.session(&session).is_some(), "{session}");
    }
    assert_eq!(roots.len(), 2, "the support turn and the agent's run");
}
