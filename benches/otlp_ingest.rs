//! What one span costs the local server's OTLP/HTTP ingest (`POST /v1/traces`), end to end:
//! 500 spans (50 traces of a root and 9 `llm_call` children with issue 11's six fields, the
//! 200-byte prompt among them) in one `ExportTraceServiceRequest`, posted over loopback by a
//! blocking reqwest client, then `Emulator::flush_otlp` until every span is stored as sessions
//! and events. Side by side, the same 500 spans:
//!
//! 1. exported in-process by `HoneyHiveExporter` to a local server (its REST routes), then
//!    flushed: the floor, since the ingest hands what it decodes to this same exporter, which
//!    sends to the same server's REST routes;
//! 2. posted as OTLP protobuf (encoded with prost from the `opentelemetry-proto` types that
//!    opentelemetry-otlp sends);
//! 3. posted as OTLP/JSON (the same message, serialised by `opentelemetry-proto`'s serde).
//!
//! Spans are deduplicated by their ids, so every iteration has fresh trace and span ids; the
//! body is built, encoded and the server cleared outside the timing (`iter_batched`). The run
//! ends with a markdown table for BENCHMARKS.md: the median (and fastest) of criterion's samples
//! in ns per span, and the ratio to the in-process exporter.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-main cargo bench --all-features --bench otlp_ingest
//! ```

mod common;

use common::measure::median;

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant, SystemTime};

use criterion::{BatchSize, Criterion, SamplingMode, criterion_group};
use opentelemetry::InstrumentationScope;
use opentelemetry::KeyValue;
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanExporter as _, SpanLinks};
use prost::Message as _;
use tracing_honeyhive::emulator::{Emulator, OTLP_TRACES_PATH};
use tracing_honeyhive::otel::HoneyHiveExporter;

/// Traces per request, and spans per trace: 500 spans.
const TRACES: u64 = 50;
const SPANS_PER_TRACE: u64 = 10;
const SPANS: u64 = TRACES * SPANS_PER_TRACE;

const SAMPLES: usize = 20;
const PATIENCE: Duration = Duration::from_secs(60);

fn resource() -> Resource {
    Resource::builder_empty()
        .with_attributes([KeyValue::new("service.name", "support-bot")])
        .build()
}

/// The 500 spans, with ids no other iteration has (`round` numbers the iteration).
fn spans(round: u64) -> Vec<SpanData> {
    let base = SystemTime::now();
    let scope = InstrumentationScope::builder("bench").build();
    let prompt = "p".repeat(200);
    let mut spans = Vec::with_capacity(SPANS as usize);
    for t in 0..TRACES {
        let trace = TraceId::from(((round as u128) << 64) | (t as u128 + 1));
        let id = |s: u64| SpanId::from((round << 20) | (t << 8) | (s + 1));
        let span = |s: u64, name: &'static str, attributes: Vec<KeyValue>| {
            let start = base + Duration::from_millis(s);
            SpanData {
                span_context: SpanContext::new(
                    trace,
                    id(s),
                    TraceFlags::SAMPLED,
                    false,
                    TraceState::default(),
                ),
                parent_span_id: if s == 0 { SpanId::INVALID } else { id(0) },
                parent_span_is_remote: false,
                span_kind: SpanKind::Internal,
                name: Cow::Borrowed(name),
                start_time: start,
                end_time: start + Duration::from_millis(if s == 0 { 100 } else { 5 }),
                attributes,
                dropped_attributes_count: 0,
                events: SpanEvents::default(),
                links: SpanLinks::default(),
                status: Status::Unset,
                instrumentation_scope: scope.clone(),
            }
        };
        // Children first, as they end; the root last.
        for s in 1..SPANS_PER_TRACE {
            spans.push(span(
                s,
                "llm_call",
                vec![
                    KeyValue::new("gen_ai.system", "openai"),
                    KeyValue::new("gen_ai.request.model", "gpt-4o-mini"),
                    KeyValue::new("gen_ai.prompt", prompt.clone()),
                    KeyValue::new("gen_ai.usage.input_tokens", 42_i64),
                    KeyValue::new("gen_ai.usage.output_tokens", s as i64),
                    KeyValue::new("gen_ai.request.temperature", 0.2_f64),
                ],
            ));
        }
        spans.push(span(
            0,
            "request",
            vec![
                KeyValue::new("user", "u-1"),
                KeyValue::new("route", "/chat"),
                KeyValue::new("attempt", 1_i64),
            ],
        ));
    }
    spans
}

/// The OTLP message of `spans`, as opentelemetry-otlp builds it.
fn message(spans: Vec<SpanData>) -> ExportTraceServiceRequest {
    let resource = ResourceAttributesWithSchema::from(&resource());
    ExportTraceServiceRequest {
        resource_spans: group_spans_by_resource_and_scope(spans, &resource),
    }
}

/// One line of the final table.
struct Row {
    subject: &'static str,
    body_bytes: usize,
    /// Every iteration's ns per span, warm-up included.
    samples: Vec<f64>,
}

/// How a request body is written.
type Encode = fn(&ExportTraceServiceRequest) -> Vec<u8>;

const EXPORTER: &str = "HoneyHiveExporter in-process (REST)";

fn otlp_ingest(c: &mut Criterion) {
    let round = Cell::new(1_u64);
    let next = || {
        let r = round.get();
        round.set(r + 1);
        r
    };
    let mut group = c.benchmark_group("500 spans stored by the local server");
    group
        .sample_size(SAMPLES)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let mut rows = Vec::new();

    // 1. In-process: export, then wait for delivery.
    {
        let server = Emulator::builder().start().expect("the server starts");
        let mut exporter = HoneyHiveExporter::builder()
            .with_api_url(server.url())
            .build()
            .expect("the exporter builds");
        exporter.set_resource(&resource());
        let handle = exporter.handle();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let samples = RefCell::new(Vec::new());
        group.bench_function(EXPORTER, |b| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                for _ in 0..iters {
                    server.clear();
                    let batch = spans(next());
                    let start = Instant::now();
                    rt.block_on(exporter.export(batch)).expect("exported");
                    handle.flush(PATIENCE).expect("delivered");
                    let took = start.elapsed();
                    samples
                        .borrow_mut()
                        .push(took.as_nanos() as f64 / SPANS as f64);
                    elapsed += took;
                }
                assert_eq!(server.events().len() as u64, SPANS - TRACES, "all stored");
                elapsed
            });
        });
        let stats = handle.stats();
        println!(
            "\nthe exporter: {} spans produced, {} delivered, {} dropped",
            stats.produced(),
            stats.delivered(),
            stats.dropped.total(),
        );
        rows.push(Row {
            subject: EXPORTER,
            body_bytes: 0,
            samples: samples.into_inner(),
        });
    }

    // 2 and 3. Posted over loopback, then stored.
    let encodings: [(&str, &str, Encode); 2] = [
        (
            "OTLP protobuf -> /v1/traces",
            "application/x-protobuf",
            |m| m.encode_to_vec(),
        ),
        ("OTLP/JSON -> /v1/traces", "application/json", |m| {
            serde_json::to_vec(m).expect("serialised")
        }),
    ];
    for (subject, content_type, encode) in encodings {
        let server = Emulator::builder().start().expect("the server starts");
        let url = format!("{}{OTLP_TRACES_PATH}", server.url());
        let http = reqwest::blocking::Client::new();
        let body_bytes = encode(&message(spans(0))).len();
        let samples = RefCell::new(Vec::new());
        group.bench_function(subject, |b| {
            b.iter_batched(
                || {
                    server.clear();
                    encode(&message(spans(next())))
                },
                |body| {
                    let start = Instant::now();
                    let response = http
                        .post(&url)
                        .header("content-type", content_type)
                        .body(body)
                        .send()
                        .expect("the server answers");
                    assert_eq!(response.status(), 200, "{:?}", response.text());
                    response.bytes().expect("the answer's body");
                    assert!(server.flush_otlp(PATIENCE), "stored");
                    samples
                        .borrow_mut()
                        .push(start.elapsed().as_nanos() as f64 / SPANS as f64);
                },
                BatchSize::PerIteration,
            );
        });
        assert_eq!(server.events().len() as u64, SPANS - TRACES, "all stored");
        let stats = server.otlp_stats().expect("the ingest ran");
        println!(
            "\nthe ingest ({subject}): {} delivered, {} dropped",
            stats.delivered(),
            stats.dropped.total(),
        );
        rows.push(Row {
            subject,
            body_bytes,
            samples: samples.into_inner(),
        });
    }
    group.finish();
    table(&rows);
}

fn table(rows: &[Row]) {
    println!(
        "\n| path | body bytes (500 spans) | ns per span, median of iterations (fastest) | × in-process exporter |"
    );
    println!("|---|---:|---:|---:|");
    let floor = rows
        .iter()
        .find(|row| row.subject == EXPORTER)
        .and_then(|row| median(&row.samples));
    for row in rows {
        let Some(ns) = median(&row.samples) else {
            continue; // filtered out of this run
        };
        let fastest = row.samples.iter().copied().fold(f64::INFINITY, f64::min);
        let ratio = floor.map_or_else(|| "–".to_owned(), |f| format!("{:.2}", ns / f));
        let bytes = match row.body_bytes {
            0 => "–".to_owned(),
            n => n.to_string(),
        };
        println!(
            "| {} | {bytes} | {ns:.0} ({fastest:.0}) | {ratio} |",
            row.subject
        );
    }
}

criterion_group!(benches, otlp_ingest);

fn main() {
    benches();
    Criterion::default().final_summary();
}
