//! Distributed sessions for the OpenTelemetry front door (feature `opentelemetry`): W3C trace
//! context through the SDK's `TraceContextPropagator`, and the same baggage as the layer's, with
//! the session the exporter derives for the context's trace or grouping key.

use opentelemetry::Context;
use opentelemetry::baggage::{BaggageExt, KeyValueMetadata};
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::{
    BAGGAGE, PROJECT_KEYS, SESSION_ID_KEYS, SESSION_NAME_KEYS, SOURCE_KEYS, SessionContext, baggage,
};
use crate::ids;
use crate::otel::GROUPING_KEYS;

impl SessionContext {
    /// The session and event the exporter gives the span of `cx`: the session a grouping key in
    /// `cx`'s baggage names (`honeyhive.session_id` under any of its spellings, then
    /// `session.id`, `traceloop.association.properties.session_id`, `gen_ai.conversation.id`),
    /// else the session of the span's trace ([`ids::session_id_for_trace`]); the span's event
    /// ([`ids::event_id_for_span`]) as the parent. Session name, source and project come from
    /// the baggage. Empty when `cx` has neither a valid span nor a grouping key.
    ///
    /// A grouping key set as a span attribute rather than in baggage is not seen here: put it in
    /// baggage (with [`BaggageSessionProcessor`](crate::otel::BaggageSessionProcessor)) for the
    /// session to travel.
    #[cfg_attr(docsrs, doc(cfg(feature = "opentelemetry")))]
    pub fn from_context(cx: &Context) -> SessionContext {
        let bag = cx.baggage();
        let text = |keys: &[&str]| {
            keys.iter()
                .filter_map(|key| bag.get(*key))
                .map(|value| value.as_str().trim())
                .find(|value| !value.is_empty())
                .map(str::to_owned)
        };
        let span = cx.span().span_context().clone();
        let trace = span.is_valid().then(|| span.trace_id().to_bytes());
        let key = text(&SESSION_ID_KEYS).or_else(|| text(&GROUPING_KEYS[1..]));
        let session = key
            .map(|key| ids::session_id_for_key(&key))
            .or_else(|| trace.map(ids::session_id_for_trace));
        SessionContext {
            session_id: session.map(|id| id.to_string()),
            parent_id: trace.map(|trace| ids::event_id_for_span(trace, span.span_id().to_bytes())),
            session_name: text(&SESSION_NAME_KEYS),
            source: text(&SOURCE_KEYS),
            project: text(&PROJECT_KEYS),
        }
    }
}

/// Writes `cx` into an outgoing request's headers: `traceparent` and `tracestate` (W3C trace
/// context, through the SDK's `TraceContextPropagator`), and `baggage` with `cx`'s baggage and
/// its HoneyHive session ([`SessionContext::from_context`]) under every spelling HoneyHive's
/// SDKs read, merged with the baggage already in `headers`. It replaces the global propagator's
/// `inject` for HoneyHive's sake; a service called with these headers joins the session, with
/// this crate's exporter or layer, or with HoneyHive's Python SDK.
///
/// ```
/// use opentelemetry::trace::{TraceContextExt, Tracer, TracerProvider};
/// use opentelemetry_sdk::trace::SdkTracerProvider;
/// use tracing_honeyhive::propagation::{SessionContext, extract_context, inject_context};
///
/// let provider = SdkTracerProvider::builder().build();
/// let tracer = provider.tracer("caller");
/// let mut headers = reqwest::header::HeaderMap::new();
/// tracer.in_span("call the answerer", |cx| inject_context(&cx, &mut headers));
/// assert!(headers.contains_key("traceparent"));
///
/// // In the service called:
/// let cx = extract_context(&headers);
/// assert!(cx.span().span_context().is_remote());
/// let caller = SessionContext::extract(&headers);
/// assert_eq!(caller.session_id, SessionContext::from_context(&cx).session_id);
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "opentelemetry")))]
pub fn inject_context(cx: &Context, headers: &mut HeaderMap) {
    TraceContextPropagator::new().inject_context(cx, &mut Headers(headers));
    let entries: Vec<String> = cx
        .baggage()
        .iter()
        .filter_map(|(key, (value, metadata))| {
            let member = baggage::encode(key.as_str(), value.as_str())?;
            let properties = metadata.as_str().trim();
            Some(if properties.is_empty() || !sendable(properties) {
                member
            } else {
                format!("{member};{properties}")
            })
        })
        .collect();
    if !entries.is_empty() {
        let ours: Vec<&str> = cx.baggage().iter().map(|(key, _)| key.as_str()).collect();
        let existing = headers
            .get_all(BAGGAGE)
            .into_iter()
            .map(HeaderValue::as_bytes);
        let merged = baggage::merge(existing, |key| !ours.contains(&key), &entries);
        if let Ok(value) = HeaderValue::from_str(&merged) {
            headers.insert(BAGGAGE, value);
        }
    }
    SessionContext::from_context(cx).inject(headers);
}

/// The context of an incoming request: the remote span of its `traceparent` (and
/// `tracestate`), through the SDK's `TraceContextPropagator`, and the members of its `baggage`
/// headers, read as leniently as [`SessionContext::extract`] reads them, over the current
/// context. Start the handler's span with it as the parent and add
/// [`BaggageSessionProcessor`](crate::otel::BaggageSessionProcessor) to the provider: the
/// span's trace joins the caller's session, under the caller's span.
#[cfg_attr(docsrs, doc(cfg(feature = "opentelemetry")))]
pub fn extract_context(headers: &HeaderMap) -> Context {
    let cx = TraceContextPropagator::new().extract(&Reader(headers));
    let values = headers
        .get_all(BAGGAGE)
        .into_iter()
        .map(HeaderValue::as_bytes);
    let members = baggage::members(values);
    if members.is_empty() {
        return cx;
    }
    cx.with_baggage(members.into_iter().map(|member| {
        let value = if super::is_honeyhive_text_key(member.key) {
            baggage::decode_plus(member.value)
        } else {
            baggage::decode(member.value)
        };
        KeyValueMetadata::new(
            member.key.to_owned(),
            value.trim().to_owned(),
            member.properties,
        )
    }))
}

/// Whether baggage properties can be written as they are: printable ASCII that cannot end the
/// member.
fn sendable(properties: &str) -> bool {
    properties
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && !b",\"\\".contains(&b))
}

/// A `HeaderMap` as the propagators' carrier, to write.
struct Headers<'a>(&'a mut HeaderMap);

impl Injector for Headers<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// A `HeaderMap` as the propagators' carrier, to read; a value that is not visible ASCII is
/// absent.
struct Reader<'a>(&'a HeaderMap);

impl Extractor for Reader<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key)?.to_str().ok()
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}
