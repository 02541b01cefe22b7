//! [`HoneyHiveSpanProcessor`]: stamps on each span, for the processor it wraps, the attributes
//! HoneyHive's OTLP ingestion reads, derived by the exporter's own conversion and mapping, so
//! that a span sent through a stock OTLP exporter and a collector lands in the session, with the
//! type, that [`HoneyHiveExporter`](super::HoneyHiveExporter) would give it.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use opentelemetry::trace::SpanId;
use opentelemetry::{Context, Key, KeyValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use uuid::Uuid;

use super::convert::{Converter, Derived, GROUPING_KEYS};
use crate::config::{self, EnvLookup};
use crate::fields::{SDK_EVENT_TYPE, SESSION_ID, SESSION_KEY, SESSION_NAME, SOURCE};
use crate::mapping::Mapper;
use crate::recorded::{Children, FinishedSpan};

/// `honeyhive.session_auto_create`: HoneyHive's ingestion creates the session a span names
/// when it does not exist yet (idempotent on the session id), rather than leave the span outside
/// any session.
pub const SESSION_AUTO_CREATE: &str = crate::fields::SESSION_AUTO_CREATE;

/// `honeyhive.project`, as HoneyHive's Python SDK stamps it.
const PROJECT: &str = "honeyhive.project";

/// The `source` when none is configured: the exporter's and the layer's default (pinned to
/// theirs by a test), which is HoneyHive's Python SDK's.
const DEFAULT_SOURCE: &str = "dev";

/// The longest text kept from one attribute: the exporter's default (pinned to it by a test),
/// so that a grouping key longer than that names the session the exporter's cut key names.
const MAX_FIELD_BYTES: usize = 256 * 1024;

/// Traces followed at once (those with a span open in this process); past that, a new trace's
/// spans are each stamped from what they carry alone.
const MAX_TRACES: usize = 16 * 1024;

/// A [`SpanProcessor`] that stamps, on every span it hands to the processor it wraps, the
/// attributes HoneyHive's OTLP ingestion reads: put it around the `BatchSpanProcessor` of a stock
/// `opentelemetry-otlp` exporter that sends to a collector (or to HoneyHive), and HoneyHive sees
/// the sessions and event types that [`HoneyHiveExporter`](super::HoneyHiveExporter) would have
/// sent, whichever path a span took.
///
/// | attribute | value |
/// |---|---|
/// | `honeyhive.session_id` | the session the exporter derives: the span's grouping key (`honeyhive.session_id`, `session.id`, `traceloop.association.properties.session_id`, `gen_ai.conversation.id`; a key that is not a UUID through [`ids::session_id_for_key`](crate::ids::session_id_for_key)), else the key a span of its trace gave, else the trace's own session ([`ids::session_id_for_trace`](crate::ids::session_id_for_trace)) |
/// | `honeyhive.session_key` | the key, when it is not a UUID (the exporter keeps it in `metadata` too) |
/// | `honeyhive.session_name` | the session's name as the exporter names it: `honeyhive.session_name`, an agent's or a workflow's name, the configured name, else the name of the span that begins the trace in this service |
/// | `honeyhive.session_auto_create` | `true` (unless [`with_session_auto_create(false)`](ProcessorBuilder::with_session_auto_create)) |
/// | `honeyhive.source` | the span's `honeyhive.source`, else the configured source (`HH_SOURCE`, else `dev`) |
/// | `honeyhive.project` | the configured project (`HH_PROJECT`), unless the span names one |
/// | `honeyhive_event_type` | the type the exporter's mapping gives the span as an event: `model`, `tool` or `chain` |
///
/// These are the names HoneyHive's Python SDK stamps on the spans it sends to HoneyHive's OTLP
/// endpoint (its `HoneyHiveSpanProcessor`), and the ones HoneyHive documents for OpenTelemetry
/// set-ups in other languages; `docs/collector.md` in the repository has the references.
///
/// # When it stamps
///
/// Everything is stamped in `on_end`, on the span handed to the wrapped processor only: an
/// attribute recorded after the span started (a model's answer, a key set late) counts, and
/// nothing changes for the provider's other processors (a [`HoneyHiveExporter`] beside it reads
/// the span as it was). `on_start` only notes, for the trace, the session that the span
/// beginning it in this service names (its id and name, from its start attributes, such as
/// those [`BaggageSessionProcessor`](super::BaggageSessionProcessor) copies from baggage), and a
/// grouping key a span starts with: the trace's other spans, which mostly end first, are stamped
/// with that session, as the exporter groups them. A key recorded on a span after it started
/// moves only the spans of its trace that end after it (the exporter also moves those still
/// waiting to be sent): give keys, and `honeyhive.session_name`, when spans start, or in
/// baggage.
///
/// Each span is converted and mapped by the exporter's own code, on the thread that ends it:
/// the work the exporter does on its own thread for a span.
///
/// [`HoneyHiveExporter`]: super::HoneyHiveExporter
///
/// # Example
///
/// A stock OTLP/HTTP exporter — here to the local server's OTLP route; in production to a
/// collector that forwards to HoneyHive (`docs/collector.md`):
///
/// ```
/// # #[cfg(feature = "emulator")] {
/// use opentelemetry::trace::{Span, Tracer, TracerProvider};
/// use opentelemetry::KeyValue;
/// use opentelemetry_otlp::{SpanExporter, WithExportConfig};
/// use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
/// use tracing_honeyhive::otel::HoneyHiveSpanProcessor;
/// # let server = tracing_honeyhive::emulator::Emulator::builder().start().unwrap();
/// # let endpoint = format!("{}/opentelemetry/v1/traces", server.url());
/// # /*
/// let endpoint = "http://127.0.0.1:4318/v1/traces"; // the collector
/// # */
///
/// let otlp = SpanExporter::builder().with_http().with_endpoint(endpoint).build()?;
/// // HH_SOURCE, HH_SESSION_NAME and HH_PROJECT are read as the exporter reads them.
/// let processor = HoneyHiveSpanProcessor::builder()
///     .with_source("production")
///     .build(BatchSpanProcessor::builder(otlp).build());
/// let provider = SdkTracerProvider::builder().with_span_processor(processor).build();
/// let tracer = provider.tracer("support-bot");
///
/// tracer.in_span("support chat", |_| {
///     let mut llm = tracer.start("chat gpt-4o-mini");
///     llm.set_attribute(KeyValue::new("gen_ai.operation.name", "chat"));
///     llm.end(); // stamped honeyhive_event_type = "model", in the chat's session
/// });
/// provider.shutdown()?;
/// # let model = |s: &tracing_honeyhive::emulator::Emulator| {
/// #     s.events().into_iter().find(|e| e.event_name.as_deref() == Some("chat gpt-4o-mini"))
/// # };
/// # assert!(server.wait_until(std::time::Duration::from_secs(20), |s| model(s).is_some()));
/// # assert_eq!(model(&server).unwrap().event_type.as_deref(), Some("model"));
/// # let sessions = server.sessions();
/// # assert_eq!(sessions.len(), 1);
/// # assert_eq!(sessions[0].event_name.as_deref(), Some("support chat"));
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct HoneyHiveSpanProcessor<P> {
    next: P,
    stamper: Stamper,
}

impl HoneyHiveSpanProcessor<()> {
    /// A builder: the session name, source and project, read from `HH_SESSION_NAME`,
    /// `HH_SOURCE` and `HH_PROJECT` as the exporter reads them when not given.
    pub fn builder() -> ProcessorBuilder {
        ProcessorBuilder::default()
    }
}

impl<P: SpanProcessor> HoneyHiveSpanProcessor<P> {
    /// Stamps the spans handed to `next`, configured from the environment.
    pub fn new(next: P) -> Self {
        ProcessorBuilder::default().build(next)
    }

    /// The processor the stamped spans go to.
    pub fn inner(&self) -> &P {
        &self.next
    }
}

impl<P> std::fmt::Debug for HoneyHiveSpanProcessor<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HoneyHiveSpanProcessor")
            .field("source", &self.stamper.mapper.source)
            .field("session_name", &self.stamper.converter.session_name)
            .field("project", &self.stamper.mapper.project)
            .field("session_auto_create", &self.stamper.auto_create)
            .finish_non_exhaustive()
    }
}

/// Builds a [`HoneyHiveSpanProcessor`]. Each setting is the value given here, else its `HH_*`
/// variable (blank counts as unset), else the default — as the exporter resolves it.
#[derive(Debug, Clone, Default)]
pub struct ProcessorBuilder {
    session_name: Option<String>,
    source: Option<String>,
    project: Option<String>,
    auto_create: Option<bool>,
}

impl ProcessorBuilder {
    /// The name of every session whose spans do not name it (`honeyhive.session_name`, an
    /// agent's name). Default: `HH_SESSION_NAME`, else the name of the span that begins the
    /// trace.
    pub fn with_session_name(mut self, name: impl Into<String>) -> Self {
        self.session_name = Some(name.into());
        self
    }

    /// The `source` of spans that do not give one (`honeyhive.source`), such as `production`.
    /// Default: `HH_SOURCE`, else `dev`.
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// `honeyhive.project` on every span that does not name one. HoneyHive picks the project
    /// from the API key the collector sends; this only records it. Default: `HH_PROJECT`, else
    /// none.
    pub fn with_project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    /// Whether spans ask HoneyHive to create the session they name when it does not exist yet
    /// (`honeyhive.session_auto_create`). Turn it off only when the sessions are created
    /// otherwise (`POST /v1/sessions`). Default: on.
    pub fn with_session_auto_create(mut self, auto_create: bool) -> Self {
        self.auto_create = Some(auto_create);
        self
    }

    /// The processor, stamping the spans handed to `next` (typically a `BatchSpanProcessor`
    /// around an `opentelemetry-otlp` exporter).
    pub fn build<P: SpanProcessor>(self, next: P) -> HoneyHiveSpanProcessor<P> {
        self.build_with_env(next, &config::process_env)
    }

    pub(crate) fn build_with_env<P: SpanProcessor>(
        self,
        next: P,
        env: EnvLookup<'_>,
    ) -> HoneyHiveSpanProcessor<P> {
        let settings = crate::layer::Settings {
            session_roots: crate::SessionRoots::AllRoots,
            session_name: config::env_or(self.session_name, env, "HH_SESSION_NAME"),
            max_field_bytes: MAX_FIELD_BYTES,
            // Span events only become `metadata.logs`, which is not stamped: none are kept.
            max_events_per_span: 0,
            capture_content: true,
            logs_level: tracing::level_filters::LevelFilter::OFF,
        };
        let mapper = Mapper {
            source: config::env_or(self.source, env, "HH_SOURCE")
                .unwrap_or_else(|| DEFAULT_SOURCE.to_owned()),
            project: config::env_or(self.project, env, "HH_PROJECT"),
            max_field_bytes: MAX_FIELD_BYTES,
            capture_content: true,
        };
        HoneyHiveSpanProcessor {
            next,
            stamper: Stamper {
                converter: Converter::new(&settings),
                mapper,
                auto_create: self.auto_create.unwrap_or(true),
                traces: Mutex::default(),
            },
        }
    }
}

impl<P: SpanProcessor> SpanProcessor for HoneyHiveSpanProcessor<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        if let Some(data) = span.exported_data() {
            self.stamper.started(data);
        }
        self.next.on_start(span, cx);
    }

    fn on_end(&self, mut span: SpanData) {
        self.stamper.ended(&mut span);
        self.next.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.next.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.next.shutdown_with_timeout(timeout)
    }

    fn shutdown(&self) -> OTelSdkResult {
        self.next.shutdown()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.stamper.converter.set_resource(resource);
        self.next.set_resource(resource);
    }
}

/// A session as stamped: its id and name.
#[derive(Debug, Clone, PartialEq)]
struct Session {
    id: Uuid,
    name: String,
}

impl Session {
    fn of(span: &FinishedSpan) -> Session {
        Session {
            id: span.session.id,
            name: span.session.name.to_string(),
        }
    }
}

/// What is known of a trace with spans open in this process.
#[derive(Debug, Default)]
struct Trace {
    /// Its spans beginning this service's part of it (no parent, or a remote one) still open.
    open_roots: u32,
    /// The session the first of them named when it started.
    root: Option<Session>,
    /// The session the first span with a grouping key named: the trace's spans without a key
    /// of their own go there, as the exporter moves them.
    keyed: Option<Session>,
}

/// Derives and stamps; the state shared by `on_start` and `on_end`.
struct Stamper {
    /// The exporter's conversion, with the exporter's settings.
    converter: Converter,
    /// The exporter's mapping, for the event type and the source.
    mapper: Mapper,
    auto_create: bool,
    traces: Mutex<HashMap<[u8; 16], Trace>>,
}

/// Whether the span begins this service's part of its trace: the exporter's `local_root`.
fn is_local_root(span: &SpanData) -> bool {
    span.parent_span_id == SpanId::INVALID || span.parent_span_is_remote
}

impl Stamper {
    fn traces(&self) -> MutexGuard<'_, HashMap<[u8; 16], Trace>> {
        self.traces.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The span as the exporter converts it, alone.
    fn convert(&self, span: SpanData) -> Box<FinishedSpan> {
        self.converter
            .convert_in(span, &mut Derived::default(), &mut 0)
    }

    /// A span started: note the session it names for its trace.
    fn started(&self, span: SpanData) {
        let trace = span.span_context.trace_id().to_bytes();
        let local_root = is_local_root(&span);
        let has_key = || {
            span.attributes
                .iter()
                .any(|kv| GROUPING_KEYS.contains(&kv.key.as_str()))
        };
        // Below the trace's first span, only a key matters (the resource's would be the root's).
        if !local_root && !has_key() {
            return;
        }
        let converted = self.convert(span);
        let own = Session::of(&converted);
        let keyed = converted.session.joined;
        let mut traces = self.traces();
        if local_root && (traces.len() < MAX_TRACES || traces.contains_key(&trace)) {
            let entry = traces.entry(trace).or_default();
            entry.open_roots += 1;
            entry.root.get_or_insert_with(|| own.clone());
        }
        if keyed && let Some(entry) = traces.get_mut(&trace) {
            entry.keyed.get_or_insert(own);
        }
    }

    /// A span ended: stamp it.
    fn ended(&self, span: &mut SpanData) {
        let trace = span.span_context.trace_id().to_bytes();
        let local_root = is_local_root(span);
        let converted = self.convert(span.clone());
        let own = Session::of(&converted);
        let keyed = converted.session.joined;
        let session = {
            let mut traces = self.traces();
            let entry = traces.get_mut(&trace);
            let session = match entry {
                Some(entry) if keyed => {
                    entry.keyed.get_or_insert_with(|| own.clone());
                    own
                }
                Some(entry) => entry
                    .keyed
                    .clone()
                    .or_else(|| entry.root.clone().filter(|_| !local_root))
                    .unwrap_or(own),
                None => own,
            };
            if local_root && let Some(entry) = traces.get_mut(&trace) {
                entry.open_roots = entry.open_roots.saturating_sub(1);
                if entry.open_roots == 0 {
                    traces.remove(&trace);
                }
            }
            session
        };
        let key = converted
            .recorded
            .fields
            .get(SESSION_KEY)
            .map(|key| key.to_string());
        let has_project = span.attributes.iter().any(|kv| kv.key.as_str() == PROJECT);
        let event = self
            .mapper
            .event(*converted, Uuid::nil(), &Children::default(), &mut 0)
            .head;

        let mut stamps: Vec<KeyValue> = vec![
            KeyValue::new(SESSION_ID, session.id.to_string()),
            KeyValue::new(SESSION_NAME, session.name),
            KeyValue::new(SOURCE, event.source.unwrap_or_default()),
            KeyValue::new(SDK_EVENT_TYPE, event.event_type.as_str()),
        ];
        if let Some(key) = key {
            stamps.push(KeyValue::new(SESSION_KEY, key));
        }
        if self.auto_create {
            stamps.push(KeyValue::new(SESSION_AUTO_CREATE, true));
        }
        if let (Some(project), false) = (&self.mapper.project, has_project) {
            stamps.push(KeyValue::new(PROJECT, project.clone()));
        }
        stamp(&mut span.attributes, stamps);
    }
}

/// `stamps` on `attributes`, each replacing any value the span had under its name, so that no
/// name is sent twice.
fn stamp(attributes: &mut Vec<KeyValue>, stamps: Vec<KeyValue>) {
    let stamped = |key: &Key| stamps.iter().any(|kv| &kv.key == key);
    attributes.retain(|kv| !stamped(&kv.key));
    attributes.extend(stamps);
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::sync::Arc;
    use std::time::UNIX_EPOCH;

    use opentelemetry::trace::{
        SpanContext, SpanKind, Status, TraceFlags, TraceId, TraceState, Tracer as _,
        TracerProvider as _,
    };
    use opentelemetry::{InstrumentationScope, Value};
    use opentelemetry_sdk::trace::{SdkTracerProvider, SpanEvents, SpanLinks};

    use super::*;
    use crate::config::test_env as env;
    use crate::ids;

    /// The value of attribute `name`, the last one given.
    fn get<'a>(attributes: &'a [KeyValue], name: &str) -> Option<&'a Value> {
        attributes
            .iter()
            .rev()
            .find(|kv| kv.key.as_str() == name)
            .map(|kv| &kv.value)
    }

    /// A processor that keeps what it is handed.
    #[derive(Debug, Clone, Default)]
    struct Keep(Arc<Mutex<Vec<SpanData>>>);

    impl SpanProcessor for Keep {
        fn on_start(&self, _span: &mut Span, _cx: &Context) {}
        fn on_end(&self, span: SpanData) {
            self.0.lock().unwrap().push(span);
        }
        fn force_flush(&self) -> OTelSdkResult {
            Ok(())
        }
        fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
            Ok(())
        }
    }

    const TRACE: u128 = 0x4bf92f3577b34da6a3ce929d0e0e4736;

    fn span(id: u64, parent: u64, name: &'static str, attributes: Vec<KeyValue>) -> SpanData {
        let start = UNIX_EPOCH + Duration::from_secs(1_760_000_000);
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(TRACE),
                SpanId::from(id),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: if parent == 0 {
                SpanId::INVALID
            } else {
                SpanId::from(parent)
            },
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: Cow::Borrowed(name),
            start_time: start,
            end_time: start + Duration::from_millis(3),
            attributes,
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::builder("tests").build(),
        }
    }

    fn processor(pairs: &[(&str, &str)]) -> (HoneyHiveSpanProcessor<Keep>, Keep) {
        let keep = Keep::default();
        let processor = ProcessorBuilder::default().build_with_env(keep.clone(), &env(pairs));
        (processor, keep)
    }

    fn text(span: &SpanData, name: &str) -> Option<String> {
        get(&span.attributes, name).map(|v| v.as_str().into_owned())
    }

    fn count(span: &SpanData, name: &str) -> usize {
        span.attributes
            .iter()
            .filter(|kv| kv.key.as_str() == name)
            .count()
    }

    #[test]
    fn the_defaults_are_the_exporters() {
        let builder = crate::otel::HoneyHiveExporter::builder()
            .with_api_url("http://127.0.0.1:9")
            .resolve(&env(&[]))
            .unwrap();
        let crate::layer::builder::Resolved::Enabled(settings, setup) = builder else {
            panic!("enabled");
        };
        assert_eq!(setup.worker.mapper.source, DEFAULT_SOURCE);
        assert_eq!(settings.max_field_bytes, MAX_FIELD_BYTES);
    }

    #[test]
    fn settings_come_from_the_builder_else_the_environment_as_the_exporters() {
        let (from_env, _) = processor(&[
            ("HH_SOURCE", "staging"),
            ("HH_SESSION_NAME", "support"),
            ("HH_PROJECT", " "),
        ]);
        assert_eq!(from_env.stamper.mapper.source, "staging");
        assert_eq!(
            from_env.stamper.converter.session_name.as_deref(),
            Some("support")
        );
        assert_eq!(from_env.stamper.mapper.project, None, "blank is unset");
        let given = ProcessorBuilder::default()
            .with_source("production")
            .with_project("bots")
            .with_session_auto_create(false)
            .build_with_env(Keep::default(), &env(&[("HH_SOURCE", "staging")]));
        assert_eq!(given.stamper.mapper.source, "production");
        assert_eq!(given.stamper.mapper.project.as_deref(), Some("bots"));
        assert!(!given.stamper.auto_create);
        let (defaults, _) = processor(&[]);
        assert_eq!(defaults.stamper.mapper.source, "dev");
        assert!(defaults.stamper.auto_create);
    }

    #[test]
    fn a_trace_without_a_key_is_its_own_session_named_by_its_root() {
        let (processor, keep) = processor(&[]);
        // The root starts first; its children end first.
        processor.stamper.started(span(1, 0, "turn", vec![]));
        let chat = vec![KeyValue::new("gen_ai.operation.name", "chat")];
        let tool = vec![KeyValue::new("gen_ai.operation.name", "execute_tool")];
        for (id, name, attributes) in [(2, "chat", chat), (3, "lookup", tool)] {
            processor
                .stamper
                .started(span(id, 1, name, attributes.clone()));
            processor.on_end(span(id, 1, name, attributes));
        }
        processor.on_end(span(1, 0, "turn", vec![]));
        let spans = keep.0.lock().unwrap().clone();
        let session = ids::session_id_for_trace(TRACE.to_be_bytes()).to_string();
        let types: Vec<_> = spans
            .iter()
            .map(|s| text(s, SDK_EVENT_TYPE).unwrap())
            .collect();
        assert_eq!(types, ["model", "tool", "chain"]);
        for span in &spans {
            assert_eq!(text(span, SESSION_ID).as_deref(), Some(session.as_str()));
            assert_eq!(text(span, SESSION_NAME).as_deref(), Some("turn"));
            assert_eq!(text(span, SOURCE).as_deref(), Some("dev"));
            assert_eq!(
                get(&span.attributes, SESSION_AUTO_CREATE),
                Some(&Value::Bool(true))
            );
            assert_eq!(get(&span.attributes, PROJECT), None);
            assert_eq!(get(&span.attributes, SESSION_KEY), None);
        }
        assert!(
            processor.stamper.traces().is_empty(),
            "the trace is forgotten"
        );
    }

    #[test]
    fn a_key_given_at_the_root_s_start_takes_the_whole_trace() {
        let (processor, keep) = processor(&[("HH_PROJECT", "bots")]);
        let key = vec![KeyValue::new("session.id", "conversation-7")];
        processor.stamper.started(span(1, 0, "turn", key.clone()));
        processor.stamper.started(span(2, 1, "llm", vec![]));
        processor.on_end(span(2, 1, "llm", vec![]));
        processor.on_end(span(1, 0, "turn", key));
        let spans = keep.0.lock().unwrap().clone();
        let session = ids::session_id_for_key("conversation-7").to_string();
        for span in &spans {
            assert_eq!(text(span, SESSION_ID).as_deref(), Some(session.as_str()));
            assert_eq!(text(span, SESSION_NAME).as_deref(), Some("turn"));
            assert_eq!(text(span, PROJECT).as_deref(), Some("bots"));
        }
        assert_eq!(text(&spans[0], SESSION_KEY), None, "the child gave no key");
        assert_eq!(
            text(&spans[1], SESSION_KEY).as_deref(),
            Some("conversation-7")
        );
        assert_eq!(
            text(&spans[1], "session.id").as_deref(),
            Some("conversation-7"),
            "the span's own attributes stay"
        );
    }

    #[test]
    fn a_span_s_own_key_wins_and_later_spans_of_its_trace_follow_it() {
        let (processor, keep) = processor(&[("HH_SESSION_NAME", "support")]);
        processor.stamper.started(span(1, 0, "turn", vec![]));
        // Ends before the key is known: the trace's session.
        processor.on_end(span(2, 1, "early", vec![]));
        // Given a key only when it ends.
        let key = vec![KeyValue::new(SESSION_ID, "thread-9")];
        processor.on_end(span(3, 1, "keyed", key));
        processor.on_end(span(4, 1, "late", vec![]));
        processor.on_end(span(1, 0, "turn", vec![]));
        let spans = keep.0.lock().unwrap().clone();
        let ids: Vec<_> = spans.iter().map(|s| text(s, SESSION_ID).unwrap()).collect();
        let trace = ids::session_id_for_trace(TRACE.to_be_bytes()).to_string();
        let keyed = ids::session_id_for_key("thread-9").to_string();
        assert_eq!(ids, [trace, keyed.clone(), keyed.clone(), keyed]);
        assert!(spans.iter().all(|s| count(s, SESSION_ID) == 1));
        assert!(
            spans
                .iter()
                .all(|s| text(s, SESSION_NAME).as_deref() == Some("support"))
        );
    }

    #[test]
    fn a_key_a_child_starts_with_takes_the_spans_of_its_trace_that_end_after() {
        let (processor, keep) = processor(&[]);
        processor.stamper.started(span(1, 0, "turn", vec![]));
        let key = vec![KeyValue::new("gen_ai.conversation.id", "thread-3")];
        processor.stamper.started(span(2, 1, "agent", key.clone()));
        processor.stamper.started(span(3, 2, "llm", vec![]));
        processor.on_end(span(3, 2, "llm", vec![]));
        processor.on_end(span(2, 1, "agent", key));
        processor.on_end(span(1, 0, "turn", vec![]));
        let keyed = ids::session_id_for_key("thread-3").to_string();
        for span in keep.0.lock().unwrap().iter() {
            assert_eq!(text(span, SESSION_ID), Some(keyed.clone()), "{}", span.name);
            // Named as the exporter names a session first seen below the trace's root: no
            // session name configured, no service name, so the key.
            assert_eq!(text(span, SESSION_NAME).as_deref(), Some("thread-3"));
        }
    }

    #[test]
    fn a_stamp_replaces_what_the_span_had_and_explicit_values_win() {
        let (processor, keep) = processor(&[("HH_PROJECT", "bots")]);
        let uuid = "6f2c1a9e-4b1d-4c3e-9a57-0d2f8e1b7c44";
        let attributes = vec![
            KeyValue::new(SDK_EVENT_TYPE, "chain"),
            KeyValue::new("honeyhive.event_type", "tool"),
            KeyValue::new(SOURCE, "batch-job"),
            KeyValue::new(PROJECT, "other"),
            KeyValue::new(SESSION_ID, uuid.to_uppercase()),
            KeyValue::new(SESSION_NAME, "nightly"),
        ];
        processor.on_end(span(1, 0, "job", attributes));
        let span = &keep.0.lock().unwrap()[0];
        // Of `honeyhive.event_type` and HoneyHive's SDK name, the last given wins, as the
        // exporter reads them.
        assert_eq!(text(span, SDK_EVENT_TYPE).as_deref(), Some("tool"));
        assert_eq!(text(span, SOURCE).as_deref(), Some("batch-job"));
        assert_eq!(text(span, PROJECT).as_deref(), Some("other"));
        assert_eq!(text(span, SESSION_ID).as_deref(), Some(uuid));
        assert_eq!(text(span, SESSION_NAME).as_deref(), Some("nightly"));
        assert_eq!(text(span, SESSION_KEY), None, "a UUID is no key to keep");
        for name in [SDK_EVENT_TYPE, SOURCE, PROJECT, SESSION_ID, SESSION_NAME] {
            assert_eq!(count(span, name), 1, "{name} once");
        }
    }

    #[test]
    fn spans_of_a_provider_are_stamped_for_the_wrapped_processor_only() {
        let keep = Keep::default();
        let beside = Keep::default();
        let processor = ProcessorBuilder::default()
            .with_session_name("chat")
            .build_with_env(keep.clone(), &env(&[]));
        let provider = SdkTracerProvider::builder()
            .with_span_processor(processor)
            .with_span_processor(beside.clone())
            .build();
        let tracer = provider.tracer("tests");
        tracer.in_span("turn", |_| tracer.in_span("step", |_| {}));
        let stamped = keep.0.lock().unwrap().clone();
        assert_eq!(stamped.len(), 2);
        assert!(
            stamped
                .iter()
                .all(|s| text(s, SESSION_NAME).as_deref() == Some("chat"))
        );
        assert_eq!(
            text(&stamped[0], SESSION_ID),
            text(&stamped[1], SESSION_ID),
            "one trace, one session"
        );
        let plain = beside.0.lock().unwrap().clone();
        assert!(plain.iter().all(|s| s.attributes.is_empty()), "{plain:?}");
    }
}
