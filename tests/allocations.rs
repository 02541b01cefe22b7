//! Closing a span allocates nothing on the application thread, so it can never wait for the
//! allocator's lock while the exporter frees spans. Counted with a counting global allocator, in
//! its own binary so that nothing else shares it.
#![cfg(feature = "emulator")]

use std::time::Duration;

use tracing::info_span;
use tracing_honeyhive::HoneyHiveLayer;
use tracing_honeyhive::emulator::Emulator;
use tracing_subscriber::layer::SubscriberExt;

#[path = "common/counting.rs"]
mod counting;

use counting::{Counting, allocations};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[test]
fn closing_a_span_allocates_nothing_on_the_application_thread() {
    let server = Emulator::builder().start().unwrap();
    let (layer, guard) = HoneyHiveLayer::builder()
        .with_api_url(server.url())
        .build()
        .unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
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
