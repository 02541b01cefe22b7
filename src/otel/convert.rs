//! OpenTelemetry's `SpanData` → the neutral form ([`FinishedSpan`]) that the mapping reads, the
//! same form the tracing layer produces. Pure: ids are derived from the trace and span ids,
//! never drawn, so that every export, in any order and from any service, agrees.

use foldhash::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanId, SpanKind, Status};
use opentelemetry::{Array, KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SpanData;
use serde_json::json;
use tracing::Level;
use uuid::Uuid;

use super::names::intern;
use crate::fields::SESSION_KEY;
use crate::ids;
use crate::limits::bounded;
use crate::recorded::{
    Bucket, FieldValue, Fields, FinishedSpan, Log, Name, Recorded, Role, SessionSeed,
};

/// Attributes that put a trace in a session named by their value, the first present winning:
/// HoneyHive's own, then OpenTelemetry's `session.id`, Traceloop's association property, and
/// the GenAI conversation id.
pub(crate) const GROUPING_KEYS: [&str; 4] = [
    crate::fields::SESSION_ID,
    "session.id",
    "traceloop.association.properties.session_id",
    "gen_ai.conversation.id",
];

/// The name of an exception event, and its attributes (OpenTelemetry's semantic conventions).
const EXCEPTION: &str = "exception";
const EXCEPTION_MESSAGE: &str = "exception.message";
const EXCEPTION_TYPE: &str = "exception.type";
const EXCEPTION_STACKTRACE: &str = "exception.stacktrace";

/// What converting needs: the settings shared with the layer, and the provider's resource.
#[derive(Debug, Clone)]
pub(crate) struct Converter {
    /// `with_session_name` / `HH_SESSION_NAME`.
    pub(crate) session_name: Option<String>,
    pub(crate) max_field_bytes: usize,
    pub(crate) max_events_per_span: usize,
    /// The most verbose span events kept in `metadata.logs`.
    pub(crate) logs_level: tracing::level_filters::LevelFilter,
    /// The resource's attributes, recorded on every span before its own.
    resource: Vec<(Name, FieldValue)>,
    /// `service.name`: the name of a session whose root has not been seen.
    service_name: Option<String>,
}

impl Converter {
    /// A converter with the settings the layer would have.
    pub(crate) fn new(settings: &crate::layer::Settings) -> Self {
        Converter {
            session_name: settings.session_name.clone(),
            max_field_bytes: settings.max_field_bytes,
            max_events_per_span: settings.max_events_per_span,
            logs_level: settings.logs_level,
            resource: Vec::new(),
            service_name: None,
        }
    }

    pub(crate) fn set_resource(&mut self, resource: &Resource) {
        let mut truncated = 0;
        self.resource = resource
            .iter()
            .map(|(key, value)| {
                let value = self.value(key.as_str(), value.clone(), &mut truncated);
                (intern(key.as_str()), value)
            })
            .collect();
        self.service_name = self
            .resource
            .iter()
            .find(|(name, _)| name == "service.name")
            .map(|(_, value)| value.to_string());
    }

    /// An attribute value, its text bounded to the field size.
    fn value(&self, name: &str, value: Value, truncated: &mut u32) -> FieldValue {
        let max = Bucket::max_text(name, self.max_field_bytes);
        let text = |s: String, truncated: &mut u32| {
            if s.len() > max {
                FieldValue::Str(bounded(&s, max, truncated))
            } else {
                FieldValue::Str(s)
            }
        };
        match value {
            Value::Bool(b) => FieldValue::Bool(b),
            Value::I64(n) => FieldValue::I64(n),
            Value::F64(n) => FieldValue::F64(n),
            Value::String(s) => text(s.into(), truncated),
            Value::Array(Array::Bool(items)) => {
                FieldValue::List(items.into_iter().map(FieldValue::Bool).collect())
            }
            Value::Array(Array::I64(items)) => {
                FieldValue::List(items.into_iter().map(FieldValue::I64).collect())
            }
            Value::Array(Array::F64(items)) => {
                FieldValue::List(items.into_iter().map(FieldValue::F64).collect())
            }
            Value::Array(Array::String(items)) => FieldValue::List(
                items
                    .into_iter()
                    .map(|s| text(s.into(), truncated))
                    .collect(),
            ),
            other => text(other.to_string(), truncated),
        }
    }

    fn attributes(
        &self,
        attributes: Vec<KeyValue>,
        truncated: &mut u32,
    ) -> Vec<(Name, FieldValue)> {
        attributes
            .into_iter()
            .map(|kv| {
                let value = self.value(kv.key.as_str(), kv.value, truncated);
                (intern(kv.key.as_str()), value)
            })
            .collect()
    }

    /// One finished OpenTelemetry span as the pipeline carries it.
    #[cfg(test)]
    pub(crate) fn convert(&self, span: SpanData, truncated: &mut u32) -> Box<FinishedSpan> {
        self.convert_in(span, &mut Derived::default(), truncated)
    }

    /// One span of a batch; `ids` keeps the ids derived for the batch's earlier spans.
    pub(crate) fn convert_in(
        &self,
        span: SpanData,
        ids: &mut Derived,
        truncated: &mut u32,
    ) -> Box<FinishedSpan> {
        let mut recorded = Recorded::default();
        // Sized once: a span's fields are its resource's and its attributes (less the control
        // names, plus the few `describe` adds), so the list neither grows by doubling as they
        // come, which cost a reallocation each time, nor holds up to twice the room it uses
        // while the span waits in the queue.
        recorded
            .fields
            .0
            .reserve_exact(self.resource.len() + span.attributes.len() + DESCRIBED);
        for (name, value) in self.resource.iter().cloned() {
            recorded.put(name, value);
        }
        for (name, value) in self.attributes(span.attributes, truncated) {
            recorded.put(name, value);
        }
        if let Status::Error { description } = &span.status {
            recorded.otel_status_error = true;
            recorded.otel_status_message = Some(description.to_string()).filter(|d| !d.is_empty());
        }
        let scope = span.instrumentation_scope.name().to_owned();
        self.events(&mut recorded, span.events, &scope, truncated);
        describe(&mut recorded, span.span_kind, &span.instrumentation_scope);
        if span.dropped_attributes_count > 0 {
            recorded.fields.set(
                "otel.dropped_attributes_count",
                FieldValue::I64(span.dropped_attributes_count.into()),
            );
        }
        links(&mut recorded, &span.links.links);

        let trace = span.span_context.trace_id().to_bytes();
        let event_id = ids.event(trace, span.span_context.span_id().to_bytes());
        let trace_session = ids.session(trace);
        let parent = (span.parent_span_id != SpanId::INVALID)
            .then(|| ids.event(trace, span.parent_span_id.to_bytes()));
        // The span that begins this service's part of the trace: the root, or a span whose
        // parent is in another service.
        let local_root = parent.is_none() || span.parent_span_is_remote;
        let (start_ms, start_fraction) = unix_ms(span.start_time);
        let duration_ms = span
            .end_time
            .duration_since(span.start_time)
            .map_or(0.0, |d| d.as_secs_f64() * 1e3);

        // A key naming the trace's own session (what `HoneyHiveSpanProcessor` stamps on a trace
        // with no key of its own) is no key: the trace is grouped as it would be without it, its
        // root the session, whichever path the span took.
        let key = grouping_key(&mut recorded)
            .filter(|key| Uuid::parse_str(key.trim()).ok() != Some(trace_session));
        let (session, role, owns_joined_session) = match key {
            Some(key) => {
                let id = ids::session_id_for_key(&key);
                let mut session_fields = Fields::default();
                if !ids::is_uuid(&key) {
                    recorded
                        .fields
                        .set(SESSION_KEY, FieldValue::Str(key.clone()));
                    // On the session too, where HoneyHive's docs promise it.
                    session_fields.set(SESSION_KEY, FieldValue::Str(key.clone()));
                }
                let name = if local_root {
                    self.session_name(&recorded, &span.name)
                } else {
                    self.unseen_root_name(&recorded, || key.clone()).into()
                };
                let seed = SessionSeed {
                    id,
                    joined: true,
                    trace: false,
                    name,
                    source: recorded.source.clone(),
                    start_ms,
                    fields: session_fields,
                };
                // The local root is an event of the session it joins, under the caller's event
                // when it names one (`honeyhive.parent_id`); else below a remote parent it stays
                // under that parent.
                let given = recorded.parent_id.filter(|_| local_root);
                let role = Role::Event {
                    parent: given.or(parent).unwrap_or(id),
                };
                (seed, role, local_root)
            }
            None => {
                let root = parent.is_none();
                let name = if root {
                    self.session_name(&recorded, &span.name)
                } else {
                    self.unseen_root_name(&recorded, || {
                        format!("trace {:032x}", u128::from_be_bytes(trace))
                    })
                    .into()
                };
                let seed = SessionSeed {
                    id: trace_session,
                    joined: false,
                    trace: true,
                    name,
                    source: recorded.source.clone(),
                    start_ms,
                    fields: if root {
                        recorded.fields.clone()
                    } else {
                        Fields::default()
                    },
                };
                let role = match parent {
                    None => Role::Session,
                    Some(parent) => Role::Event { parent },
                };
                (seed, role, false)
            }
        };
        Box::new(FinishedSpan {
            session: Arc::new(session),
            role,
            event_id,
            name: span.name,
            target: target(&recorded.fields, scope),
            level: Level::INFO,
            start_ms,
            start_fraction,
            duration_ms,
            recorded,
            draft: Default::default(),
            owns_joined_session,
            session_json: Vec::new(),
            trace_session: Some(trace_session),
            held_bytes: 0,
            late: None,
        })
    }

    /// The session's name, as the layer names it ([`crate::mapping::session_name`]).
    fn session_name(&self, recorded: &Recorded, span_name: &Name) -> Name {
        crate::mapping::session_name(
            recorded.session_name.as_deref(),
            &recorded.fields,
            self.session_name.as_deref(),
            span_name.clone(),
        )
    }

    /// The name of a session seen first through a span that does not start it:
    /// `honeyhive.session_name`, else the configured name, else the resource's `service.name`,
    /// else `fallback` (the grouping key, or the trace id).
    fn unseen_root_name(&self, recorded: &Recorded, fallback: impl FnOnce() -> String) -> String {
        recorded
            .session_name
            .clone()
            .or_else(|| self.session_name.clone())
            .or_else(|| self.service_name.clone())
            .unwrap_or_else(fallback)
    }

    /// Span events: an `exception` sets the error (its type and stack trace go to metadata);
    /// the others are kept, bounded, as the layer keeps `tracing` events, an `ERROR` one setting
    /// the error when nothing else has.
    fn events(
        &self,
        recorded: &mut Recorded,
        events: opentelemetry_sdk::trace::SpanEvents,
        scope: &str,
        truncated: &mut u32,
    ) {
        recorded.logs_dropped = recorded.logs_dropped.saturating_add(events.dropped_count);
        for event in events.events {
            let mut fields = Fields(Vec::with_capacity(event.attributes.len()));
            for (name, value) in self.attributes(event.attributes, truncated) {
                fields.set(name, value);
            }
            recorded.lift(&mut fields);
            if event.name == EXCEPTION {
                let text = |name: &str| fields.get(name).map(|v| v.to_string());
                if recorded.error.is_none() {
                    recorded.error = text(EXCEPTION_MESSAGE)
                        .or_else(|| text(EXCEPTION_TYPE))
                        .or_else(|| Some(EXCEPTION.to_owned()));
                    for name in [EXCEPTION_TYPE, EXCEPTION_STACKTRACE] {
                        if let Some(value) = fields.get(name) {
                            recorded.fields.set(name, value.clone());
                        }
                    }
                }
                continue;
            }
            // tracing-opentelemetry puts a `tracing` event's level and target in attributes.
            let level = take_text(&mut fields, "level")
                .and_then(|l| l.parse::<Level>().ok())
                .unwrap_or(Level::INFO);
            let target = take_text(&mut fields, "target").unwrap_or_else(|| scope.to_owned());
            if level == Level::ERROR && recorded.error.is_none() {
                recorded.error = Some(event.name.to_string());
            }
            if level > self.logs_level {
                // More verbose than the events kept: not a loss, a setting.
                continue;
            }
            if recorded.logs.len() < self.max_events_per_span {
                recorded.logs.push(Log {
                    time_ms: unix_ms(event.timestamp).0,
                    level,
                    target: target.into(),
                    message: event.name.into_owned(),
                    fields,
                });
            } else {
                recorded.logs_dropped = recorded.logs_dropped.saturating_add(1);
            }
        }
    }
}

/// The ids derived while converting one batch. Each is a SHA-1 (a version 5 UUID), and a batch
/// names the same ones again and again: a trace's session for each of its spans, a parent's
/// event for each child and for the parent itself.
#[derive(Debug, Default)]
pub(crate) struct Derived {
    sessions: HashMap<[u8; 16], Uuid>,
    events: HashMap<([u8; 16], [u8; 8]), Uuid>,
}

impl Derived {
    fn session(&mut self, trace: [u8; 16]) -> Uuid {
        *self
            .sessions
            .entry(trace)
            .or_insert_with(|| ids::session_id_for_trace(trace))
    }

    fn event(&mut self, trace: [u8; 16], span: [u8; 8]) -> Uuid {
        *self
            .events
            .entry((trace, span))
            .or_insert_with(|| ids::event_id_for_span(trace, span))
    }
}

/// The first grouping key present, as text; `honeyhive.session_id` is taken out of the fields
/// (it is a control), the others stay visible in metadata.
fn grouping_key(recorded: &mut Recorded) -> Option<String> {
    if let Some(key) = recorded.session_id.take().filter(|k| !k.trim().is_empty()) {
        return Some(key);
    }
    GROUPING_KEYS[1..]
        .iter()
        .filter_map(|name| recorded.fields.get(name))
        .map(|value| value.to_string())
        .find(|key| !key.trim().is_empty())
}

/// A span's `tracing` target, by which the mapping knows a crate's own spans: the `target`
/// attribute tracing-opentelemetry records (its `with_target`, on by default), else the module
/// path it records with `with_location` (`code.module.name`: the target, unless the span named
/// another), else the instrumentation scope's name. The attributes stay in `metadata`.
fn target(fields: &Fields, scope: String) -> Name {
    ["target", "code.module.name"]
        .into_iter()
        .find_map(|name| match fields.get(name) {
            Some(FieldValue::Str(text)) if !text.is_empty() => Some(text.clone()),
            _ => None,
        })
        .unwrap_or(scope)
        .into()
}

/// Removes field `name` and returns its text.
fn take_text(fields: &mut Fields, name: &str) -> Option<String> {
    let at = fields.0.iter().position(|(n, _)| n == name)?;
    Some(fields.0.remove(at).1.to_string())
}

/// Fields a span may get beyond its resource and attributes in the common case: what
/// [`describe`] adds, and one more (dropped attributes, links or an exception's details).
const DESCRIBED: usize = 4;

/// The span kind (unless `internal`, the default) and the instrumentation scope, in metadata.
fn describe(recorded: &mut Recorded, kind: SpanKind, scope: &opentelemetry::InstrumentationScope) {
    let kind = match kind {
        SpanKind::Client => Some("client"),
        SpanKind::Server => Some("server"),
        SpanKind::Producer => Some("producer"),
        SpanKind::Consumer => Some("consumer"),
        SpanKind::Internal => None,
    };
    if let Some(kind) = kind {
        recorded
            .fields
            .set("otel.span_kind", FieldValue::Str(kind.into()));
    }
    if !scope.name().is_empty() {
        recorded
            .fields
            .set("otel.scope.name", FieldValue::Str(scope.name().to_owned()));
    }
    if let Some(version) = scope.version() {
        recorded
            .fields
            .set("otel.scope.version", FieldValue::Str(version.to_owned()));
    }
}

/// Links, kept in `metadata["otel.links"]`: each linked span's trace and span id (hex), and its
/// attributes.
fn links(recorded: &mut Recorded, links: &[opentelemetry::trace::Link]) {
    if links.is_empty() {
        return;
    }
    let links: Vec<serde_json::Value> = links
        .iter()
        .map(|link| {
            let attributes: serde_json::Map<String, serde_json::Value> = link
                .attributes
                .iter()
                .map(|kv| (kv.key.to_string(), json!(kv.value.to_string())))
                .collect();
            json!({
                "trace_id": link.span_context.trace_id().to_string(),
                "span_id": link.span_context.span_id().to_string(),
                "attributes": attributes,
            })
        })
        .collect();
    recorded
        .json
        .push((Bucket::Metadata, json!({ "otel.links": links })));
}

/// `time` in whole Unix milliseconds, and the part of a millisecond past them.
fn unix_ms(time: SystemTime) -> (i64, f64) {
    crate::layer::split_ms(time.duration_since(UNIX_EPOCH).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::time::Duration;

    use opentelemetry::InstrumentationScope;
    use opentelemetry::trace::{Event, SpanContext, TraceFlags, TraceId, TraceState};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};

    use super::*;

    const TRACE: u128 = 0xabc;

    fn span(id: u64, parent: u64, attributes: Vec<KeyValue>) -> SpanData {
        let start = UNIX_EPOCH + Duration::from_millis(1_000);
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
            name: Cow::Borrowed("step"),
            start_time: start,
            end_time: start + Duration::from_micros(2_500),
            attributes,
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::builder("scope").build(),
        }
    }

    fn converter() -> Converter {
        let mut converter = Converter::new(&crate::layer::Settings {
            session_roots: crate::SessionRoots::AllRoots,
            session_name: None,
            max_field_bytes: 64,
            max_events_per_span: 2,
            capture_content: true,
            logs_level: tracing::level_filters::LevelFilter::INFO,
        });
        converter.set_resource(
            &Resource::builder_empty()
                .with_service_name("checkout")
                .with_attribute(KeyValue::new("deployment.environment", "prod"))
                .build(),
        );
        converter
    }

    fn event_id(span: u64) -> uuid::Uuid {
        ids::event_id_for_span(TRACE.to_be_bytes(), span.to_be_bytes())
    }

    #[test]
    fn a_caller_event_is_the_parent_of_the_local_root_only() {
        let converter = converter();
        let caller = uuid::Uuid::new_v4();
        let session = "0b7a6b1c-5d4e-4f3a-9b2c-1d0e9f8a7b6c";
        let given = |span_id, parent_id| {
            let attributes = vec![
                KeyValue::new("honeyhive.session_id", session),
                KeyValue::new("honeyhive.parent_id", caller.to_string()),
            ];
            converter.convert(span(span_id, parent_id, attributes), &mut 0)
        };
        // A local root with no parent: under the caller's event rather than the session.
        let root = given(1, 0);
        assert_eq!(root.role, Role::Event { parent: caller });
        assert_eq!(root.session.id.to_string(), session);
        assert_eq!(root.recorded.fields.get("honeyhive.parent_id"), None);
        // A local root below a remote parent: the caller's event wins over the derived one.
        let mut remote = span(
            2,
            9,
            vec![
                KeyValue::new("honeyhive.session_id", session),
                KeyValue::new("honeyhive.parent_id", caller.to_string()),
            ],
        );
        remote.parent_span_is_remote = true;
        let remote = converter.convert(remote, &mut 0);
        assert_eq!(remote.role, Role::Event { parent: caller });
        // A span below a local parent keeps it.
        assert_eq!(
            given(3, 1).role,
            Role::Event {
                parent: event_id(1)
            }
        );
        // Without a session key the caller's event names no session: the trace's parents stand.
        let plain = vec![KeyValue::new("honeyhive.parent_id", caller.to_string())];
        let traced = converter.convert(span(4, 0, plain), &mut 0);
        assert_eq!(traced.role, Role::Session);
    }

    #[test]
    fn ids_kept_for_a_batch_are_the_ids_derived_alone() {
        // Two traces in one batch, children before their roots, sharing span ids: each id
        // kept for the batch is what deriving it alone gives, trace by trace.
        let converter = converter();
        let mut ids = Derived::default();
        let other = TRACE + 1;
        let in_trace = |trace: u128, id: u64, parent: u64| {
            let mut data = span(id, parent, vec![]);
            data.span_context = SpanContext::new(
                TraceId::from(trace),
                SpanId::from(id),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            );
            data
        };
        for trace in [TRACE, other, TRACE, other] {
            for (id, parent) in [(2, 1), (3, 1), (1, 0)] {
                let converted = converter.convert_in(in_trace(trace, id, parent), &mut ids, &mut 0);
                let bytes = trace.to_be_bytes();
                assert_eq!(
                    converted.event_id,
                    ids::event_id_for_span(bytes, id.to_be_bytes())
                );
                assert_eq!(converted.session.id, ids::session_id_for_trace(bytes));
                if parent != 0 {
                    let parent = ids::event_id_for_span(bytes, parent.to_be_bytes());
                    assert_eq!(converted.role, Role::Event { parent });
                }
            }
        }
        assert_eq!((ids.sessions.len(), ids.events.len()), (2, 6));
    }

    #[test]
    fn ids_and_roles_follow_the_trace_whatever_the_order() {
        let converter = converter();
        let trace_session = ids::session_id_for_trace(TRACE.to_be_bytes());
        let root = converter.convert(span(1, 0, vec![]), &mut 0);
        assert_eq!(root.role, Role::Session);
        assert_eq!(
            (root.session.id, root.event_id),
            (trace_session, event_id(1))
        );
        assert!(root.session.trace && !root.session.joined);
        assert_eq!(root.session.name, "step");
        assert_eq!((root.start_ms, root.duration_ms), (1_000, 2.5));

        let child = converter.convert(span(2, 1, vec![]), &mut 0);
        assert_eq!(
            child.role,
            Role::Event {
                parent: event_id(1)
            }
        );
        assert_eq!(child.session.id, trace_session);
        assert_eq!(
            child.session.name, "checkout",
            "a root not seen: the service"
        );
        assert_eq!(child.trace_session, Some(trace_session));

        let mut remote = span(3, 9, vec![]);
        remote.parent_span_is_remote = true;
        let remote = converter.convert(remote, &mut 0);
        assert_eq!(
            remote.role,
            Role::Event {
                parent: event_id(9)
            }
        );
        assert!(!remote.owns_joined_session);
    }

    #[test]
    fn grouping_keys_name_the_session_in_their_order() {
        let converter = converter();
        let both = vec![
            KeyValue::new("session.id", "second"),
            KeyValue::new("honeyhive.session_id", "first"),
        ];
        let root = converter.convert(span(1, 0, both), &mut 0);
        let id = ids::session_id_for_key("first");
        assert_eq!(root.session.id, id);
        assert_eq!(
            root.role,
            Role::Event { parent: id },
            "the root joins as an event"
        );
        assert!(root.owns_joined_session && root.session.joined);
        assert_eq!(
            root.recorded.fields.get(SESSION_KEY),
            Some(&FieldValue::Str("first".into()))
        );
        let child = converter.convert(
            span(
                2,
                1,
                vec![KeyValue::new("gen_ai.conversation.id", "thread")],
            ),
            &mut 0,
        );
        assert_eq!(child.session.id, ids::session_id_for_key("thread"));
        assert_eq!(
            child.role,
            Role::Event {
                parent: event_id(1)
            }
        );
        assert!(!child.owns_joined_session);
        assert_eq!(child.session.name, "checkout");
        let uuid = "6f2c1a9e-4b1d-4c3e-9a57-0d2f8e1b7c44";
        let given = converter.convert(span(3, 0, vec![KeyValue::new("session.id", uuid)]), &mut 0);
        assert_eq!(given.session.id.to_string(), uuid);
        assert_eq!(given.recorded.fields.get(SESSION_KEY), None);
    }

    #[test]
    fn values_keep_their_types_and_text_is_bounded() {
        let converter = converter();
        let mut truncated = 0;
        let span = converter.convert(
            span(
                1,
                0,
                vec![
                    KeyValue::new(
                        "gen_ai.response.finish_reasons",
                        Value::Array(Array::String(vec!["stop".into()])),
                    ),
                    KeyValue::new("metrics.scores", Value::Array(Array::F64(vec![0.5, 1.0]))),
                    KeyValue::new("inputs.long", "x".repeat(100)),
                    KeyValue::new("deployment.environment", "staging"),
                    KeyValue::new("honeyhive_event_type", "tool"),
                ],
            ),
            &mut truncated,
        );
        let fields = &span.recorded.fields;
        assert_eq!(
            fields.get("gen_ai.response.finish_reasons"),
            Some(&FieldValue::List(vec![FieldValue::Str("stop".into())]))
        );
        assert_eq!(
            fields.get("metrics.scores"),
            Some(&FieldValue::List(vec![
                FieldValue::F64(0.5),
                FieldValue::F64(1.0)
            ]))
        );
        match fields.get("inputs.long") {
            Some(FieldValue::Str(text)) => {
                assert!(text.ends_with("…[truncated 36 bytes]"), "{text}")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(truncated, 1);
        // The resource is recorded first; the span's own attribute wins.
        assert_eq!(
            fields.get("deployment.environment"),
            Some(&FieldValue::Str("staging".into()))
        );
        assert_eq!(
            fields.get("service.name"),
            Some(&FieldValue::Str("checkout".into()))
        );
        assert_eq!(span.recorded.event_type.as_deref(), Some("tool"));
        assert_eq!(
            fields.get("otel.scope.name"),
            Some(&FieldValue::Str("scope".into()))
        );
        assert_eq!(
            fields.get("otel.span_kind"),
            None,
            "internal is the default"
        );
    }

    #[test]
    fn the_target_is_tracing_opentelemetrys_target_else_the_module_path_else_the_scope() {
        let converter = converter();
        let cases: [(Vec<KeyValue>, &str); 5] = [
            (
                vec![
                    KeyValue::new("target", "langchain_rust::observability"),
                    KeyValue::new("code.module.name", "app::llm"),
                ],
                "langchain_rust::observability",
            ),
            (
                vec![KeyValue::new(
                    "code.module.name",
                    "langchain_rust::agent::executor",
                )],
                "langchain_rust::agent::executor",
            ),
            (vec![KeyValue::new("target", "")], "scope"),
            (vec![KeyValue::new("target", 7_i64)], "scope"),
            (vec![], "scope"),
        ];
        for (attributes, expected) in cases {
            let span = converter.convert(span(1, 0, attributes.clone()), &mut 0);
            assert_eq!(span.target, expected, "{attributes:?}");
            for kv in &attributes {
                assert!(
                    span.recorded.fields.get(kv.key.as_str()).is_some(),
                    "{} stays in the fields",
                    kv.key
                );
            }
        }
    }

    #[test]
    fn status_kind_and_events_are_read_as_the_layer_reads_its_own() {
        let converter = converter();
        let mut data = span(1, 0, vec![KeyValue::new("error.type", "RateLimited")]);
        data.status = Status::error("");
        data.span_kind = SpanKind::Client;
        let at = data.start_time;
        let event =
            |name: &'static str, attributes: Vec<KeyValue>| Event::new(name, at, attributes, 0);
        data.events.events = vec![
            event(
                "retrying",
                vec![
                    KeyValue::new("level", "WARN"),
                    KeyValue::new("target", "app::llm"),
                    KeyValue::new("attempt", 2),
                ],
            ),
            event("gave up", vec![KeyValue::new("level", "ERROR")]),
            event("third", vec![]),
        ];
        data.events.dropped_count = 4;
        let span = converter.convert(data, &mut 0);
        let recorded = &span.recorded;
        assert_eq!(
            recorded.error().as_deref(),
            Some("gave up"),
            "the ERROR event first"
        );
        assert!(recorded.otel_status_error);
        assert_eq!(
            recorded.otel_status_message, None,
            "an empty description is no message"
        );
        assert_eq!(recorded.logs.len(), 2, "at most max_events_per_span");
        assert_eq!(recorded.logs_dropped, 5);
        let first = &recorded.logs[0];
        assert_eq!(
            (first.level, first.target.as_ref()),
            (Level::WARN, "app::llm")
        );
        assert_eq!(first.fields.0, vec![("attempt".into(), FieldValue::I64(2))]);
        assert_eq!(
            recorded.fields.get("otel.span_kind"),
            Some(&FieldValue::Str("client".into()))
        );
    }
}
