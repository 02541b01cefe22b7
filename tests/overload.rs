//! Overload at three levels against a server that is down: spans far beyond what can be sent are
//! dropped and counted exactly, and memory stays flat — the exporter holds at most its capacity,
//! whatever the load. Its own binary, so that the process's peak memory is this test's alone.

use std::time::Duration;

use tracing::info_span;
use tracing_honeyhive::HoneyHiveLayer;
use tracing_subscriber::layer::SubscriberExt;

#[path = "common/mod.rs"]
mod common;
use common::{closed_url, peak_rss_kib};

#[test]
fn memory_stays_flat_and_counts_stay_exact_at_three_load_levels() {
    const CAPACITY: usize = 2048;
    let url = closed_url();
    let (layer, guard) = HoneyHiveLayer::builder()
        .with_api_url(url)
        .with_timeout(Duration::from_millis(50))
        .with_max_retry_time(Duration::from_millis(200))
        .with_queue_capacity(CAPACITY)
        .build()
        .unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let prompt = "p".repeat(200);
    let mut produced = 0u64;
    let mut peaks = Vec::new();
    for sessions in [2_000, 6_000, 18_000] {
        tracing::dispatcher::with_default(&dispatch, || {
            for _ in 0..sessions {
                let _root = info_span!("request", inputs.q = prompt.as_str()).entered();
                for _ in 0..9 {
                    drop(info_span!("llm_call", gen_ai.prompt = prompt.as_str()).entered());
                }
            }
        });
        produced += sessions * 10;
        let stats = guard.stats();
        assert_eq!(stats.produced(), produced, "{stats:?}");
        assert!(stats.pending() <= CAPACITY as u64, "{stats:?}");
        peaks.push(peak_rss_kib());
        eprintln!(
            "level {sessions} sessions: {produced} spans produced in all, {} dropped (queue full), \
             peak RSS {} KiB",
            stats.dropped.queue_full,
            peaks.last().unwrap()
        );
    }
    let report = guard.shutdown(Duration::from_millis(500));
    let stats = report.stats;
    assert_eq!(stats.pending(), 0, "{stats:?}");
    assert_eq!(
        stats.produced(),
        stats.delivered() + stats.refused() + stats.failed() + stats.dropped.total()
    );
    assert_eq!(stats.delivered(), 0, "the server is down");
    // Nine times the load of the first level, within a few MiB of its peak.
    let growth = peaks[2].saturating_sub(peaks[0]);
    assert!(
        growth < 16 * 1024,
        "peak RSS grew {growth} KiB with the load: {peaks:?}"
    );
}
