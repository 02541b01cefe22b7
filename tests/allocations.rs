//! What the layer allocates on the application thread, counted with a counting global allocator
//! in its own binary so that nothing else shares it: closing a span allocates nothing, so it can
//! never wait for the allocator's lock while the exporter frees spans; and once the pool of spans
//! is warm, a span with its fields and an event costs one allocation, the registry's own box for
//! the layer's data.
#![cfg(feature = "emulator")]

use std::time::Duration;

use tracing::info_span;
use tracing_honeyhive::HoneyHiveLayer;
use tracing_honeyhive::emulator::Emulator;
use tracing_subscriber::layer::SubscriberExt;

#[path = "common/counting.rs"]
mod counting;
#[path = "../benches/common/workload.rs"]
mod workload;

use counting::{Counting, allocations};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The layer with its defaults, sending to a local server: the server (kept alive), the guard and
/// the subscriber.
fn pipeline() -> (Emulator, tracing_honeyhive::Guard, tracing::Dispatch) {
    let server = Emulator::builder().start().unwrap();
    let (layer, guard) = HoneyHiveLayer::builder()
        .with_api_url(server.url())
        .build()
        .unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    (server, guard, dispatch)
}

#[test]
fn closing_a_span_allocates_nothing_on_the_application_thread() {
    let (_server, guard, dispatch) = pipeline();
    let (mut in_close, mut in_open) = (Vec::new(), Vec::new());
    tracing::dispatcher::with_default(&dispatch, || {
        for _ in 0..100 {
            let before = allocations();
            let root = info_span!("request", inputs.q = "where is my order?").entered();
            let child = info_span!("llm_call", gen_ai.request.model = "gpt-4o", n = 3).entered();
            tracing::info!("a log line kept in the span");
            let opened = allocations();
            drop(child);
            drop(root);
            in_close.push(allocations() - opened);
            in_open.push(opened - before);
        }
    });
    let report = guard.flush(Duration::from_secs(20)).expect("delivered");
    assert_eq!(report.stats.delivered(), 200);
    eprintln!(
        "allocations on the application thread, per request of two spans: opening and \
         recording {:?} (first, last), closing {:?} (most)",
        (in_open[0], in_open[99]),
        in_close.iter().max()
    );
    assert!(
        in_close.iter().all(|&n| n == 0),
        "closing spans allocated: {in_close:?}"
    );
}

#[test]
fn a_warm_span_with_fields_and_an_event_costs_one_allocation() {
    let (_server, guard, dispatch) = pipeline();
    let prompt = "p".repeat(200);
    let call = |i: i64| {
        let span = info_span!(
            "llm_call",
            gen_ai.system = "openai",
            gen_ai.request.model = "gpt-4o-mini",
            gen_ai.prompt = prompt.as_str(),
            gen_ai.usage.input_tokens = 120 + i,
            gen_ai.usage.output_tokens = 40 + i,
            gen_ai.request.temperature = 0.2,
        )
        .entered();
        tracing::info!(i, "calling the model");
        drop(span);
    };
    let (mut counts, mut workloads) = (Vec::new(), Vec::new());
    tracing::dispatcher::with_default(&dispatch, || {
        for round in 0..5 {
            let start = allocations();
            let root = info_span!("request", user = "u-1", attempt = round).entered();
            for i in 0..10 {
                let before = allocations();
                call(i);
                counts.push(allocations() - before);
            }
            drop(root);
            workloads.push(allocations() - start);
            // The worker takes every span in and gives its box and buffers back.
            guard.flush(Duration::from_secs(20)).expect("delivered");
        }
    });
    assert_eq!(guard.stats().delivered(), 55);
    // The first round warms the pool and the registry; after it, one allocation per span.
    let warm = &counts[10..];
    assert!(
        warm.iter().all(|&n| n == 1),
        "allocations per warm span: {counts:?}"
    );
    // A root starting its session costs its extension box, the session's seed and the seed's own
    // copy of its fields (a list and one text): 14 for the whole workload of 11 spans. Every
    // other round counts one more, whose source is not pinned down yet. Issue 11's bound is 22.
    eprintln!("allocations per workload of 11 spans: {workloads:?}");
    assert!(
        workloads[1..].iter().all(|&n| n <= 15),
        "allocations per warm workload: {workloads:?}"
    );
}

#[test]
fn a_trace_turned_away_by_a_refilling_queue_allocates_nothing() {
    // Room for 8 spans and a server too slow to settle any while the test runs: the first trace
    // fills the queue, and every trace after it starts while the queue refills.
    let server = Emulator::builder().start().unwrap();
    server.set_latency(Duration::from_secs(2));
    let (layer, guard) = HoneyHiveLayer::builder()
        .with_api_url(server.url())
        .with_queue_capacity(8)
        .build()
        .unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let prompt = "p".repeat(200);
    let trace = || {
        let _root = info_span!("request", user = "u-1").entered();
        for i in 0..10 {
            let _call = info_span!(
                "llm_call",
                gen_ai.request.model = "gpt-4o-mini",
                gen_ai.prompt = prompt.as_str(),
                i
            )
            .entered();
            tracing::info!(i, "calling the model");
        }
    };
    let mut counts = Vec::new();
    tracing::dispatcher::with_default(&dispatch, || {
        trace();
        // Warms the registry's slots for the traces turned away.
        trace();
        for _ in 0..20 {
            let before = allocations();
            trace();
            counts.push(allocations() - before);
        }
    });
    let stats = guard.stats();
    assert_eq!(stats.spans_queued, 8, "{stats:?}");
    assert_eq!(stats.dropped.queue_full, 22 * 11 - 8, "{stats:?}");
    assert!(
        counts.iter().all(|&n| n == 0),
        "allocations per trace turned away: {counts:?}"
    );
}

#[test]
fn a_burst_after_a_quiet_time_records_into_spans_the_worker_gives_back() {
    // The pool keeps up to 1,024 spare spans. A burst of 3,300 after a quiet time, with the
    // worker idle until its next tick and the wake-up mark (4,096 spans held) out of reach, used to record every span past the spares into five new allocations.
    // Now the first span that finds the pool empty wakes the worker, which takes the burst in
    // and gives the boxes back as it goes. A long flush interval puts the tick (a quarter of it)
    // far from the burst, so that only a wake-up brings the worker to it in time.
    let server = Emulator::builder().start().unwrap();
    let (layer, guard) = HoneyHiveLayer::builder()
        .with_api_url(server.url())
        .with_flush_interval(Duration::from_secs(8))
        .build()
        .unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let prompt = workload::prompt();
    let per_span = tracing::dispatcher::with_default(&dispatch, || {
        // Warm: 2,200 spans delivered, their boxes back in the pool.
        (0..200).for_each(|_| workload::workload(&prompt));
        guard.flush(Duration::from_secs(20)).expect("delivered");
        // Quiet: the worker finds nothing and goes back to its tick.
        std::thread::sleep(Duration::from_millis(50));
        // The burst: 3,300 spans in six runs of 550, a couple of milliseconds apart (time for a
        // woken worker to run, far less than its tick).
        let before = allocations();
        for _ in 0..6 {
            (0..50).for_each(|_| workload::workload(&prompt));
            std::thread::sleep(Duration::from_millis(2));
        }
        (allocations() - before) as f64 / (300 * workload::SPANS) as f64
    });
    eprintln!("allocations per span in a burst after a quiet time: {per_span:.2}");
    // About 1.5 when the worker takes the burst in as it comes; about 5 when it sleeps through.
    assert!(
        per_span <= 3.0,
        "allocations per span in the burst: {per_span:.2}"
    );
    let report = guard.shutdown(Duration::from_secs(20));
    assert_eq!(report.stats.delivered(), 5_500);
}
