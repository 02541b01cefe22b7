//! The OpenTelemetry exporter (feature `opentelemetry`): any `opentelemetry_sdk` pipeline, and
//! `tracing-opentelemetry`, sends to HoneyHive through the same delivery pipeline and the same
//! mapping as [`HoneyHiveLayer`](crate::HoneyHiveLayer).
//!
//! Add [`HoneyHiveExporter`] to an `SdkTracerProvider` as one more exporter:
//!
//! ```
//! # #[cfg(feature = "emulator")] {
//! use opentelemetry::trace::{Span, Tracer, TracerProvider};
//! use opentelemetry::KeyValue;
//! use opentelemetry_sdk::trace::SdkTracerProvider;
//! use tracing_honeyhive::otel::HoneyHiveExporter;
//! # let server = tracing_honeyhive::emulator::Emulator::builder().start().unwrap();
//! # let builder = HoneyHiveExporter::builder().with_api_url(server.url());
//!
//! // HH_API_KEY, HH_API_URL, HH_SOURCE, … configure it, as they configure the layer.
//! # /*
//! let exporter = HoneyHiveExporter::builder().build()?;
//! # */
//! # let exporter = builder.build()?;
//! let handle = exporter.handle();
//! let provider = SdkTracerProvider::builder().with_batch_exporter(exporter).build();
//! let tracer = provider.tracer("support-bot");
//!
//! tracer.in_span("support chat", |cx| {
//!     let mut llm = tracer.start("chat gpt-4o-mini");
//!     llm.set_attribute(KeyValue::new("gen_ai.operation.name", "chat"));
//!     llm.set_attribute(KeyValue::new("gen_ai.request.model", "gpt-4o-mini"));
//!     llm.set_attribute(KeyValue::new("gen_ai.usage.input_tokens", 41));
//!     llm.end();
//! });
//!
//! // At the end of main: shutting the provider down delivers what is queued.
//! provider.shutdown().expect("delivered");
//! assert_eq!(handle.stats().lost(), 0);
//! # assert_eq!(server.events()[0].event_type.as_deref(), Some("model"));
//! # }
//! # Ok::<(), tracing_honeyhive::Error>(())
//! ```
//!
//! # Traces become sessions
//!
//! Spans reach an exporter when they end: children before their root, a trace split across
//! several exports, parts of one trace from several services. Ids are therefore derived, not
//! drawn ([`ids::session_id_for_trace`](crate::ids::session_id_for_trace),
//! [`ids::event_id_for_span`](crate::ids::event_id_for_span)): every span of a trace lands in
//! its one session, with the right `parent_id`, whatever the order.
//!
//! | span | HoneyHive |
//! |---|---|
//! | the trace's root (no parent) | the session: its name, inputs, outputs, times, metadata |
//! | a span below it | an event, under its parent's event (the root's children under the session) |
//! | a local root whose parent is remote (another service) | an event under that remote parent, in the trace's session |
//! | any span with a grouping key (below) | its trace goes to the session the key names |
//!
//! A span exported again — the same trace and span id, as when a batch is retried upstream — is
//! not sent twice: the exporter remembers the last 65 536 spans it handed over and counts a
//! repeat in [`Stats::spans_repeated`](crate::Stats::spans_repeated).
//!
//! The events of a trace wait for its root, up to
//! [`with_root_wait`](crate::layer::Builder::with_root_wait) (10 s by default), so that the
//! session is created whole. When the root has not come by then — it is in another service, or
//! later still — the session is created with what is known (its name is the configured session
//! name, else the resource's `service.name`), and the root, if it comes, completes it: its
//! outputs, end, duration and metadata (inputs then go to `metadata.inputs`, as the API cannot
//! update them), and the root is also sent as an event of its own id, which the children sent
//! earlier name as their parent. Creation is idempotent, so two services creating one session
//! agree.
//!
//! Memory stays bounded when roots never come: events waiting for a root count against
//! [`with_queue_capacity`](crate::layer::Builder::with_queue_capacity) like any other (and go
//! after the wait, or once 1000 of one session wait); the exporter remembers at most 16 384
//! sessions with nothing left to send, forgetting the least recently used first (a forgotten
//! session that gets more spans is simply created again, which the server treats as the same
//! session).
//!
//! # Grouping traces into one session
//!
//! A span attribute `honeyhive.session_id` — or `session.id`,
//! `traceloop.association.properties.session_id`, `gen_ai.conversation.id`, in that order —
//! puts its trace in the session it names (a value that is not a UUID names a [derived
//! one](crate::ids::session_id_for_key)): several traces, one per request, make one
//! conversation. The trace's root is then an event of that session, as a `tracing` span that
//! joins a session by id. Set on the root, it moves the trace's spans that arrived before it
//! too, unless they were sent already. To carry a key to every span of a request, also across
//! services, put it in baggage and add [`BaggageSessionProcessor`] to the provider: it also reads
//! the plain keys HoneyHive's Python SDK sends (`session_id`, `session_name`, `source`,
//! `project`, `parent_id`), so that a request from a Python service joins its session.
//! `honeyhive.session_name` and `honeyhive.source` are honoured as on the layer. A trace's first
//! span in this service with `honeyhive.parent_id` (the caller's event, from baggage) is an
//! event under that event rather than under its remote parent or the session.
//! [`propagation::inject_context`](crate::propagation::inject_context) and
//! [`extract_context`](crate::propagation::extract_context) carry the session and the trace
//! between services.
//!
//! # Attributes, events, status
//!
//! Attributes are read exactly as the layer reads fields (the crate docs give the table):
//! `honeyhive.*` controls, bucket prefixes, `gen_ai.*`, HoneyHive's SDK names
//! (`honeyhive_inputs.*`, …). OpenTelemetry values have no map type, so message lists,
//! arguments and results arrive as JSON text: they are parsed as the layer parses them.
//! Besides:
//!
//! | OpenTelemetry | HoneyHive |
//! |---|---|
//! | status `Error` | `error`: its description, else the `error.type` attribute |
//! | an `exception` event | `error`: its `exception.message` (else its type); `metadata["exception.type"]`, `metadata["exception.stacktrace"]` |
//! | other span events | `metadata.logs`, bounded as the layer's (an `ERROR`-level one from tracing-opentelemetry sets the error when nothing else did) |
//! | span kind (unless `internal`) | `metadata["otel.span_kind"]` |
//! | instrumentation scope | `metadata["otel.scope.name"]`, `metadata["otel.scope.version"]` |
//! | resource attributes (`service.name`, …) | `metadata` under their names |
//! | links | `metadata["otel.links"]`: trace id, span id, attributes |
//!
//! # Flush and shutdown
//!
//! `export` converts each span and queues it without blocking; when the queue is full the span
//! is dropped and counted. It never needs a tokio runtime and cannot deadlock one: it is safe
//! under `futures_executor::block_on` on the SDK's thread, and cheap enough on the application
//! thread with a `SimpleSpanProcessor`. The provider's `shutdown` reaches the exporter's
//! [`shutdown_with_timeout`](opentelemetry_sdk::trace::SpanExporter::shutdown_with_timeout),
//! which delivers what is queued within the deadline and reports what was not. A
//! `BatchSpanProcessor` does not pass `force_flush` on to its exporter: call
//! [`Handle::flush`](crate::Handle::flush) after the provider's `force_flush` to wait for
//! delivery.

mod baggage;
mod convert;
mod exporter;
mod names;
mod processor;

pub use baggage::BaggageSessionProcessor;
pub(crate) use convert::GROUPING_KEYS;
pub use exporter::HoneyHiveExporter;
pub use processor::{HoneyHiveSpanProcessor, ProcessorBuilder, SESSION_AUTO_CREATE};
