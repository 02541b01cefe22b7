//! `#[trace]` and `traced!` through the layer into the local server, and under other
//! subscribers: what each traced call records, on every path it leaves by.
#![cfg(all(feature = "emulator", feature = "macros"))]

#[path = "../common/mod.rs"]
mod common;

mod blocks;
mod calls;
mod nesting;
mod subscribers;

use std::time::Duration;

use serde_json::Value;
use tracing::Dispatch;
use tracing_honeyhive::emulator::Emulator;
use tracing_honeyhive::layer::Builder;
use tracing_honeyhive::wire::EventRecord;
use tracing_honeyhive::{Guard, HoneyHiveLayer};
use tracing_subscriber::layer::SubscriberExt;

const PATIENCE: Duration = Duration::from_secs(20);

/// A local server and a subscriber whose layer sends to it.
struct Harness {
    server: Emulator,
    guard: Guard,
    dispatch: Dispatch,
}

impl Harness {
    fn new() -> Harness {
        Harness::with(|builder| builder)
    }

    fn with(configure: impl FnOnce(Builder) -> Builder) -> Harness {
        let server = Emulator::builder().start().unwrap();
        let builder = HoneyHiveLayer::builder()
            .with_api_url(server.url())
            .with_flush_interval(Duration::from_millis(100));
        let (layer, guard) = configure(builder).build().unwrap();
        let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
        Harness {
            server,
            guard,
            dispatch,
        }
    }

    fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        tracing::dispatcher::with_default(&self.dispatch, f)
    }

    /// Runs `future` on a runtime whose threads all have the harness's subscriber.
    fn block_on<T>(&self, future: impl std::future::Future<Output = T>) -> T {
        let dispatch = self.dispatch.clone();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .on_thread_start(move || {
                // Kept for the thread's life: the guard is forgotten on purpose.
                std::mem::forget(tracing::dispatcher::set_default(&dispatch));
            })
            .build()
            .unwrap();
        self.run(|| runtime.block_on(future))
    }

    fn flush(&self) {
        let report = self.guard.flush(PATIENCE).expect("everything is delivered");
        let stats = self.guard.stats();
        assert_eq!(stats.delivered(), stats.produced(), "{report:?} {stats:#?}");
    }

    /// The only session, as a tree outline (`name [type]`, indented by depth).
    fn outline(&self) -> Vec<String> {
        let sessions = self.server.sessions();
        assert_eq!(sessions.len(), 1, "sessions: {sessions:#?}");
        let id = sessions[0].session_id.clone().unwrap();
        common::outline(&self.server.tree(&id).unwrap())
    }

    /// The stored event named `name` (exactly one), a session included.
    fn event(&self, name: &str) -> EventRecord {
        let found: Vec<EventRecord> = self
            .server
            .sessions()
            .into_iter()
            .chain(self.server.events())
            .filter(|e| e.event_name.as_deref() == Some(name))
            .collect();
        assert_eq!(found.len(), 1, "events named {name}: {found:#?}");
        found.into_iter().next().unwrap()
    }
}

fn object(value: &Option<Value>) -> Value {
    value.clone().unwrap_or_else(|| serde_json::json!({}))
}
