//! The OpenTelemetry exporter against the local HoneyHive-compatible server over loopback HTTP:
//! SDK pipelines (batch and simple processors, tracing-opentelemetry) on every kind of runtime,
//! traces that arrive out of order or from several services, grouping, and parity with the
//! tracing layer; the span processor that stamps the same sessions and types on spans sent
//! through a stock OTLP pipeline.
#![cfg(all(feature = "emulator", feature = "opentelemetry"))]

#[path = "../common/mod.rs"]
mod common;

mod dialects;
mod parity;
mod pipelines;
mod processor;
mod propagation;
mod traces;

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanEvents, SpanLinks};
use tracing_honeyhive::emulator::Emulator;
use tracing_honeyhive::layer::Builder;
use tracing_honeyhive::otel::HoneyHiveExporter;
use tracing_honeyhive::wire::SessionTree;
use tracing_honeyhive::{Handle, Stats};

use common::outline;

const KEY: &str = "hh_otel_tests_0123456789abcdef";

/// How long a test waits for delivery before it fails.
const PATIENCE: Duration = Duration::from_secs(20);

fn server() -> Emulator {
    Emulator::builder().with_api_key(KEY).start().unwrap()
}

/// An exporter sending to `server`, adjusted by `configure`.
fn exporter(
    server: &Emulator,
    configure: impl FnOnce(Builder<HoneyHiveExporter>) -> Builder<HoneyHiveExporter>,
) -> HoneyHiveExporter {
    let builder = HoneyHiveExporter::builder()
        .with_api_key(KEY)
        .with_api_url(server.url())
        .with_source("test")
        .with_flush_interval(Duration::from_millis(100));
    configure(builder).build().expect("the exporter builds")
}

fn resource(service: &str) -> Resource {
    Resource::builder_empty()
        .with_service_name(service.to_owned())
        .build()
}

/// A provider with a batch processor around `exporter`, for `service`.
fn batch_provider(exporter: HoneyHiveExporter, service: &str) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_resource(resource(service))
        .with_batch_exporter(exporter)
        .build()
}

/// Every span produced was delivered, and the books balance.
#[track_caller]
fn assert_all_delivered(stats: &Stats) {
    assert!(stats.produced() > 0, "{stats:#?}");
    assert_eq!(stats.delivered(), stats.produced(), "{stats:#?}");
    assert_eq!(stats.lost(), 0, "{stats:#?}");
    assert_eq!(stats.pending(), 0, "{stats:#?}");
}

/// The only session on the server, as a tree.
#[track_caller]
fn only_tree(server: &Emulator) -> SessionTree {
    let sessions = server.sessions();
    assert_eq!(sessions.len(), 1, "sessions: {sessions:#?}");
    let id = sessions[0].session_id.clone().unwrap();
    server.tree(&id).unwrap()
}

/// A finished span as an SDK would hand it over: trace `trace`, id `span`, parent `parent`
/// (0 for none), starting `start` ms after a fixed instant and lasting `length` ms.
struct Made {
    trace: u128,
    span: u64,
    parent: u64,
    remote_parent: bool,
    name: &'static str,
    start: u64,
    length: u64,
    attributes: Vec<KeyValue>,
}

impl Made {
    fn new(trace: u128, span: u64, parent: u64, name: &'static str) -> Made {
        Made {
            trace,
            span,
            parent,
            remote_parent: false,
            name,
            start: span * 10,
            length: 5,
            attributes: Vec::new(),
        }
    }

    fn with(mut self, attribute: KeyValue) -> Made {
        self.attributes.push(attribute);
        self
    }

    fn data(self) -> SpanData {
        let base = SystemTime::UNIX_EPOCH + Duration::from_millis(1_760_000_000_000);
        let start = base + Duration::from_millis(self.start);
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(self.trace),
                SpanId::from(self.span),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: if self.parent == 0 {
                SpanId::INVALID
            } else {
                SpanId::from(self.parent)
            },
            parent_span_is_remote: self.remote_parent,
            span_kind: SpanKind::Internal,
            name: Cow::Borrowed(self.name),
            start_time: start,
            end_time: start + Duration::from_millis(self.length),
            attributes: self.attributes,
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::builder("tests").build(),
        }
    }
}

/// Exports `batches` in order, as a batch processor would, without any runtime.
fn export(exporter: &HoneyHiveExporter, batches: Vec<Vec<SpanData>>) {
    use opentelemetry_sdk::trace::SpanExporter;
    for batch in batches {
        futures_executor_block_on(exporter.export(batch)).expect("export accepts the batch");
    }
}

/// A minimal executor for an `export` future, which is ready at once: the exporter never needs
/// a runtime.
fn futures_executor_block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("export() returned a future that was not ready at once"),
    }
}

/// A handle's stats once everything queued was delivered.
#[track_caller]
fn flushed(handle: &Handle) -> Stats {
    match handle.flush(PATIENCE) {
        Ok(report) => report.stats,
        Err(error) => panic!("flush failed: {error:?}"),
    }
}
