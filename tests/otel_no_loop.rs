//! With tracing-opentelemetry as the global subscriber, the spans the exporter's own threads make
//! (its sends, its HTTP client's) must not come back through it as spans to export: only the
//! application's trace arrives. A binary of its own, since it sets the global subscriber.
#![cfg(all(feature = "emulator", feature = "opentelemetry"))]

use std::time::Duration;

use opentelemetry::trace::TracerProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_honeyhive::emulator::Emulator;
use tracing_honeyhive::otel::HoneyHiveExporter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

#[test]
fn the_exporters_own_spans_never_become_spans_to_export() {
    let server = Emulator::builder().start().unwrap();
    let exporter = HoneyHiveExporter::builder()
        .with_api_url(server.url())
        .with_flush_interval(Duration::from_millis(50))
        .build()
        .unwrap();
    let handle = exporter.handle();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .build();
    // Every level enabled: the exporter's DEBUG `honeyhive.send` spans would be recorded.
    tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("app")))
        .init();

    for turn in 0..3 {
        let _turn = tracing::info_span!("turn", turn).entered();
        let _llm = tracing::debug_span!("llm").entered();
    }
    // Several rounds of sending, each of which would feed the next if the spans looped.
    for _ in 0..3 {
        provider.force_flush().unwrap();
        handle.flush(Duration::from_secs(20)).expect("delivered");
        std::thread::sleep(Duration::from_millis(100));
    }
    provider.shutdown().unwrap();
    let stats = handle.stats();
    assert_eq!(stats.produced(), 6, "{stats:#?}");
    assert_eq!(stats.delivered(), 6, "{stats:#?}");
    let names: Vec<_> = server
        .sessions()
        .into_iter()
        .map(|s| s.event_name.unwrap_or_default())
        .collect();
    assert_eq!(names, ["turn", "turn", "turn"]);
}
