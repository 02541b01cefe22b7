//! [`BaggageSessionProcessor`]: copies the session attributes a request carries in baggage onto
//! each span it starts, so that every span of the request, in every service the baggage travels
//! to, lands in that session.

use std::time::Duration;

use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::{Span as _, TraceContextExt};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

use super::convert::GROUPING_KEYS;
use crate::fields::{PARENT_ID, SESSION_ID, SESSION_NAME, SOURCE};
use crate::propagation::{
    PARENT_ID_KEYS, PROJECT_KEYS, SESSION_ID_KEYS, SESSION_NAME_KEYS, SOURCE_KEYS,
};

/// The attribute HoneyHive's Python SDK records a baggage `project` under (kept in `metadata`).
const PROJECT: &str = "honeyhive.project";

/// A `SpanProcessor` that copies the baggage entries naming a session onto every span as it
/// starts. Add it to the provider beside the exporter's processor; it exports nothing itself.
///
/// | baggage (first present wins) | span attribute |
/// |---|---|
/// | `honeyhive.session_id`, `honeyhive_session_id`, `session_id` | `honeyhive.session_id` |
/// | `session.id`, `traceloop.association.properties.session_id`, `gen_ai.conversation.id` | the same |
/// | `honeyhive.session_name`, `honeyhive_session_name`, `session_name` | `honeyhive.session_name` |
/// | `honeyhive.source`, `honeyhive_source`, `source` | `honeyhive.source` |
/// | `honeyhive.project`, `honeyhive_project`, `project` | `honeyhive.project` (kept in `metadata`) |
/// | `honeyhive.parent_id`, `honeyhive_parent_id`, `parent_id` | `honeyhive.parent_id`, on the span that begins this service's part of the trace only |
///
/// The plain names are those HoneyHive's Python SDK sends (`session_id`, `project`, `source`,
/// `session_name`, `parent_id`), so that a request from a Python service joins its session;
/// [`propagation::extract_context`](crate::propagation::extract_context) reads an incoming
/// request's headers into the context this processor reads.
///
/// ```
/// # #[cfg(feature = "emulator")] {
/// use opentelemetry::baggage::BaggageExt;
/// use opentelemetry::trace::{Tracer, TracerProvider};
/// use opentelemetry::{Context, KeyValue};
/// use opentelemetry_sdk::trace::SdkTracerProvider;
/// use tracing_honeyhive::otel::{BaggageSessionProcessor, HoneyHiveExporter};
/// # let server = tracing_honeyhive::emulator::Emulator::builder().start().unwrap();
///
/// let exporter = HoneyHiveExporter::builder().with_api_url(server.url()).build()?;
/// let provider = SdkTracerProvider::builder()
///     .with_span_processor(BaggageSessionProcessor::default())
///     .with_batch_exporter(exporter)
///     .build();
/// let tracer = provider.tracer("bot");
/// // Two requests of one conversation, each its own trace.
/// for request in ["first", "second"] {
///     let cx = Context::current_with_baggage([KeyValue::new("session.id", "conversation-7")]);
///     let _attached = cx.attach();
///     tracer.in_span(request, |_| tracer.in_span("llm", |_| {}));
/// }
/// provider.shutdown().unwrap();
/// assert_eq!(server.sessions().len(), 1, "one conversation, one session");
/// # }
/// # Ok::<(), tracing_honeyhive::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct BaggageSessionProcessor {
    _private: (),
}

impl SpanProcessor for BaggageSessionProcessor {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        let baggage = cx.baggage();
        let first = |keys: &[&str]| {
            keys.iter()
                .filter_map(|key| baggage.get(*key))
                .find(|value| !value.as_str().trim().is_empty())
                .cloned()
        };
        let mut copy = |attribute: &'static str, keys: &[&str]| {
            if let Some(value) = first(keys) {
                span.set_attribute(KeyValue::new(attribute, value));
            }
        };
        copy(SESSION_ID, &SESSION_ID_KEYS);
        for key in &GROUPING_KEYS[1..] {
            copy(key, &[key]);
        }
        copy(SESSION_NAME, &SESSION_NAME_KEYS);
        copy(SOURCE, &SOURCE_KEYS);
        copy(PROJECT, &PROJECT_KEYS);
        // The caller's event is the parent of this service's first span only: the one without a
        // parent, or whose parent is remote.
        let parent = cx.span().span_context().clone();
        if !parent.is_valid() || parent.is_remote() {
            copy(PARENT_ID, &PARENT_ID_KEYS);
        }
    }

    fn on_end(&self, _span: SpanData) {}

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}
