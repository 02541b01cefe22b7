//! Finished spans → the wire bodies HoneyHive receives. Pure functions, run on the exporter
//! thread; the tables they implement are in the crate docs.
//!
//! This file maps a span to an event: its objects, type, name, error and times. The objects as
//! they are filled are `buckets.rs`'s; what a session's root becomes, `session.rs`'s.

mod buckets;
pub(crate) mod dialects;
pub(crate) mod gen_ai;
mod langchain;
mod mapped;
mod session;

use serde_json::Value;
use uuid::Uuid;

use crate::limits::bounded;
use crate::recorded::{Bucket, Children, FieldValue, FinishedSpan, Log, Recorded};
use crate::wire::{Event, EventType};
pub(crate) use buckets::{Buckets, Key, Object, in_key_order, json_object};
use buckets::{LOGS, float, logs_of, suffix, to_json};
use langchain::Span as Langchain;
pub(crate) use mapped::Mapped;
pub(crate) use session::{merge_updates, session_name};

/// The settings mapping depends on.
#[derive(Debug, Clone)]
pub(crate) struct Mapper {
    pub(crate) source: String,
    /// `HH_PROJECT`: recorded in each session's metadata (the API key selects the project).
    pub(crate) project: Option<String>,
    pub(crate) max_field_bytes: usize,
    /// Message content is sent; when not, the text in inputs and outputs is hidden.
    pub(crate) capture_content: bool,
}

impl Mapper {
    /// `honeyhive.source` when the span gives one, else the configured source.
    fn source_of(&self, recorded: &Recorded) -> String {
        recorded
            .source
            .clone()
            .unwrap_or_else(|| self.source.clone())
    }

    /// A structured value with every string cut to the bound.
    fn json(&self, mut value: Value, truncated: &mut u32) -> Value {
        cut_strings(&mut value, self.max_field_bytes, truncated);
        value
    }

    /// The buckets of a span: routed fields, then its events, then the extension trait's values.
    /// What was recorded is taken by value, so that its texts move into the buckets. `langchain`
    /// is the langchain-rust span it is, whose own fields it places first.
    fn buckets(
        &self,
        recorded: Recorded,
        extra: &[(Bucket, Value)],
        langchain: Option<Langchain>,
        truncated: &mut u32,
    ) -> Buckets {
        let mut buckets = Buckets::default();
        let mut renested: Vec<(Bucket, String)> = Vec::new();
        for (field, value) in recorded.fields.0 {
            let name = field.as_ref();
            let value = to_json(value);
            let sdk = name
                .strip_prefix(crate::fields::SDK_BUCKET_PREFIX)
                .and_then(Bucket::route)
                .filter(|(_, key)| !key.is_empty());
            // A bare `metadata` holding text is OpenInference's JSON metadata, for the dialects.
            let route = Bucket::route(name).filter(|_| !(name == "metadata" && value.is_string()));
            if let Some(bucket) = Bucket::json_field(name) {
                buckets.merge(bucket, self.json(parse_object(value), truncated));
            } else if let Some((bucket, key)) = route {
                buckets.put(bucket, suffix(&field, key), value);
            } else if let Some((bucket, key)) = sdk {
                buckets.put_nested(bucket, key, value);
                let top = key.split('.').next().unwrap_or(key).to_owned();
                renested.push((bucket, top));
            } else {
                let value = match langchain {
                    Some(span) => match span.place(name, value) {
                        Ok((bucket, key, value)) => {
                            buckets.put(bucket, Key::Borrowed(key), value);
                            continue;
                        }
                        Err(value) => value,
                    },
                    None => value,
                };
                match dialects::try_place(name, value) {
                    Ok(placements) => buckets.apply(placements, &mut renested),
                    Err(value) if name.starts_with("gen_ai.") => {
                        match gen_ai::try_family(name, value) {
                            Ok(placements) => buckets.apply(placements, &mut renested),
                            Err(value) => {
                                // JSON text was kept whole to be parsed; its strings are
                                // bounded now.
                                let mut put = |b, k, v| buckets.put(b, k, self.json(v, truncated));
                                gen_ai::place(name, value, &mut put);
                            }
                        }
                    }
                    Err(value) => buckets.put(Bucket::Metadata, field, value),
                }
            }
        }
        buckets.arrays(renested);
        if !recorded.logs.is_empty() {
            buckets.get_mut(Bucket::Metadata).remove(LOGS);
            buckets.logs = recorded.logs;
        }
        if recorded.logs_dropped > 0 {
            buckets.put(
                Bucket::Metadata,
                Key::Borrowed("logs_dropped"),
                recorded.logs_dropped.into(),
            );
        }
        for (bucket, value) in recorded.json {
            buckets.merge(bucket, self.json(value, truncated));
        }
        for (bucket, value) in extra {
            buckets.merge(*bucket, self.json(value.clone(), truncated));
        }
        gen_ai::complete_usage(buckets.get_mut(Bucket::Metadata));
        gen_ai::finish(buckets.get_mut(Bucket::Inputs));
        let reasons = buckets
            .get_mut(Bucket::Metadata)
            .get("finish_reasons")
            .cloned();
        gen_ai::finish_reason(buckets.get_mut(Bucket::Outputs), reasons.as_ref());
        if !self.capture_content {
            for bucket in [Bucket::Inputs, Bucket::Outputs] {
                buckets.get_mut(bucket).iter_mut().for_each(hide_content);
            }
        }
        buckets
    }

    /// `honeyhive.event_type` first, else the type of the langchain-rust span it is, else
    /// `gen_ai.operation.name`, else the span kind another dialect declares (OpenInference,
    /// Traceloop, Langfuse), else what the model or tool attributes imply, else `chain`. An
    /// explicit type that is not `model`, `tool` or `chain` is kept as
    /// `metadata["honeyhive.invalid_event_type"]` and ignored.
    fn event_type(
        recorded: &Recorded,
        langchain: Option<Langchain>,
    ) -> (EventType, Option<String>) {
        let explicit = recorded.event_type.as_deref().map(str::trim);
        let parsed = explicit.and_then(|t| match t.to_ascii_lowercase().as_str() {
            "model" | "llm" => Some(EventType::Model),
            "tool" => Some(EventType::Tool),
            "chain" => Some(EventType::Chain),
            _ => None,
        });
        if let Some(event_type) = parsed {
            return (event_type, None);
        }
        let fields = &recorded.fields;
        let operation = fields.get("gen_ai.operation.name").and_then(|v| match v {
            FieldValue::Str(s) => Some(s.as_str()),
            _ => None,
        });
        // The span langchain-rust names, the operation, then another dialect's declared kind,
        // then the attributes present.
        let inferred = langchain
            .map(Langchain::event_type)
            .or_else(|| gen_ai::infer_event_type(operation, false, false))
            .or_else(|| dialects::event_type(fields))
            .or_else(|| {
                gen_ai::infer_event_type(
                    None,
                    fields.get("gen_ai.request.model").is_some(),
                    fields.get("gen_ai.tool.name").is_some(),
                )
            });
        let invalid = explicit.filter(|t| !t.is_empty()).map(str::to_owned);
        (inferred.unwrap_or(EventType::Chain), invalid)
    }

    /// `honeyhive.event_name`, else `otel.name`, else the name the GenAI conventions give a span
    /// named only by its operation (`chat gpt-4o-mini`), else the span name.
    fn event_name(span: &FinishedSpan) -> String {
        Mapper::given_name(span).unwrap_or_else(|| span.name.to_string())
    }

    /// The event name a span gives beyond its own name.
    fn given_name(span: &FinishedSpan) -> Option<String> {
        let recorded = &span.recorded;
        recorded
            .event_name
            .clone()
            .or_else(|| recorded.otel_name.clone())
            .or_else(|| gen_ai::span_name(&recorded.fields, &span.name))
    }

    /// The error a span reports: its own (the `error` field, an `ERROR` event, an error status),
    /// else that of a failed tool call.
    /// An error that is only an HTTP status in `error.type` (as genai records a provider's
    /// answer) reads as one: `HTTP 404 Not Found`.
    fn error(recorded: &Recorded) -> Option<String> {
        let error = recorded
            .error()
            .or_else(|| gen_ai::tool_error(&recorded.fields))?;
        let from_type = recorded
            .fields
            .get("error.type")
            .is_some_and(|t| t.to_string() == error);
        let status = error
            .parse::<u16>()
            .ok()
            .and_then(|code| reqwest::StatusCode::from_u16(code).ok())
            .filter(|_| from_type && error.len() == 3);
        Some(match status {
            Some(status) => format!(
                "HTTP {} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("error")
            ),
            None => error,
        })
    }

    /// An event of the session: `parent` is the parent span's event, or the session id. The span
    /// is consumed: its texts move into the event, which keeps the mapping's own form of its
    /// objects until it is written ([`Mapped`]).
    pub(crate) fn event(
        &self,
        span: FinishedSpan,
        parent: Uuid,
        children: &Children,
        truncated: &mut u32,
    ) -> Mapped {
        let langchain = Langchain::of(&span.target, &span.name);
        let (event_type, invalid) = Mapper::event_type(&span.recorded, langchain);
        let event_name = Mapper::event_name(&span);
        let error =
            Mapper::error(&span.recorded).map(|e| bounded(&e, self.max_field_bytes, truncated));
        let source = self.source_of(&span.recorded);
        let (start, end, duration) = times(&span);
        let mut buckets = self.buckets(span.recorded, &[], langchain, truncated);
        if let Some(raw) = invalid {
            buckets.put(
                Bucket::Metadata,
                Key::Borrowed("honeyhive.invalid_event_type"),
                raw.into(),
            );
        }
        let children = children_ids(children, &mut buckets, truncated);
        let mut event = Event::new(event_type);
        event.event_id = Some(span.event_id);
        event.session_id = Some(span.session.id);
        event.parent_id = Some(parent);
        event.children_ids = children;
        event.event_name = Some(event_name);
        event.source = Some(source);
        event.start_time = Some(start);
        event.end_time = Some(end);
        event.duration = Some(duration);
        event.error = error;
        Mapped::new(event, buckets.objects, buckets.logs)
    }
}

/// The `children_ids` to send: `None` for none. Children past [`Children::MAX`] are left out,
/// counted as a truncation and under `metadata["honeyhive.children_ids_omitted"]`.
fn children_ids(
    children: &Children,
    buckets: &mut Buckets,
    truncated: &mut u32,
) -> Option<Vec<Uuid>> {
    if children.omitted > 0 {
        *truncated = truncated.saturating_add(1);
        buckets.put(
            Bucket::Metadata,
            Key::Borrowed("honeyhive.children_ids_omitted"),
            children.omitted.into(),
        );
    }
    (!children.ids.is_empty()).then(|| children.ids.clone())
}

/// Start and end in Unix epoch milliseconds, and the duration in milliseconds to the
/// microsecond.
fn times(span: &FinishedSpan) -> (i64, i64, f64) {
    let duration = (span.duration_ms * 1e3).round() / 1e3;
    // The precise end, cut to the millisecond as the start is: a span that ends within another
    // never reads as ending after it.
    let end = span
        .start_ms
        .saturating_add((span.start_fraction + span.duration_ms).floor() as i64);
    (span.start_ms, end, duration)
}

/// What replaces hidden content.
pub(crate) const HIDDEN: &str = "[hidden]";

/// Keys whose text is structure, not content: kept when content is hidden.
const STRUCTURE: [&str; 6] = [
    "role",
    "type",
    "id",
    "tool_call_id",
    "name",
    "finish_reason",
];

/// Every text below `(key, value)` replaced by [`HIDDEN`], but the values of [`STRUCTURE`] keys
/// (roles, tool names and call ids) and the keys themselves. Iterative: values may be deep.
fn hide_content((key, value): (&Key, &mut Value)) {
    let mut stack: Vec<(bool, &mut Value)> = vec![(STRUCTURE.contains(&key.as_ref()), value)];
    while let Some((structural, value)) = stack.pop() {
        match value {
            Value::String(text) if !structural => *text = HIDDEN.to_owned(),
            Value::Array(items) => stack.extend(items.iter_mut().map(|v| (false, v))),
            Value::Object(map) => {
                stack.extend(
                    map.iter_mut()
                        .map(|(k, v)| (STRUCTURE.contains(&k.as_str()), v)),
                );
            }
            _ => {}
        }
    }
}

/// The value of a field holding a whole object as JSON text (`honeyhive.inputs`): parsed, its
/// depth bounded; text that is not JSON stays text (then kept under `value`).
fn parse_object(value: Value) -> Value {
    match value {
        Value::String(text) => match serde_json::from_str::<Value>(&text) {
            Ok(mut parsed) => {
                crate::limits::bound_depth(&mut parsed, crate::limits::MAX_DEPTH);
                parsed
            }
            Err(_) => Value::String(text),
        },
        other => other,
    }
}

fn cut_strings(value: &mut Value, max: usize, truncated: &mut u32) {
    match value {
        Value::String(s) if s.len() > max => *s = bounded(s, max, truncated),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| cut_strings(v, max, truncated)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| cut_strings(v, max, truncated)),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
