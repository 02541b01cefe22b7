//! [`BaggageSessionProcessor`]: copies the session attributes a request carries in baggage onto
//! each span it starts, so that every span of the request, in every service the baggage travels
//! to, lands in that session.

use std::time::Duration;

use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::Span as _;
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

use super::convert::GROUPING_KEYS;
use crate::fields::{SESSION_NAME, SOURCE};

/// A `SpanProcessor` that copies the baggage entries naming a session — `honeyhive.session_id`,
/// `session.id`, `traceloop.association.properties.session_id`, `gen_ai.conversation.id`,
/// `honeyhive.session_name` and `honeyhive.source` — onto every span as it starts. Add it to
/// the provider beside the exporter's processor; it exports nothing itself.
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
        for key in GROUPING_KEYS.iter().chain(&[SESSION_NAME, SOURCE]) {
            if let Some(value) = baggage.get(key) {
                span.set_attribute(KeyValue::new(*key, value.clone()));
            }
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
