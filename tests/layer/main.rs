//! The tracing layer and its pipeline against the local HoneyHive-compatible server over
//! loopback HTTP: what each span becomes, and how delivery behaves under load and failure.
#![cfg(feature = "emulator")]

#[path = "../common/mod.rs"]
mod common;

mod bounds;
mod delivery;
mod faults;
mod late;
mod mapping;
mod propagation;
mod properties;
mod redaction;
mod sessions;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tracing::Dispatch;
use tracing_honeyhive::emulator::Emulator;
use tracing_honeyhive::layer::Builder;
use tracing_honeyhive::wire::{EventRecord, SessionTree};
use tracing_honeyhive::{Guard, HoneyHiveLayer, Report};
use tracing_subscriber::layer::SubscriberExt;

const KEY: &str = "hh_layer_tests_0123456789abcdef";

/// How long a test waits for delivery before it fails.
const PATIENCE: Duration = Duration::from_secs(20);

/// A local server, a layer sending to it, and a subscriber holding the layer and a layer that
/// captures the exporter's own messages.
struct Harness {
    server: Emulator,
    guard: Guard,
    dispatch: Dispatch,
    diagnostics: Captured,
}

/// Messages of target `tracing_honeyhive` seen by the subscriber: (level, message).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<(tracing::Level, String)>>>);

impl Captured {
    fn messages(&self) -> Vec<(tracing::Level, String)> {
        self.0.lock().unwrap().clone()
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Captured {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() != "tracing_honeyhive" {
            return;
        }
        struct Message<'a>(&'a mut String);
        impl tracing::field::Visit for Message<'_> {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0.push_str(&format!("{value:?}"));
                }
            }
        }
        let mut text = String::new();
        event.record(&mut Message(&mut text));
        self.0
            .lock()
            .unwrap()
            .push((*event.metadata().level(), text));
    }
}

impl Harness {
    fn new() -> Harness {
        Harness::with(|builder| builder)
    }

    /// A harness whose builder `configure` adjusts (after the server's URL and key are set).
    fn with(configure: impl FnOnce(Builder) -> Builder) -> Harness {
        let server = Emulator::builder().with_api_key(KEY).start().unwrap();
        Harness::on(server, configure)
    }

    /// A harness whose server first answers with `faults`, in order.
    fn with_faults(
        faults: impl IntoIterator<Item = tracing_honeyhive::emulator::Fault>,
    ) -> Harness {
        let server = Emulator::builder().with_api_key(KEY).start().unwrap();
        for fault in faults {
            server.inject(fault);
        }
        Harness::on(server, |builder| builder)
    }

    fn on(server: Emulator, configure: impl FnOnce(Builder) -> Builder) -> Harness {
        let builder = HoneyHiveLayer::builder()
            .with_api_key(KEY)
            .with_api_url(server.url())
            .with_source("test")
            .with_flush_interval(Duration::from_millis(100));
        let (layer, guard) = configure(builder).build().expect("the layer builds");
        let diagnostics = Captured::default();
        let subscriber = tracing_subscriber::registry()
            .with(layer)
            .with(diagnostics.clone());
        Harness {
            server,
            guard,
            dispatch: Dispatch::new(subscriber),
            diagnostics,
        }
    }

    /// Shuts the exporter down; the server, to inspect, and the report.
    fn shutdown(self, timeout: Duration) -> (Emulator, Report) {
        let report = self.guard.shutdown(timeout);
        (self.server, report)
    }

    /// Runs `f` with the harness's subscriber as the default.
    fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        tracing::dispatcher::with_default(&self.dispatch, f)
    }

    /// Flushes and asserts everything queued was delivered.
    fn flush(&self) -> Report {
        match self.guard.flush(PATIENCE) {
            Ok(report) => report,
            Err(error) => panic!("flush failed: {error:?}"),
        }
    }

    /// The only session on the server, as a tree.
    fn only_tree(&self) -> SessionTree {
        let sessions = self.server.sessions();
        assert_eq!(sessions.len(), 1, "sessions: {sessions:#?}");
        let id = sessions[0].session_id.clone().unwrap();
        self.server.tree(&id).unwrap()
    }

    /// The stored event named `name` (there must be exactly one).
    fn event(&self, name: &str) -> EventRecord {
        let found: Vec<EventRecord> = self
            .server
            .events()
            .into_iter()
            .filter(|e| e.event_name.as_deref() == Some(name))
            .collect();
        assert_eq!(found.len(), 1, "events named {name}: {found:#?}");
        found.into_iter().next().unwrap()
    }
}

/// A JSON object field of a stored event, or `{}`.
fn object(value: &Option<Value>) -> Value {
    value.clone().unwrap_or_else(|| serde_json::json!({}))
}
