//! The neutral form of a finished span, which both front doors produce and [`crate::mapping`]
//! reads: named attributes with typed values, events, status, times and ids. The tracing layer
//! builds it from fields and events, the OpenTelemetry exporter from `SpanData`; both give names
//! their meaning through [`Recorded::put`], so a field and the same attribute map alike. Plain
//! data; the JSON it becomes is built on the worker thread.

mod bucket;
mod draft;
mod footprint;

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::Value;
use tracing::Level;
use uuid::Uuid;

use crate::fields::{
    ERROR, EVENT_NAME, EVENT_TYPE, OTEL_KIND, OTEL_NAME, OTEL_STATUS_CODE, OTEL_STATUS_DESCRIPTION,
    OTEL_STATUS_MESSAGE, PARENT_ID, SDK_ERROR, SDK_EVENT_NAME, SDK_EVENT_TYPE, SESSION,
    SESSION_AUTO_CREATE, SESSION_ID, SESSION_NAME, SOURCE,
};

pub(crate) use bucket::Bucket;
pub(crate) use draft::{Draft, Value as DraftValue};

/// Where a `honeyhive.parent_id` that is not a UUID is kept, in metadata.
const INVALID_PARENT_ID: &str = "honeyhive.invalid_parent_id";

/// An attribute's name: borrowed from a `tracing` callsite, or owned (OpenTelemetry keys).
pub(crate) type Name = Cow<'static, str>;

/// One field value, owned. Integers, floats and booleans keep their type; everything recorded
/// with `?` or `%` becomes its formatted text; OpenTelemetry's arrays stay lists.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FieldValue {
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(String),
    /// An OpenTelemetry array attribute.
    #[cfg_attr(not(feature = "opentelemetry"), allow(dead_code))]
    List(Vec<FieldValue>),
}

impl std::fmt::Display for FieldValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldValue::Bool(b) => write!(f, "{b}"),
            FieldValue::I64(n) => write!(f, "{n}"),
            FieldValue::U64(n) => write!(f, "{n}"),
            FieldValue::F64(n) => write!(f, "{n}"),
            FieldValue::Str(s) => f.write_str(s),
            FieldValue::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// Fields in the order they were first recorded; recording a name again replaces its value.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Fields(pub(crate) Vec<(Name, FieldValue)>);

impl Fields {
    pub(crate) fn set(&mut self, name: impl Into<Name>, value: FieldValue) {
        let name = name.into();
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&FieldValue> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

/// A tracing event recorded inside a span: kept, bounded, in the span's metadata.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Log {
    pub(crate) time_ms: i64,
    pub(crate) level: Level,
    pub(crate) target: Name,
    pub(crate) message: String,
    pub(crate) fields: Fields,
}

/// Everything recorded on one span: its fields, the reserved control fields, errors, events and
/// structured values attached through the extension trait.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Recorded {
    pub(crate) fields: Fields,
    /// `honeyhive.event_type`, as given.
    pub(crate) event_type: Option<String>,
    /// `honeyhive.event_name`.
    pub(crate) event_name: Option<String>,
    /// `otel.name`, the name tracing-opentelemetry users already set.
    pub(crate) otel_name: Option<String>,
    /// `honeyhive.session_id`, as given.
    pub(crate) session_id: Option<String>,
    /// `honeyhive.session_name`.
    pub(crate) session_name: Option<String>,
    /// `honeyhive.source`: the event's (or session's) `source` instead of the configured one.
    pub(crate) source: Option<String>,
    /// `honeyhive.parent_id`: the parent event of a span that joins its session by id.
    pub(crate) parent_id: Option<Uuid>,
    /// `honeyhive.session`: `true` marks a span that starts a session, `false` keeps a root span
    /// (and its subtree) out of HoneyHive.
    pub(crate) session_flag: Option<bool>,
    /// The `error` field, an `otel.status_message` with an error status, or the first
    /// `ERROR`-level event.
    pub(crate) error: Option<String>,
    /// `otel.status_code`, to tell whether `otel.status_message` is an error.
    pub(crate) otel_status_error: bool,
    pub(crate) otel_status_message: Option<String>,
    /// Events inside the span, at most the configured number.
    pub(crate) logs: Vec<Log>,
    /// Events beyond that number.
    pub(crate) logs_dropped: u32,
    /// Values attached with [`crate::HoneyHiveSpanExt`], applied after the fields.
    pub(crate) json: Vec<(Bucket, Value)>,
}

/// The text of a value given to a control field.
fn text(value: FieldValue) -> String {
    match value {
        FieldValue::Str(s) => s,
        other => other.to_string(),
    }
}

/// The value of `honeyhive.session`: a boolean, or the text `true`/`false`.
pub(crate) fn flag(value: &FieldValue) -> Option<bool> {
    match value {
        FieldValue::Bool(b) => Some(*b),
        FieldValue::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Whether a field recorded on an event inside a span is the span's own: Langfuse's fields,
/// which some crates (swiftide) record on events rather than on the span.
pub(crate) fn belongs_to_span(name: &str) -> bool {
    name.starts_with("langfuse.")
}

/// Whether [`Recorded::put`] gives `name` a meaning of its own (rather than keeping it as a
/// field for the mapping to route).
pub(crate) fn is_control(name: &str) -> bool {
    matches!(
        name,
        EVENT_TYPE
            | SDK_EVENT_TYPE
            | EVENT_NAME
            | SDK_EVENT_NAME
            | SESSION_ID
            | SESSION_NAME
            | SOURCE
            | PARENT_ID
            | SESSION
            | ERROR
            | SDK_ERROR
            | OTEL_NAME
            | OTEL_STATUS_CODE
            | OTEL_STATUS_MESSAGE
            | OTEL_STATUS_DESCRIPTION
            | OTEL_KIND
            | SESSION_AUTO_CREATE
    )
}

impl Recorded {
    /// Moves the fields of an event inside the span that are the span's own
    /// ([`belongs_to_span`]) onto the span; the rest stay the event's.
    // The layer lifts as it records (`layer::visitor`), with the same `belongs_to_span`.
    #[cfg_attr(not(feature = "opentelemetry"), allow(dead_code))]
    pub(crate) fn lift(&mut self, event_fields: &mut Fields) {
        if !event_fields.0.iter().any(|(n, _)| belongs_to_span(n)) {
            return;
        }
        let (own, rest) = std::mem::take(&mut event_fields.0)
            .into_iter()
            .partition(|(name, _)| belongs_to_span(name));
        event_fields.0 = rest;
        for (name, value) in own {
            self.put(name, value);
        }
    }

    /// Records one attribute: a control name (`honeyhive.*`, HoneyHive's SDK spellings,
    /// `otel.*`) steers the mapping, any other name is kept as a field for it to route.
    pub(crate) fn put(&mut self, name: Name, value: FieldValue) {
        match name.as_ref() {
            EVENT_TYPE | SDK_EVENT_TYPE => self.event_type = Some(text(value)),
            EVENT_NAME | SDK_EVENT_NAME => self.event_name = Some(text(value)),
            SESSION_ID => self.session_id = Some(text(value)),
            SESSION_NAME => self.session_name = Some(text(value)),
            SOURCE => self.source = Some(text(value)).filter(|s| !s.trim().is_empty()),
            PARENT_ID => {
                let given = text(value);
                match Uuid::parse_str(given.trim()) {
                    Ok(id) => self.parent_id = Some(id),
                    Err(_) => self.fields.set(INVALID_PARENT_ID, FieldValue::Str(given)),
                }
            }
            SESSION => self.session_flag = flag(&value),
            ERROR | SDK_ERROR => self.error = Some(text(value)),
            OTEL_NAME => self.otel_name = Some(text(value)),
            OTEL_STATUS_CODE => self.otel_status_error = text(value).eq_ignore_ascii_case("error"),
            OTEL_STATUS_MESSAGE => self.otel_status_message = Some(text(value)),
            OTEL_STATUS_DESCRIPTION => {
                self.otel_status_error = true;
                self.otel_status_message = Some(text(value));
            }
            OTEL_KIND | SESSION_AUTO_CREATE => {}
            _ => {
                debug_assert!(!is_control(&name), "{name} is a control name put ignores");
                self.fields.set(name, value)
            }
        }
    }

    /// The error the event reports: the `error` field or an `ERROR` event, else an
    /// `otel.status_message` with `otel.status_code = "ERROR"`.
    /// With an error status and no message, the `error.type` attribute says what happened (as
    /// the conventions have it), else the word `error`.
    pub(crate) fn error(&self) -> Option<String> {
        self.error.clone().or_else(|| {
            self.otel_status_error.then(|| {
                self.otel_status_message
                    .clone()
                    .filter(|m| !m.trim().is_empty())
                    .or_else(|| {
                        self.fields
                            .get("error.type")
                            .map(|t| t.to_string())
                            .filter(|t| !t.trim().is_empty())
                    })
                    .unwrap_or_else(|| "error".to_owned())
            })
        })
    }
}

/// What a session starts with, shared by every span of it: enough for the worker to create the
/// session before its root closes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SessionSeed {
    pub(crate) id: Uuid,
    /// The session id was given with `honeyhive.session_id`: the session may already exist, and
    /// the span that named it is an event of it rather than the session itself.
    pub(crate) joined: bool,
    /// Borrowed when it is the root span's own name (no allocation).
    pub(crate) name: Name,
    /// Derived from an OpenTelemetry trace: its spans come in any order, the root possibly last
    /// or never (when it is in another service), so its events wait a while for the root.
    pub(crate) trace: bool,
    /// `honeyhive.source` on the span that started it, else the configured source.
    pub(crate) source: Option<String>,
    pub(crate) start_ms: i64,
    /// The root span's fields when it was created.
    pub(crate) fields: Fields,
}

/// A span's place in its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The root span, which is the session itself.
    Session,
    /// A span below the session: an event whose parent is the event `parent`, which is the
    /// session id for the session's direct children.
    Event { parent: Uuid },
}

/// The child event ids an event or a session lists in `children_ids`: at most
/// [`Children::MAX`]; past that they are only counted (every event names its parent with
/// `parent_id`, which is what links it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Children {
    pub(crate) ids: Vec<Uuid>,
    /// Children past the limit, left out of the list.
    pub(crate) omitted: u32,
}

impl Children {
    /// The longest `children_ids` list sent.
    pub(crate) const MAX: usize = 1000;

    pub(crate) fn push(&mut self, id: Uuid) {
        if self.ids.len() < Children::MAX {
            self.ids.push(id);
        } else {
            self.omitted = self.omitted.saturating_add(1);
        }
    }
}

/// A span that closed, as it travels from the application thread to the worker.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FinishedSpan {
    pub(crate) session: Arc<SessionSeed>,
    pub(crate) role: Role,
    /// The event id; for [`Role::Session`], the session id.
    pub(crate) event_id: Uuid,
    pub(crate) name: Name,
    pub(crate) target: Name,
    pub(crate) level: Level,
    pub(crate) start_ms: i64,
    /// The part of a millisecond past `start_ms` the span started at, in `[0, 1)`: its end is
    /// the precise start plus its duration, cut to the millisecond, so that a parent never
    /// reads as ending before a child it encloses.
    pub(crate) start_fraction: f64,
    /// Wall time between creation and close, in milliseconds.
    pub(crate) duration_ms: f64,
    pub(crate) recorded: Recorded,
    /// What the layer recorded, until the worker settles it into `recorded`; empty for an
    /// OpenTelemetry span.
    pub(crate) draft: Draft,
    /// The span joined its session by id (`honeyhive.session_id`): when it closes, the session's
    /// end and the values below are written to the session.
    pub(crate) owns_joined_session: bool,
    /// Values for the whole session, attached with
    /// [`enrich_session`](crate::HoneyHiveSpanExt::enrich_session) on this span's subtree. Set
    /// on the span that owns the session: the root, or the span that joined it by id.
    pub(crate) session_json: Vec<(Bucket, Value)>,
    /// For an OpenTelemetry span, the session its trace is derived to: when it differs from
    /// `session`, the span moved its trace into another session (a grouping key), and the
    /// trace's other spans follow it there.
    pub(crate) trace_session: Option<Uuid>,
    /// What the span counts against the exporter's byte budget, set when it is queued.
    pub(crate) held_bytes: usize,
    /// Not a span: values given after the fact ([`Late`]), in `session_json`.
    pub(crate) late: Option<Late>,
}

/// What values given after the fact enrich: they become an update (`PUT /v1/events/{id}`), no
/// event, and never create a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Late {
    /// The session ([`Handle::enrich_session`](crate::Handle::enrich_session)).
    Session,
    /// One of its events ([`Handle::enrich_event`](crate::Handle::enrich_event)).
    Event(Uuid),
}

impl FinishedSpan {
    /// A span with nothing recorded, in session `session`: the start of every span the layer
    /// records.
    pub(crate) fn blank(session: Arc<SessionSeed>) -> Self {
        FinishedSpan {
            role: Role::Session,
            event_id: session.id,
            session,
            name: Name::Borrowed(""),
            target: Name::Borrowed(""),
            level: Level::INFO,
            start_ms: 0,
            start_fraction: 0.0,
            duration_ms: 0.0,
            recorded: Recorded::default(),
            draft: Draft::default(),
            owns_joined_session: false,
            session_json: Vec::new(),
            trace_session: None,
            held_bytes: 0,
            late: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_name_is_one_put_gives_a_meaning() {
        for name in [
            EVENT_TYPE,
            SDK_EVENT_TYPE,
            EVENT_NAME,
            SDK_EVENT_NAME,
            SESSION_ID,
            SESSION_NAME,
            SOURCE,
            PARENT_ID,
            SESSION,
            ERROR,
            SDK_ERROR,
            OTEL_NAME,
            OTEL_STATUS_CODE,
            OTEL_STATUS_MESSAGE,
            OTEL_STATUS_DESCRIPTION,
            OTEL_KIND,
            SESSION_AUTO_CREATE,
        ] {
            assert!(is_control(name), "{name}");
            let mut recorded = Recorded::default();
            let value = if name == PARENT_ID {
                "6f2c1a9e-4b1d-4c3e-9a57-0d2f8e1b7c44"
            } else {
                "true"
            };
            recorded.put(Name::Borrowed(name), FieldValue::Str(value.into()));
            assert!(recorded.fields.0.is_empty(), "{name} was kept as a field");
        }
        for name in [
            "inputs.q",
            "gen_ai.request.model",
            "honeyhive_inputs",
            "errors",
        ] {
            assert!(!is_control(name), "{name}");
        }
    }

    #[test]
    fn a_parent_id_is_a_uuid_else_it_is_kept_visible_and_ignored() {
        let mut recorded = Recorded::default();
        let id = " 6F2C1A9E-4B1D-4C3E-9A57-0D2F8E1B7C44 ";
        recorded.put(Name::Borrowed(PARENT_ID), FieldValue::Str(id.into()));
        assert_eq!(recorded.parent_id, Uuid::parse_str(id.trim()).ok());
        let mut recorded = Recorded::default();
        recorded.put(
            Name::Borrowed(PARENT_ID),
            FieldValue::Str("caller-7".into()),
        );
        assert_eq!(recorded.parent_id, None);
        assert_eq!(
            recorded.fields.get(INVALID_PARENT_ID),
            Some(&FieldValue::Str("caller-7".into()))
        );
    }

    #[test]
    fn field_names_route_by_bucket_prefix() {
        assert_eq!(
            Bucket::route("inputs.question"),
            Some((Bucket::Inputs, "question"))
        );
        assert_eq!(
            Bucket::route("user_properties.user_id"),
            Some((Bucket::UserProperties, "user_id"))
        );
        assert_eq!(
            Bucket::route("metadata.a.b"),
            Some((Bucket::Metadata, "a.b"))
        );
        assert_eq!(Bucket::route("outputs"), Some((Bucket::Outputs, "")));
        assert_eq!(Bucket::route("inputsx"), None);
        assert_eq!(Bucket::route("model"), None);
    }

    #[test]
    fn recording_a_name_again_replaces_its_value_in_place() {
        let mut fields = Fields::default();
        fields.set("a", FieldValue::I64(1));
        fields.set("b", FieldValue::Bool(true));
        fields.set("a", FieldValue::Str("x".into()));
        assert_eq!(
            fields.0,
            vec![
                ("a".into(), FieldValue::Str("x".into())),
                ("b".into(), FieldValue::Bool(true))
            ]
        );
    }

    #[test]
    fn session_flag_reads_booleans_and_their_text() {
        assert_eq!(flag(&FieldValue::Bool(false)), Some(false));
        assert_eq!(flag(&FieldValue::Str(" true ".into())), Some(true));
        assert_eq!(flag(&FieldValue::I64(1)), None);
    }

    #[test]
    fn control_names_steer_and_other_names_are_kept_whatever_their_origin() {
        let mut recorded = Recorded::default();
        let owned = |s: &str| Name::Owned(s.to_owned());
        recorded.put(
            owned("honeyhive_event_type"),
            FieldValue::Str("tool".into()),
        );
        recorded.put(
            Name::Borrowed("honeyhive.source"),
            FieldValue::Str("ci".into()),
        );
        recorded.put(owned("otel.status_code"), FieldValue::Str("ERROR".into()));
        recorded.put(owned("inputs.q"), FieldValue::Str("hi".into()));
        recorded.put(Name::Borrowed("inputs.q"), FieldValue::Str("again".into()));
        assert_eq!(recorded.event_type.as_deref(), Some("tool"));
        assert_eq!(recorded.source.as_deref(), Some("ci"));
        assert!(recorded.otel_status_error);
        assert_eq!(
            recorded.fields.0,
            vec![(owned("inputs.q"), FieldValue::Str("again".into()))]
        );
    }

    #[test]
    fn an_events_langfuse_fields_are_lifted_onto_the_span_and_the_rest_stay() {
        let mut recorded = Recorded::default();
        let mut event = Fields::default();
        event.set("langfuse.model", FieldValue::Str("gpt-4o".into()));
        event.set("attempt", FieldValue::I64(2));
        recorded.lift(&mut event);
        assert_eq!(event.0, vec![("attempt".into(), FieldValue::I64(2))]);
        assert_eq!(
            recorded.fields.get("langfuse.model"),
            Some(&FieldValue::Str("gpt-4o".into()))
        );
    }

    #[test]
    fn otel_status_message_is_an_error_only_with_an_error_status() {
        let mut recorded = Recorded {
            otel_status_message: Some("boom".into()),
            ..Recorded::default()
        };
        assert_eq!(recorded.error(), None);
        recorded.otel_status_error = true;
        assert_eq!(recorded.error().as_deref(), Some("boom"));
        recorded.otel_status_message = None;
        assert_eq!(recorded.error().as_deref(), Some("error"));
        recorded
            .fields
            .set("error.type", FieldValue::Str("RateLimitError".into()));
        assert_eq!(recorded.error().as_deref(), Some("RateLimitError"));
        recorded.error = Some("first".into());
        assert_eq!(recorded.error().as_deref(), Some("first"));
    }
}
