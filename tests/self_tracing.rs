//! The exporter's own tracing — its HTTP client's, its diagnostics, its `honeyhive.send` spans —
//! never comes back into the layer, with a subscriber installed globally at TRACE level as an
//! application would, `log` records included. Its own binary: the global subscriber is set once.
#![cfg(feature = "emulator")]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing::level_filters::LevelFilter;
use tracing::{Subscriber, info_span};
use tracing_honeyhive::HoneyHiveLayer;
use tracing_honeyhive::emulator::Emulator;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// Counts spans and events per thread name.
#[derive(Clone, Default)]
struct PerThread(Arc<Mutex<HashMap<String, (usize, usize)>>>);

impl PerThread {
    fn bump(&self, span: bool) {
        let name = std::thread::current()
            .name()
            .unwrap_or("unnamed")
            .to_owned();
        let mut counts = self.0.lock().unwrap();
        let entry = counts.entry(name).or_default();
        if span {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }

    /// (spans, events) seen on the exporter's threads.
    fn exporter(&self) -> (usize, usize) {
        let counts = self.0.lock().unwrap();
        counts
            .iter()
            .filter(|(name, _)| name.starts_with("honeyhive-"))
            .fold((0, 0), |(s, e), (_, (ds, de))| (s + ds, e + de))
    }
}

impl<S: Subscriber> Layer<S> for PerThread {
    fn on_new_span(
        &self,
        _: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: Context<'_, S>,
    ) {
        self.bump(true);
    }

    fn on_event(&self, _: &tracing::Event<'_>, _: Context<'_, S>) {
        self.bump(false);
    }
}

/// Everything the fmt layer writes, to look for the key in it.
#[derive(Clone, Default)]
struct Written(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Written {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const KEY: &str = "hh_self_tracing_0123456789abcdef";

#[test]
fn the_exporters_own_tracing_never_becomes_sessions_or_events() {
    let server = Emulator::builder().with_api_key(KEY).start().unwrap();
    let (layer, guard) = HoneyHiveLayer::builder()
        .with_api_key(KEY)
        .with_api_url(server.url())
        .with_flush_interval(Duration::from_millis(20))
        .with_verbose(true)
        .build()
        .unwrap();
    let seen = PerThread::default();
    let written = Written::default();
    tracing_subscriber::registry()
        .with(layer)
        .with(seen.clone())
        .with({
            let written = written.clone();
            tracing_subscriber::fmt::layer().with_writer(move || written.clone())
        })
        .with(LevelFilter::TRACE)
        .init();

    for turn in 0..3 {
        let _root = info_span!("turn", turn).entered();
        drop(info_span!("retrieve").entered());
        drop(info_span!("answer").entered());
    }
    let report = guard.flush(Duration::from_secs(20)).unwrap();
    assert_eq!(report.stats.delivered(), 9);
    let requests = server.requests().len();
    // Let anything the exporter traced while sending have its chance to loop back.
    std::thread::sleep(Duration::from_millis(300));
    guard.flush(Duration::from_secs(20)).unwrap();

    let (spans, events) = seen.exporter();
    assert!(spans >= 3, "the exporter traced its work: {:?}", seen.0);
    assert!(
        events >= 1,
        "the exporter's log reached the subscriber: {:?}",
        seen.0
    );
    assert_eq!(
        server.sessions().len(),
        3,
        "only the application's sessions"
    );
    assert_eq!(server.events().len(), 6, "only the application's events");
    assert_eq!(server.requests().len(), requests, "nothing more was sent");
    let stats = guard.stats();
    assert_eq!(stats.spans_queued, 9, "{stats:?}");
    // A refusal that echoes the key, logged at TRACE by every crate involved.
    server.inject(
        tracing_honeyhive::emulator::Fault::status(400)
            .with_body("text/plain", format!("no such thing as Bearer {KEY}"))
            .on_path("/v1/sessions/"),
    );
    drop(info_span!("turn", turn = 4).in_scope(|| info_span!("refused").entered()));
    guard.flush(Duration::from_secs(20)).unwrap();
    let written = String::from_utf8_lossy(&written.0.lock().unwrap()).into_owned();
    assert!(
        written.contains("no such thing as Bearer hh_"),
        "the refusal was logged"
    );
    assert!(written.contains("TRACE"), "the log ran at TRACE");
    assert!(!written.contains(KEY), "the key never reaches the log");
}
