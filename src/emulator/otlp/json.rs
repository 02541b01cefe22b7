//! OTLP/JSON read the way real senders write it, into the OpenTelemetry project's generated
//! types. The OTLP/HTTP specification writes ids as hex and 64-bit numbers as decimal text;
//! real senders also send:
//! - `null` for a field that has no value (HoneyHive's Python SDK writes `"parentSpanId": null`
//!   on roots);
//! - enum values by name, in full (`SPAN_KIND_CLIENT`, `STATUS_CODE_ERROR`) or short (`CLIENT`);
//! - numbers as text or as numbers;
//! - ids in base64, as a stock protobuf JSON printer writes bytes;
//! - field names in the protobuf's `snake_case` as well as JSON's `lowerCamelCase`;
//! - the old `instrumentationLibrarySpans`.
//!
//! A body that is not such a document is an error naming where it went wrong. An id that is
//! neither hex nor base64 becomes empty, so its span is rejected by the conversion (and counted)
//! rather than failing the whole request.

use base64::Engine as _;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use serde_json::{Map, Value};

/// Where a field was, for an error: `resourceSpans[0].scopeSpans[1].spans[2]`.
type Path<'a> = &'a str;

/// A JSON body as an export request, or what is wrong with it.
pub(crate) fn decode(body: &[u8]) -> Result<ExportTraceServiceRequest, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let root = object(&value, "the body")?;
    let resource_spans = list(root, "resourceSpans", "")?
        .iter()
        .enumerate()
        .map(|(i, v)| resource_spans(v, &format!("resourceSpans[{i}]")))
        .collect::<Result<_, _>>()?;
    Ok(ExportTraceServiceRequest { resource_spans })
}

/// Base64 (standard alphabet, padded), as OTLP/JSON writes bytes values.
pub(crate) fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn object<'v>(value: &'v Value, path: Path<'_>) -> Result<&'v Map<String, Value>, String> {
    value
        .as_object()
        .ok_or_else(|| format!("{path}: expected an object, found {}", kind(value)))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The field `camel` (or its `snake_case` name); a null is no field.
fn field<'v>(map: &'v Map<String, Value>, camel: &str) -> Option<&'v Value> {
    map.get(camel)
        .or_else(|| map.get(&snake(camel)))
        .filter(|v| !v.is_null())
}

fn snake(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn list<'v>(map: &'v Map<String, Value>, key: &str, path: Path<'_>) -> Result<&'v [Value], String> {
    match field(map, key) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(format!(
            "{path}.{key}: expected a list, found {}",
            kind(other)
        )),
    }
}

fn text(map: &Map<String, Value>, key: &str, path: Path<'_>) -> Result<String, String> {
    match field(map, key) {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!(
            "{path}.{key}: expected text, found {}",
            kind(other)
        )),
    }
}

/// An unsigned number, given as a number or as decimal text.
fn unsigned(map: &Map<String, Value>, key: &str, path: Path<'_>) -> Result<u64, String> {
    let bad = |v: &Value| format!("{path}.{key}: expected a whole number, found {}", kind(v));
    match field(map, key) {
        None => Ok(0),
        Some(Value::Number(n)) => n.as_u64().ok_or_else(|| bad(&Value::Number(n.clone()))),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map_err(|_| format!("{path}.{key}: `{s}` is not a whole number")),
        Some(other) => Err(bad(other)),
    }
}

fn small(map: &Map<String, Value>, key: &str, path: Path<'_>) -> Result<u32, String> {
    let n = unsigned(map, key, path)?;
    u32::try_from(n).map_err(|_| format!("{path}.{key}: {n} is too large"))
}

/// An enum given by number or by name; `names` lists (full name, number); the prefix of the
/// full name may be left out.
fn enumerated(
    map: &Map<String, Value>,
    key: &str,
    path: Path<'_>,
    prefix: &str,
    names: &[(&str, i32)],
) -> Result<i32, String> {
    match field(map, key) {
        None => Ok(0),
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| format!("{path}.{key}: {n} is not a valid value")),
        Some(Value::String(name)) => {
            let name = name.trim().to_ascii_uppercase();
            let full = if name.starts_with(prefix) {
                name.clone()
            } else {
                format!("{prefix}{name}")
            };
            names
                .iter()
                .find(|(n, _)| *n == full)
                .map(|(_, v)| *v)
                .or_else(|| name.parse().ok())
                .ok_or_else(|| format!("{path}.{key}: `{name}` is not a known value"))
        }
        Some(other) => Err(format!(
            "{path}.{key}: expected a name or a number, found {}",
            kind(other)
        )),
    }
}

/// An id: hex as OTLP/JSON writes it, else base64 as a protobuf JSON printer writes bytes.
/// Anything else is empty, and its span is rejected.
fn id(map: &Map<String, Value>, key: &str) -> Vec<u8> {
    let Some(Value::String(text)) = field(map, key) else {
        return Vec::new();
    };
    let text = text.trim();
    let hex = text.len() % 2 == 0 && text.bytes().all(|b| b.is_ascii_hexdigit());
    if hex {
        return (0..text.len())
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
            .collect();
    }
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(text))
        .unwrap_or_default()
}

fn key_values(
    map: &Map<String, Value>,
    key: &str,
    path: Path<'_>,
) -> Result<Vec<KeyValue>, String> {
    list(map, key, path)?
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let path = format!("{path}.{key}[{i}]");
            let kv = object(item, &path)?;
            Ok(KeyValue {
                key: text(kv, "key", &path)?,
                value: field(kv, "value")
                    .map(|v| any_value(v, &format!("{path}.value")))
                    .transpose()?,
                ..KeyValue::default()
            })
        })
        .collect()
}

fn any_value(value: &Value, path: Path<'_>) -> Result<AnyValue, String> {
    let map = object(value, path)?;
    let inner = if let Some(v) = field(map, "stringValue") {
        Some(any_value::Value::StringValue(match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }))
    } else if let Some(v) = field(map, "boolValue") {
        Some(any_value::Value::BoolValue(match v {
            Value::Bool(b) => *b,
            Value::String(s) => s.eq_ignore_ascii_case("true"),
            other => return Err(format!("{path}.boolValue: found {}", kind(other))),
        }))
    } else if let Some(v) = field(map, "intValue") {
        let n = match v {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        Some(any_value::Value::IntValue(n.ok_or_else(|| {
            format!("{path}.intValue: `{v}` is not an integer")
        })?))
    } else if let Some(v) = field(map, "doubleValue") {
        let n = match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        Some(any_value::Value::DoubleValue(n.ok_or_else(|| {
            format!("{path}.doubleValue: `{v}` is not a number")
        })?))
    } else if let Some(v) = field(map, "arrayValue") {
        let values = list(object(v, path)?, "values", path)?
            .iter()
            .enumerate()
            .map(|(i, item)| any_value(item, &format!("{path}.arrayValue.values[{i}]")))
            .collect::<Result<_, _>>()?;
        Some(any_value::Value::ArrayValue(ArrayValue { values }))
    } else if let Some(v) = field(map, "kvlistValue") {
        let values = key_values(object(v, path)?, "values", &format!("{path}.kvlistValue"))?;
        Some(any_value::Value::KvlistValue(KeyValueList { values }))
    } else if let Some(Value::String(s)) = field(map, "bytesValue") {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .map_err(|_| format!("{path}.bytesValue: not base64"))?;
        Some(any_value::Value::BytesValue(bytes))
    } else {
        None
    };
    Ok(AnyValue { value: inner })
}

fn resource_spans(value: &Value, path: Path<'_>) -> Result<ResourceSpans, String> {
    let map = object(value, path)?;
    let resource = field(map, "resource")
        .map(|r| {
            let path = format!("{path}.resource");
            let r = object(r, &path)?;
            Ok::<_, String>(Resource {
                attributes: key_values(r, "attributes", &path)?,
                dropped_attributes_count: small(r, "droppedAttributesCount", &path)?,
                ..Resource::default()
            })
        })
        .transpose()?;
    // `instrumentationLibrarySpans` is what OTLP called scope spans before 0.15.
    let (key, scopes) = match field(map, "scopeSpans") {
        Some(_) => ("scopeSpans", list(map, "scopeSpans", path)?),
        None => (
            "instrumentationLibrarySpans",
            list(map, "instrumentationLibrarySpans", path)?,
        ),
    };
    let scope_spans = scopes
        .iter()
        .enumerate()
        .map(|(i, v)| scope_spans(v, &format!("{path}.{key}[{i}]")))
        .collect::<Result<_, _>>()?;
    Ok(ResourceSpans {
        resource,
        scope_spans,
        schema_url: text(map, "schemaUrl", path)?,
    })
}

fn scope_spans(value: &Value, path: Path<'_>) -> Result<ScopeSpans, String> {
    let map = object(value, path)?;
    let scope = field(map, "scope")
        .or_else(|| field(map, "instrumentationLibrary"))
        .map(|s| {
            let path = format!("{path}.scope");
            let s = object(s, &path)?;
            Ok::<_, String>(InstrumentationScope {
                name: text(s, "name", &path)?,
                version: text(s, "version", &path)?,
                attributes: key_values(s, "attributes", &path)?,
                dropped_attributes_count: small(s, "droppedAttributesCount", &path)?,
            })
        })
        .transpose()?;
    let spans = list(map, "spans", path)?
        .iter()
        .enumerate()
        .map(|(i, v)| span(v, &format!("{path}.spans[{i}]")))
        .collect::<Result<_, _>>()?;
    Ok(ScopeSpans {
        scope,
        spans,
        schema_url: text(map, "schemaUrl", path)?,
    })
}

const KINDS: [(&str, i32); 6] = [
    ("SPAN_KIND_UNSPECIFIED", 0),
    ("SPAN_KIND_INTERNAL", 1),
    ("SPAN_KIND_SERVER", 2),
    ("SPAN_KIND_CLIENT", 3),
    ("SPAN_KIND_PRODUCER", 4),
    ("SPAN_KIND_CONSUMER", 5),
];

const STATUS_CODES: [(&str, i32); 3] = [
    ("STATUS_CODE_UNSET", 0),
    ("STATUS_CODE_OK", 1),
    ("STATUS_CODE_ERROR", 2),
];

fn span(value: &Value, path: Path<'_>) -> Result<Span, String> {
    let map = object(value, path)?;
    let events = list(map, "events", path)?
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let path = format!("{path}.events[{i}]");
            let e = object(v, &path)?;
            Ok(span::Event {
                time_unix_nano: unsigned(e, "timeUnixNano", &path)?,
                name: text(e, "name", &path)?,
                attributes: key_values(e, "attributes", &path)?,
                dropped_attributes_count: small(e, "droppedAttributesCount", &path)?,
            })
        })
        .collect::<Result<_, String>>()?;
    let links = list(map, "links", path)?
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let path = format!("{path}.links[{i}]");
            let l = object(v, &path)?;
            Ok(span::Link {
                trace_id: id(l, "traceId"),
                span_id: id(l, "spanId"),
                trace_state: text(l, "traceState", &path)?,
                attributes: key_values(l, "attributes", &path)?,
                dropped_attributes_count: small(l, "droppedAttributesCount", &path)?,
                flags: small(l, "flags", &path)?,
            })
        })
        .collect::<Result<_, String>>()?;
    let status = field(map, "status")
        .map(|s| {
            let path = format!("{path}.status");
            let s = object(s, &path)?;
            Ok::<_, String>(Status {
                message: text(s, "message", &path)?,
                code: enumerated(s, "code", &path, "STATUS_CODE_", &STATUS_CODES)?,
            })
        })
        .transpose()?;
    Ok(Span {
        trace_id: id(map, "traceId"),
        span_id: id(map, "spanId"),
        trace_state: text(map, "traceState", path)?,
        parent_span_id: id(map, "parentSpanId"),
        flags: small(map, "flags", path)?,
        name: text(map, "name", path)?,
        kind: enumerated(map, "kind", path, "SPAN_KIND_", &KINDS)?,
        start_time_unix_nano: unsigned(map, "startTimeUnixNano", path)?,
        end_time_unix_nano: unsigned(map, "endTimeUnixNano", path)?,
        attributes: key_values(map, "attributes", path)?,
        dropped_attributes_count: small(map, "droppedAttributesCount", path)?,
        events,
        dropped_events_count: small(map, "droppedEventsCount", path)?,
        links,
        dropped_links_count: small(map, "droppedLinksCount", path)?,
        status,
    })
}
