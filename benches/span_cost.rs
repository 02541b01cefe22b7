//! What a span costs the application thread, side by side with the peers, on issue 11's
//! workload: a root span `request` with 3 fields, entered; inside it 10 `llm_call` spans with 6
//! fields (`gen_ai.system` and `gen_ai.request.model`, a 200-byte `gen_ai.prompt`, two integers
//! and a float), each entered, with one `info!` event, exited and closed; then the root closes.
//! 11 spans a workload; figures are per span.
//!
//! Subjects, in one interleaved run:
//! - `floor`: the registry and a layer that does nothing;
//! - `tracing-opentelemetry`: tracing-opentelemetry with a `BatchSpanProcessor` whose exporter
//!   discards;
//! - `tracing-honeyhive`: this crate's layer, with defaults, sending to the local server on
//!   loopback;
//! - `tracing-opentelemetry + HoneyHiveExporter`: the same bridge, exporting with this crate.
//!
//! Criterion measures the time of one workload on the application thread; a counting allocator
//! then counts that thread's allocations per span, a stable figure on a noisy machine. Results
//! and the command that made them are in BENCHMARKS.md:
//!
//! ```text
//! cargo bench --all-features --bench span_cost
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group};
use opentelemetry::trace::TracerProvider;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use tracing::Dispatch;
use tracing_honeyhive::HoneyHiveLayer;
use tracing_honeyhive::emulator::Emulator;
use tracing_honeyhive::otel::HoneyHiveExporter;
use tracing_subscriber::layer::SubscriberExt;

/// Spans in one workload.
const SPANS: u64 = 11;

#[path = "../tests/common/counting.rs"]
mod counting;

use counting::{Counting, allocations};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The workload, once.
fn workload(prompt: &str) {
    let root = tracing::info_span!("request", user = "u-1", route = "/chat", attempt = 1);
    let _root = root.enter();
    for i in 0..10_i64 {
        let call = tracing::info_span!(
            "llm_call",
            gen_ai.system = "openai",
            gen_ai.request.model = "gpt-4o-mini",
            gen_ai.prompt = prompt,
            gen_ai.usage.input_tokens = 120 + i,
            gen_ai.usage.output_tokens = 40 + i,
            gen_ai.request.temperature = 0.2,
        );
        let _call = call.enter();
        tracing::info!(i, "calling the model");
    }
}

/// A layer that does nothing: the cost of the registry alone.
struct Noop;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Noop {}

/// An exporter that discards: the cost of the bridge and its batch processor alone.
#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        black_box(batch);
        Ok(())
    }
}

/// A subject: its name, its subscriber, what must outlive the run, and this crate's counters
/// when it is this crate's.
struct Subject {
    name: &'static str,
    dispatch: Dispatch,
    _keep: Box<dyn std::any::Any>,
    handle: Option<tracing_honeyhive::Handle>,
}

fn subjects(server: &Emulator) -> Vec<Subject> {
    let floor = Subject {
        name: "floor (registry + no-op layer)",
        dispatch: Dispatch::new(tracing_subscriber::registry().with(Noop)),
        _keep: Box::new(()),
        handle: None,
    };
    let discard = SdkTracerProvider::builder()
        .with_batch_exporter(Discard)
        .build();
    let bridge = Subject {
        name: "tracing-opentelemetry + BatchSpanProcessor (discarding)",
        dispatch: Dispatch::new(
            tracing_subscriber::registry()
                .with(tracing_opentelemetry::layer().with_tracer(discard.tracer("bench"))),
        ),
        _keep: Box::new(discard),
        handle: None,
    };
    let (layer, guard) = HoneyHiveLayer::builder()
        .with_api_url(server.url())
        .build()
        .expect("the layer builds");
    let ours = Subject {
        name: "tracing-honeyhive layer (defaults, loopback)",
        dispatch: Dispatch::new(tracing_subscriber::registry().with(layer)),
        handle: Some(guard.handle()),
        _keep: Box::new(guard),
    };
    let exporter = HoneyHiveExporter::builder()
        .with_api_url(server.url())
        .build()
        .expect("the exporter builds");
    let handle = exporter.handle();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .build();
    let exported = Subject {
        name: "tracing-opentelemetry + HoneyHiveExporter (loopback)",
        dispatch: Dispatch::new(
            tracing_subscriber::registry()
                .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"))),
        ),
        _keep: Box::new(provider),
        handle: Some(handle),
    };
    vec![floor, bridge, ours, exported]
}

fn span_cost(c: &mut Criterion) {
    let server = Emulator::builder()
        .start()
        .expect("the local server starts");
    let prompt = "p".repeat(200);
    let subjects = subjects(&server);
    let mut group = c.benchmark_group("workload of 11 spans, application thread");
    for subject in &subjects {
        group.bench_function(subject.name, |b| {
            tracing::dispatcher::with_default(&subject.dispatch, || {
                b.iter(|| workload(black_box(&prompt)));
            });
            // The local server keeps what it receives: forget it between subjects.
            server.clear();
        });
    }
    group.finish();

    // Criterion's loop offers spans far faster than anything delivers them: every queue fills,
    // and part of each figure is the cost of a drop.
    println!("\nwhat this crate's pipelines did with the spans offered:");
    for subject in &subjects {
        if let Some(handle) = &subject.handle {
            let stats = handle.stats();
            println!(
                "  {:<58} {} produced, {} delivered, {} dropped (queue full)",
                subject.name,
                stats.produced(),
                stats.delivered(),
                stats.dropped.queue_full
            );
        }
    }

    println!("\nheap allocations per span on the application thread:");
    for subject in &subjects {
        let runs = 2_000;
        let per_span = tracing::dispatcher::with_default(&subject.dispatch, || {
            let before = allocations();
            for _ in 0..runs {
                workload(&prompt);
            }
            (allocations() - before) as f64 / (runs * SPANS) as f64
        });
        println!("  {:<58} {per_span:>6.2}", subject.name);
        server.clear();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = span_cost
}

fn main() {
    benches();
    Criterion::default().final_summary();
}
