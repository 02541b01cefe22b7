//! OTLP's spans as the OpenTelemetry SDK's `SpanData`, grouped by resource: the form the crate's
//! exporter converts and maps, so that an OTLP span and the same span exported in-process make
//! the same event. A span whose ids are malformed is rejected, and counted, with a reason.

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{
    Event, Link, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Array, InstrumentationScope, KeyValue, StringValue, Value};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue as ProtoKeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{Span as ProtoSpan, span, status};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

/// The spans of one resource.
#[derive(Debug)]
pub(crate) struct Group {
    pub(crate) resource: Resource,
    pub(crate) spans: Vec<SpanData>,
}

/// What a request held: its spans by resource, and those rejected.
#[derive(Debug, Default)]
pub(crate) struct Converted {
    pub(crate) groups: Vec<Group>,
    pub(crate) rejected: i64,
    /// The first rejection's reason, for the partial-success message.
    pub(crate) reason: Option<String>,
}

/// Every span of `request`, converted; malformed ones rejected.
pub(crate) fn convert(request: ExportTraceServiceRequest) -> Converted {
    let mut out = Converted::default();
    for resource_spans in request.resource_spans {
        let resource_attributes = resource_spans
            .resource
            .map(|r| attributes(r.attributes))
            .unwrap_or_default();
        let resource = Resource::builder_empty()
            .with_attributes(resource_attributes)
            .build();
        let mut spans = Vec::new();
        for scope_spans in resource_spans.scope_spans {
            let scope = scope_spans.scope.map_or_else(
                || InstrumentationScope::builder("").build(),
                |scope| {
                    let mut builder = InstrumentationScope::builder(scope.name);
                    if !scope.version.is_empty() {
                        builder = builder.with_version(scope.version);
                    }
                    builder
                        .with_attributes(attributes(scope.attributes))
                        .build()
                },
            );
            for span in scope_spans.spans {
                match span_data(span, &scope) {
                    Ok(data) => spans.push(data),
                    Err(reason) => {
                        out.rejected += 1;
                        out.reason.get_or_insert(reason);
                    }
                }
            }
        }
        if !spans.is_empty() {
            out.groups.push(Group { resource, spans });
        }
    }
    out
}

fn trace_id(bytes: &[u8], what: &str) -> Result<TraceId, String> {
    let bytes: [u8; 16] = bytes
        .try_into()
        .map_err(|_| format!("{what} has {} bytes, not 16", bytes.len()))?;
    let id = TraceId::from_bytes(bytes);
    if id == TraceId::INVALID {
        return Err(format!("{what} is all zeros"));
    }
    Ok(id)
}

fn span_id(bytes: &[u8], what: &str) -> Result<SpanId, String> {
    let bytes: [u8; 8] = bytes
        .try_into()
        .map_err(|_| format!("{what} has {} bytes, not 8", bytes.len()))?;
    let id = SpanId::from_bytes(bytes);
    if id == SpanId::INVALID {
        return Err(format!("{what} is all zeros"));
    }
    Ok(id)
}

fn time(nanos: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(nanos)
}

fn span_data(span: ProtoSpan, scope: &InstrumentationScope) -> Result<SpanData, String> {
    let name = if span.name.is_empty() {
        "span".to_owned()
    } else {
        span.name
    };
    let trace = trace_id(&span.trace_id, "a span's traceId")?;
    let id = span_id(&span.span_id, "a span's spanId")?;
    let parent = if span.parent_span_id.is_empty() {
        SpanId::INVALID
    } else {
        span_id(&span.parent_span_id, "a span's parentSpanId")?
    };
    let state = span
        .trace_state
        .parse()
        .unwrap_or_else(|_| TraceState::default());
    // The low byte of `flags` holds the W3C trace flags; bits 8 and 9 say whether the parent is
    // remote.
    let flags = TraceFlags::new((span.flags & 0xff) as u8);
    let context = SpanContext::new(trace, id, flags, false, state);
    let start = time(span.start_time_unix_nano);
    let end = time(span.end_time_unix_nano.max(span.start_time_unix_nano));
    let events = span
        .events
        .into_iter()
        .map(|event| {
            Event::new(
                event.name,
                time(event.time_unix_nano),
                attributes(event.attributes),
                event.dropped_attributes_count,
            )
        })
        .collect();
    let links = span
        .links
        .into_iter()
        .filter_map(|link| {
            let trace = trace_id(&link.trace_id, "a link's traceId").ok()?;
            let id = span_id(&link.span_id, "a link's spanId").ok()?;
            let state = link
                .trace_state
                .parse()
                .unwrap_or_else(|_| TraceState::default());
            let flags = TraceFlags::new((link.flags & 0xff) as u8);
            let context = SpanContext::new(trace, id, flags, true, state);
            Some(Link::new(
                context,
                attributes(link.attributes),
                link.dropped_attributes_count,
            ))
        })
        .collect();
    let status = match span.status {
        Some(s) if s.code == status::StatusCode::Error as i32 => Status::error(s.message),
        Some(s) if s.code == status::StatusCode::Ok as i32 => Status::Ok,
        _ => Status::Unset,
    };
    Ok(SpanData {
        span_context: context,
        parent_span_id: parent,
        parent_span_is_remote: span.flags & 0x300 == 0x300,
        span_kind: kind(span.kind),
        name: Cow::Owned(name),
        start_time: start,
        end_time: end,
        attributes: attributes(span.attributes),
        dropped_attributes_count: span.dropped_attributes_count,
        events: span_events(events, span.dropped_events_count),
        links: span_links(links, span.dropped_links_count),
        status,
        instrumentation_scope: scope.clone(),
    })
}

fn span_events(events: Vec<Event>, dropped: u32) -> SpanEvents {
    let mut out = SpanEvents::default();
    out.events = events;
    out.dropped_count = dropped;
    out
}

fn span_links(links: Vec<Link>, dropped: u32) -> SpanLinks {
    let mut out = SpanLinks::default();
    out.links = links;
    out.dropped_count = dropped;
    out
}

fn kind(kind: i32) -> SpanKind {
    match span::SpanKind::try_from(kind) {
        Ok(span::SpanKind::Server) => SpanKind::Server,
        Ok(span::SpanKind::Client) => SpanKind::Client,
        Ok(span::SpanKind::Producer) => SpanKind::Producer,
        Ok(span::SpanKind::Consumer) => SpanKind::Consumer,
        _ => SpanKind::Internal,
    }
}

/// OTLP attributes as the SDK's; a key with no value is dropped.
fn attributes(list: Vec<ProtoKeyValue>) -> Vec<KeyValue> {
    list.into_iter()
        .filter_map(|kv| {
            let value = value(kv.value?)?;
            Some(KeyValue::new(kv.key, value))
        })
        .collect()
}

/// An OTLP value as the SDK's: scalars and lists of one scalar type as they are; anything else
/// (a list of mixed or nested values, a key-value list, bytes) as JSON text, which the mapping
/// parses where it expects structure.
fn value(value: AnyValue) -> Option<Value> {
    Some(match value.value? {
        any_value::Value::StringValue(s) => Value::String(s.into()),
        any_value::Value::BoolValue(b) => Value::Bool(b),
        any_value::Value::IntValue(n) => Value::I64(n),
        any_value::Value::DoubleValue(n) => Value::F64(n),
        any_value::Value::ArrayValue(list) => array(list.values),
        other => Value::String(json(&any_value::Value::clone(&other)).to_string().into()),
    })
}

fn array(values: Vec<AnyValue>) -> Value {
    let inner: Vec<any_value::Value> = values.iter().filter_map(|v| v.value.clone()).collect();
    let all = |f: fn(&any_value::Value) -> bool| !inner.is_empty() && inner.iter().all(f);
    if all(|v| matches!(v, any_value::Value::StringValue(_))) {
        let items = inner.into_iter().filter_map(|v| match v {
            any_value::Value::StringValue(s) => Some(StringValue::from(s)),
            _ => None,
        });
        return Value::Array(Array::String(items.collect()));
    }
    if all(|v| matches!(v, any_value::Value::BoolValue(_))) {
        let items = inner.iter().filter_map(|v| match v {
            any_value::Value::BoolValue(b) => Some(*b),
            _ => None,
        });
        return Value::Array(Array::Bool(items.collect()));
    }
    if all(|v| matches!(v, any_value::Value::IntValue(_))) {
        let items = inner.iter().filter_map(|v| match v {
            any_value::Value::IntValue(n) => Some(*n),
            _ => None,
        });
        return Value::Array(Array::I64(items.collect()));
    }
    if all(|v| matches!(v, any_value::Value::DoubleValue(_))) {
        let items = inner.iter().filter_map(|v| match v {
            any_value::Value::DoubleValue(n) => Some(*n),
            _ => None,
        });
        return Value::Array(Array::F64(items.collect()));
    }
    let list: Vec<serde_json::Value> = inner.iter().map(json).collect();
    Value::String(serde_json::Value::Array(list).to_string().into())
}

/// An OTLP value as JSON: key-value lists as objects, bytes as base64 text.
fn json(value: &any_value::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        any_value::Value::StringValue(s) => J::String(s.clone()),
        any_value::Value::BoolValue(b) => J::Bool(*b),
        any_value::Value::IntValue(n) => J::from(*n),
        any_value::Value::DoubleValue(n) => J::from(*n),
        any_value::Value::ArrayValue(list) => J::Array(
            list.values
                .iter()
                .filter_map(|v| v.value.as_ref().map(json))
                .collect(),
        ),
        any_value::Value::KvlistValue(list) => J::Object(
            list.values
                .iter()
                .filter_map(|kv| Some((kv.key.clone(), json(kv.value.as_ref()?.value.as_ref()?))))
                .collect(),
        ),
        any_value::Value::BytesValue(bytes) => J::String(super::json::base64(bytes)),
        any_value::Value::StringValueStrindex(_) => J::Null,
    }
}
