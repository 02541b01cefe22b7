//! [`HoneyHiveExporter`]: the `SpanExporter`, and the builder methods that make it. `export`
//! converts each span and hands it to the same pipeline the layer uses, without blocking and
//! without needing an async runtime.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use foldhash::HashSet;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use super::convert::{Converter, Derived};
use crate::config::{self, EnvLookup};
use crate::error::Error;
use crate::layer::Builder;
use crate::layer::builder::Resolved;
use crate::pipeline::{self, FlushError, Guard, Handle, Producer, Report, Stats};

/// An OpenTelemetry [`SpanExporter`] that sends to HoneyHive: each trace becomes a session, its
/// root span the session itself and every other span an event, mapped as the tracing layer maps
/// spans. Build it with [`HoneyHiveExporter::builder`]; give it to a `BatchSpanProcessor` (or a
/// `SimpleSpanProcessor`).
///
/// `export` only converts and queues (it never waits for the network, and needs no async
/// runtime); the exporter's own thread sends. Shutting the provider down delivers what is
/// queued within the deadline. A `BatchSpanProcessor` does not pass its `force_flush` on to the
/// exporter: to wait for delivery, call [`Handle::flush`] (from [`handle`](Self::handle)) after
/// the provider's `force_flush`.
///
/// ```
/// # #[cfg(feature = "emulator")] {
/// use opentelemetry::trace::{Tracer, TracerProvider};
/// use opentelemetry_sdk::trace::SdkTracerProvider;
/// use tracing_honeyhive::otel::HoneyHiveExporter;
/// # let server = tracing_honeyhive::emulator::Emulator::builder().start().unwrap();
///
/// let exporter = HoneyHiveExporter::builder()
///     .with_api_url(server.url()) // else HH_API_URL, else HoneyHive's data plane
///     .build()?;
/// let handle = exporter.handle();
/// let provider = SdkTracerProvider::builder().with_batch_exporter(exporter).build();
/// let tracer = provider.tracer("support-bot");
/// tracer.in_span("chat turn", |_| {
///     tracer.in_span("llm", |_| {});
/// });
/// provider.shutdown().unwrap(); // delivers what is queued
/// assert_eq!(handle.stats().delivered(), 2);
/// # assert_eq!(server.sessions().len(), 1);
/// # }
/// # Ok::<(), tracing_honeyhive::Error>(())
/// ```
pub struct HoneyHiveExporter {
    /// `None` when sending is disabled.
    producer: Option<Producer>,
    handle: Handle,
    guard: Mutex<Option<Guard>>,
    converter: Converter,
    /// `with_shutdown_timeout`: what `force_flush` and `shutdown` wait at most.
    flush_timeout: Duration,
    /// Spans recently handed over, to hand none over twice.
    recent: Mutex<Recent>,
    /// The dispatcher the exporter's own messages go to was passed on.
    registered: AtomicBool,
    shut_down: AtomicBool,
}

impl std::fmt::Debug for HoneyHiveExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HoneyHiveExporter")
            .field("enabled", &self.producer.is_some())
            .field("shut_down", &self.shut_down.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl HoneyHiveExporter {
    /// A builder; the settings and their `HH_*` environment variables are the layer's (see
    /// [`Builder`]), plus [`with_root_wait`](Builder::with_root_wait).
    pub fn builder() -> Builder<HoneyHiveExporter> {
        Builder::default()
    }

    /// A handle to flush, read counters and replace the key, which stays usable after the
    /// exporter moved into a span processor.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// The counters now.
    pub fn stats(&self) -> Stats {
        self.handle.stats()
    }

    /// The exporter's messages (refusals, drops) are `tracing` events: they go to the
    /// dispatcher of the first thread that exports, typically the application's global one.
    fn register_dispatch(&self, producer: &Producer) {
        if self.registered.load(Ordering::Relaxed) {
            return;
        }
        tracing::dispatcher::get_default(|dispatch| {
            if !dispatch.is::<tracing::subscriber::NoSubscriber>()
                && !self.registered.swap(true, Ordering::Relaxed)
            {
                producer.register(dispatch);
            }
        });
    }
}

impl SpanExporter for HoneyHiveExporter {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let result = if self.shut_down.load(Ordering::Acquire) {
            Err(OTelSdkError::AlreadyShutdown)
        } else {
            if let Some(producer) = &self.producer {
                self.register_dispatch(producer);
                let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
                let (mut truncated, mut repeated) = (0, 0);
                let mut ids = Derived::default();
                for span in batch {
                    let context = &span.span_context;
                    let id = (context.trace_id().to_bytes(), context.span_id().to_bytes());
                    if recent.first_time(id) {
                        producer.send_with(|| {
                            self.converter.convert_in(span, &mut ids, &mut truncated)
                        });
                    } else {
                        repeated += 1;
                    }
                }
                drop(recent);
                producer.count_truncated(truncated);
                if repeated > 0 {
                    producer.count_repeated(repeated);
                }
            }
            Ok(())
        };
        std::future::ready(result)
    }

    /// Sends what is queued and waits for the answers, at most the shutdown timeout
    /// ([`Builder::with_shutdown_timeout`]).
    fn force_flush(&self) -> OTelSdkResult {
        match self.handle.flush(self.flush_timeout) {
            Ok(report) => outcome(&report, self.flush_timeout),
            Err(FlushError::Timeout { timeout, .. }) => Err(OTelSdkError::Timeout(timeout)),
            Err(FlushError::ShutDown) => Err(OTelSdkError::AlreadyShutdown),
        }
    }

    /// [`shutdown_with_timeout`](Self::shutdown_with_timeout) with the exporter's own deadline
    /// ([`Builder::with_shutdown_timeout`], 5 s by default), which is what a
    /// `BatchSpanProcessor` calls.
    fn shutdown(&self) -> OTelSdkResult {
        self.shutdown_with_timeout(self.flush_timeout)
    }

    /// Delivers what is queued within `timeout`, then stops; what is still undelivered then is
    /// dropped and counted ([`Dropped::shutdown`](crate::Dropped::shutdown)).
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.shut_down.store(true, Ordering::Release);
        let guard = self
            .guard
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        match guard {
            Some(guard) => outcome(&guard.shutdown(timeout), timeout),
            None => Err(OTelSdkError::AlreadyShutdown),
        }
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.converter.set_resource(resource);
    }
}

/// How many span ids the exporter remembers to recognise a span exported twice.
const RECENT_SPANS: usize = 65_536;

/// The trace and span ids of the spans handed over most recently, at most [`RECENT_SPANS`]: a
/// batch exported again (a retry upstream) is not sent twice.
#[derive(Debug, Default)]
struct Recent {
    seen: HashSet<([u8; 16], [u8; 8])>,
    order: VecDeque<([u8; 16], [u8; 8])>,
}

impl Recent {
    /// Whether `id` was not among the recent spans; it is from now on.
    fn first_time(&mut self, id: ([u8; 16], [u8; 8])) -> bool {
        if !self.seen.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > RECENT_SPANS
            && let Some(oldest) = self.order.pop_front()
        {
            self.seen.remove(&oldest);
        }
        true
    }
}

/// A flush's or a shutdown's report as the SDK's result: an error when something was not
/// delivered, saying what.
fn outcome(report: &Report, timeout: Duration) -> OTelSdkResult {
    if report.undelivered > 0 {
        Err(OTelSdkError::Timeout(timeout))
    } else if report.failed > 0 {
        Err(OTelSdkError::InternalFailure(format!(
            "{} span(s) were refused or failed ({} delivered)",
            report.failed, report.delivered
        )))
    } else {
        Ok(())
    }
}

/// Settings of the OpenTelemetry exporter alone.
impl Builder<HoneyHiveExporter> {
    /// How long the spans of a trace wait for its root span before they are sent without it.
    /// Spans end before their parents, and a `BatchSpanProcessor` may export a trace's children
    /// in one batch and its root in a later one: waiting lets the session be created whole
    /// (its name, inputs, start) rather than completed later. A trace whose root is in another
    /// service is sent after this wait. A flush or shutdown sends at once. Default: 10 s.
    pub fn with_root_wait(mut self, wait: Duration) -> Self {
        self.set_root_wait(wait);
        self
    }

    /// Resolves the settings against the `HH_*` environment, checks them, and starts the
    /// exporter thread.
    pub fn build(self) -> Result<HoneyHiveExporter, Error> {
        self.build_with_env(&config::process_env)
    }

    pub(crate) fn build_with_env(self, env: EnvLookup<'_>) -> Result<HoneyHiveExporter, Error> {
        let (settings, producer, guard, flush_timeout) = match self.resolve(env)? {
            Resolved::Disabled(settings) => (settings, None, Guard::disabled(), Duration::ZERO),
            Resolved::Enabled(settings, mut setup) => {
                // Spans created on the exporter's threads (its HTTP client's) must not come back
                // through an OpenTelemetry layer as spans to export.
                setup.quiet_threads = true;
                let timeout = setup.shutdown_timeout;
                let (producer, guard) = pipeline::start(*setup)
                    .map_err(|e| Error::config("exporter thread", e.to_string()))?;
                (settings, Some(producer), guard, timeout)
            }
        };
        Ok(HoneyHiveExporter {
            producer,
            handle: guard.handle(),
            guard: Mutex::new(Some(guard)),
            converter: Converter::new(&settings),
            flush_timeout,
            recent: Mutex::default(),
            registered: AtomicBool::new(false),
            shut_down: AtomicBool::new(false),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use opentelemetry::InstrumentationScope;
    use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};

    use super::*;
    use crate::config::test_env as env;

    fn root(trace: u128) -> SpanData {
        let now = std::time::SystemTime::now();
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(trace),
                SpanId::from(1),
                TraceFlags::SAMPLED,
                false,
                Default::default(),
            ),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: Cow::Borrowed("root"),
            start_time: now,
            end_time: now,
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::builder("t").build(),
        }
    }

    /// Polls an `export` future, which is ready at once.
    fn run(future: impl std::future::Future<Output = OTelSdkResult>) -> OTelSdkResult {
        let mut future = std::pin::pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(result) => result,
            std::task::Poll::Pending => panic!("export is never pending"),
        }
    }

    #[test]
    fn the_exporter_reads_the_same_environment_as_the_layer() {
        let refused = HoneyHiveExporter::builder()
            .build_with_env(&env(&[("HH_API_KEY", "k"), ("HH_BATCH_SIZE", "0")]))
            .unwrap_err();
        assert!(refused.to_string().contains("HH_BATCH_SIZE"), "{refused}");
        let missing_key = HoneyHiveExporter::builder()
            .build_with_env(&env(&[]))
            .unwrap_err();
        assert!(
            missing_key.to_string().contains("HH_API_KEY"),
            "{missing_key}"
        );
    }

    #[test]
    fn a_disabled_exporter_accepts_spans_sends_nothing_and_shuts_down() {
        let exporter = HoneyHiveExporter::builder()
            .build_with_env(&env(&[("HH_DISABLE_TRACING", "true")]))
            .unwrap();
        assert!(exporter.producer.is_none());
        assert!(run(exporter.export(vec![root(1)])).is_ok());
        assert_eq!(exporter.stats(), Stats::default());
        assert!(exporter.shutdown().is_ok());
        assert!(matches!(
            run(exporter.export(vec![root(2)])),
            Err(OTelSdkError::AlreadyShutdown)
        ));
    }

    #[test]
    fn a_repeated_span_is_recognised_within_the_window_and_forgotten_past_it() {
        let mut recent = Recent::default();
        let id = |n: u64| ([0; 16], n.to_be_bytes());
        assert!(recent.first_time(id(0)));
        assert!(!recent.first_time(id(0)));
        for n in 1..=RECENT_SPANS as u64 {
            assert!(recent.first_time(id(n)));
        }
        assert_eq!(recent.seen.len(), RECENT_SPANS);
        assert!(recent.first_time(id(0)), "the oldest was forgotten");
    }
}
