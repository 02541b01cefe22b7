//! What a span costs the application thread, on issue 11's workload (a root span `request` with
//! 3 fields, entered; inside it 10 `llm_call` spans with 6 fields (`gen_ai.system` and
//! `gen_ai.request.model`, a 200-byte `gen_ai.prompt`, two integers and a float), each entered,
//! with one `info!` event, exited and closed; then the root closes: 11 spans, see
//! `benches/common/mod.rs`), along issue 11's ladder, in one criterion group:
//!
//! 1. `no subscriber`: `Dispatch::none()`;
//! 2. `floor`: the registry and a layer that does nothing;
//! 3. `tracing-honeyhive layer -> discarding sink`: this crate's layer with its defaults, its
//!    exporter delivering to the loopback sink of `benches/common/sink.rs`, which answers and
//!    counts but keeps nothing;
//! 4. `tracing-honeyhive layer -> local server`: the same, delivering to the local
//!    HoneyHive-compatible server (`Emulator`), which checks and stores everything;
//! 5. `tracing-opentelemetry + BatchSpanProcessor`: the bridge, with an exporter that discards;
//! 6. `tracing-opentelemetry + HoneyHiveExporter`: the same bridge exporting with this crate, to
//!    the local server;
//! 7. `fmt JSON -> io::sink`: tracing-subscriber's fmt layer in JSON, writing to `io::sink()`
//!    (it writes the 10 events, each with its span context; span closes are not logged).
//!
//! Criterion measures the wall time of one workload on the application thread. Criterion offers
//! spans faster than any pipeline delivers them, so the queues fill and part of each figure is
//! the cost of a drop; this crate's pipelines print what they did with the spans. A counting
//! global allocator then counts the application thread's allocations per span over 2,000
//! workloads, a figure that does not move with the machine's noise. For delivered throughput,
//! CPU per delivered span below saturation and memory, see `benches/throughput.rs`. Results and
//! the commands that made them are in BENCHMARKS.md:
//!
//! ```text
//! cargo bench --all-features --bench span_cost
//! cargo bench --all-features --bench span_cost -- --warm-up-time 1 --measurement-time 2
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group};
use opentelemetry::trace::TracerProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Dispatch;
use tracing_honeyhive::HoneyHiveLayer;
use tracing_honeyhive::emulator::Emulator;
use tracing_honeyhive::otel::HoneyHiveExporter;
use tracing_subscriber::layer::SubscriberExt;

mod common;

#[path = "../tests/common/counting.rs"]
mod counting;

use common::sink::Sink;
use common::{Discard, Noop, SPANS, workload};
use counting::{Counting, allocations};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A subject: its name, its subscriber, what must outlive the run, and this crate's counters
/// when it is this crate's.
struct Subject {
    name: &'static str,
    dispatch: Dispatch,
    _keep: Box<dyn std::any::Any>,
    handle: Option<tracing_honeyhive::Handle>,
}

impl Subject {
    fn new(name: &'static str, dispatch: Dispatch) -> Subject {
        Subject {
            name,
            dispatch,
            _keep: Box::new(()),
            handle: None,
        }
    }
}

/// This crate's layer, with defaults, sending to `url`.
fn layer(name: &'static str, url: String) -> Subject {
    let (layer, guard) = HoneyHiveLayer::builder()
        .with_api_url(url)
        .build()
        .expect("the layer builds");
    Subject {
        name,
        dispatch: Dispatch::new(tracing_subscriber::registry().with(layer)),
        handle: Some(guard.handle()),
        _keep: Box::new(guard),
    }
}

/// tracing-opentelemetry over a provider.
fn bridge(provider: &SdkTracerProvider) -> Dispatch {
    Dispatch::new(
        tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"))),
    )
}

/// The ladder, in issue 11's order.
fn subjects(sink: &Sink, server: &Emulator) -> Vec<Subject> {
    let none = Subject::new("no subscriber", Dispatch::none());
    let floor = Subject::new(
        "floor (registry + no-op layer)",
        Dispatch::new(tracing_subscriber::registry().with(Noop)),
    );
    let to_sink = layer("tracing-honeyhive layer -> discarding sink", sink.url());
    let to_server = layer("tracing-honeyhive layer -> local server", server.url());

    let discard = SdkTracerProvider::builder()
        .with_batch_exporter(Discard)
        .build();
    let bridged = Subject {
        name: "tracing-opentelemetry + BatchSpanProcessor (discarding)",
        dispatch: bridge(&discard),
        _keep: Box::new(discard),
        handle: None,
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
        name: "tracing-opentelemetry + HoneyHiveExporter (local server)",
        dispatch: bridge(&provider),
        _keep: Box::new(provider),
        handle: Some(handle),
    };

    let json = Subject::new(
        "fmt JSON -> io::sink",
        Dispatch::new(
            tracing_subscriber::registry().with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::sink),
            ),
        ),
    );
    vec![none, floor, to_sink, to_server, bridged, exported, json]
}

fn span_cost(c: &mut Criterion) {
    let sink = Sink::start().expect("the loopback sink starts");
    let server = Emulator::builder()
        .start()
        .expect("the local server starts");
    let prompt = common::prompt();
    let subjects = subjects(&sink, &server);
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
                "  {:<58} {} produced, {} delivered, {} dropped ({} queue full, {} over the byte \
                 budget)",
                subject.name,
                stats.produced(),
                stats.delivered(),
                stats.dropped.total(),
                stats.dropped.queue_full,
                stats.dropped.queue_bytes,
            );
        }
    }
    let received = sink.counts();
    println!(
        "  the discarding sink received {} requests, {} sessions, {} events, {} updates",
        received.requests, received.sessions, received.events, received.session_updates
    );

    // Counted twice: from where criterion left each subject, and again once a first pass has
    // warmed it (this crate's pool of spans fills only as the exporter takes spans in, so until
    // then, and for as long as the exporter is far behind, spans are allocated afresh).
    println!("\nheap allocations per span on the application thread (first pass, warm pass):");
    for subject in &subjects {
        let runs = 2_000;
        let per_span = || {
            let before = allocations();
            for _ in 0..runs {
                workload(&prompt);
            }
            (allocations() - before) as f64 / (runs * SPANS) as f64
        };
        let (first, warm) = tracing::dispatcher::with_default(&subject.dispatch, || {
            let first = per_span();
            if let Some(handle) = &subject.handle {
                // Let the exporter take in what it holds, as it would between bursts.
                let _ = handle.flush(Duration::from_secs(30));
            }
            (first, per_span())
        });
        println!("  {:<58} {first:>6.2} {warm:>6.2}", subject.name);
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
