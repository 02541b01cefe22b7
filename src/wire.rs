//! Serde bodies of the HoneyHive data-plane API, and nothing else.
//!
//! Request types serialise exactly as the API expects them: absent fields are omitted (never sent
//! as `null`), times are integer Unix milliseconds, ids are lowercase hyphenated UUIDs, and the
//! object-valued fields (`inputs`, `metadata`, …) are JSON objects by construction. They also
//! deserialise, with unknown fields refused, so a request read from a file is checked against the
//! same closed shape the server enforces.
//!
//! Response types are tolerant: they accept missing optional fields, `null`s and keys this crate
//! does not know (kept in `extra`), because the contract lets the server add fields.
//!
//! Non-finite floats cannot reach the wire: [`serde_json::Value`] cannot hold `NaN` or `±inf`
//! (converting one yields `null`), and a non-finite `duration` is omitted when serialising.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// A JSON object, the type of `inputs`, `outputs`, `config`, `metadata`, `metrics`, `feedback`
/// and `user_properties`.
pub type JsonObject = Map<String, Value>;

/// The kind of a HoneyHive event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    /// A call to a language model.
    Model,
    /// A call to a tool (retrieval, function call, API).
    Tool,
    /// A step that groups other events.
    Chain,
    /// The root event of a session.
    Session,
}

impl EventType {
    /// The wire name: `model`, `tool`, `chain` or `session`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Model => "model",
            EventType::Tool => "tool",
            EventType::Chain => "chain",
            EventType::Session => "session",
        }
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event as sent to `POST /v1/sessions/{session_id}/events/batch` and
/// `POST /v1/events/batch` (`PostEventRequest`).
///
/// Build one with [`Event::new`] and set the public fields; unset fields are omitted.
///
/// ```
/// use tracing_honeyhive::wire::{Event, EventType};
/// use serde_json::json;
///
/// let mut event = Event::new(EventType::Model);
/// event.event_name = Some("chat".into());
/// event.inputs.insert("prompt".into(), json!("Hello"));
/// event.start_time = Some(1_712_025_501_605);
/// let body = serde_json::to_value(&event).unwrap();
/// assert_eq!(body, json!({
///     "event_type": "model",
///     "event_name": "chat",
///     "inputs": {"prompt": "Hello"},
///     "start_time": 1_712_025_501_605_i64,
/// }));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "schemars",
    schemars(
        description = "One event (PostEventRequest): `event_type` and `inputs` are \
                            required, absent fields are omitted, unknown fields are refused."
    )
)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Event {
    /// `model`, `tool`, `chain` or `session`. Required.
    pub event_type: EventType,
    /// Inputs of the step. Required by the API; an empty object is fine.
    pub inputs: JsonObject,
    /// Client-chosen id; the server generates one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<Uuid>,
    /// The session; on the session batch route the path value wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<Uuid>,
    /// The parent event; the server uses the session id when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<Uuid>,
    /// Ids of the child events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub children_ids: Option<Vec<Uuid>>,
    /// Display name; the server uses `"unknown"` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    /// Environment label; the server uses `"unknown"` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Model or tool configuration (model name, provider, temperature, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<JsonObject>,
    /// Outputs of the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<JsonObject>,
    /// Error message, when the step failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Start, in Unix epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    /// End, in Unix epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    /// Duration in milliseconds; omitted when not finite.
    #[serde(default, skip_serializing_if = "is_absent_or_non_finite")]
    pub duration: Option<f64>,
    /// Free-form metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<JsonObject>,
    /// User feedback (ratings, corrections).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<JsonObject>,
    /// Numeric or boolean evaluations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<JsonObject>,
    /// Properties of the end user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_properties: Option<JsonObject>,
    /// Listed by the spec but without routing meaning (the API key selects the project).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
}

impl Event {
    /// An event of `event_type` with empty `inputs` and every optional field unset.
    pub fn new(event_type: EventType) -> Self {
        Event {
            event_type,
            inputs: JsonObject::new(),
            event_id: None,
            session_id: None,
            parent_id: None,
            children_ids: None,
            event_name: None,
            source: None,
            config: None,
            outputs: None,
            error: None,
            start_time: None,
            end_time: None,
            duration: None,
            metadata: None,
            feedback: None,
            metrics: None,
            user_properties: None,
            project_id: None,
        }
    }
}

/// Body of `POST /v1/sessions` (`StartSessionRequest`): a bare session object, every field
/// optional.
///
/// ```
/// use tracing_honeyhive::wire::CreateSession;
///
/// let mut session = CreateSession::default();
/// session.session_name = Some("support chat".into());
/// assert_eq!(serde_json::to_string(&session).unwrap(), r#"{"session_name":"support chat"}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "schemars",
    schemars(
        description = "Body of POST /v1/sessions (StartSessionRequest): a bare session \
                            object, every field optional, unknown fields refused."
    )
)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CreateSession {
    /// Client-chosen id; the server generates one when absent. Posting an existing id again is
    /// idempotent and merges `metadata` and `user_properties`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<Uuid>,
    /// Display name of the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_name: Option<String>,
    /// Name of the session event; the server falls back to `session_name`, then `"unknown"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    /// Environment label; the server uses `"unknown"` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Start, in Unix epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    /// End, in Unix epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    /// Duration in milliseconds; omitted when not finite.
    #[serde(default, skip_serializing_if = "is_absent_or_non_finite")]
    pub duration: Option<f64>,
    /// Configuration of the application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<JsonObject>,
    /// Inputs of the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<JsonObject>,
    /// Outputs of the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<JsonObject>,
    /// Free-form metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<JsonObject>,
    /// Properties of the end user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_properties: Option<JsonObject>,
    /// Ids of the session's direct children.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub children_ids: Option<Vec<Uuid>>,
}

/// Body of `POST /v1/sessions/{session_id}/events/batch` (`SessionEventBatchRequest`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SessionEventBatch {
    /// The events, stored in this order.
    pub events: Vec<Event>,
}

/// Body of `PUT /v1/events/{event_id}` (`UpdateEventRequest`): how a session's final state is
/// written once it ends (a session is the event whose id is its `session_id`).
///
/// Object fields are merged into the stored ones, except `outputs`, which replaces them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct UpdateEvent {
    /// Merged into the stored metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<JsonObject>,
    /// Merged into the stored feedback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<JsonObject>,
    /// Merged into the stored metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<JsonObject>,
    /// Replaces the stored outputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<JsonObject>,
    /// Merged into the stored config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<JsonObject>,
    /// Merged into the stored user properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_properties: Option<JsonObject>,
    /// Duration in milliseconds; omitted when not finite.
    #[serde(default, skip_serializing_if = "is_absent_or_non_finite")]
    pub duration: Option<f64>,
    /// End, in Unix epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    /// Replaces the child ids; an empty list is ignored by the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub children_ids: Option<Vec<Uuid>>,
}

/// Body of the deprecated `POST /session/start`: the session under a `session` key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LegacySessionStart {
    /// The session.
    pub session: LegacySession,
}

/// The session object of [`LegacySessionStart`]: the fields of [`CreateSession`] plus the
/// historical `project` name, which current servers ignore.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LegacySession {
    /// Project name; ignored by current servers (the API key selects the project).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The session fields.
    #[serde(flatten)]
    pub session: CreateSession,
}

impl From<CreateSession> for LegacySession {
    fn from(session: CreateSession) -> Self {
        LegacySession {
            project: None,
            session,
        }
    }
}

/// Body of `POST /v1/events/batch` (`PostEventBatchRequest`): events of any sessions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct EventBatch {
    /// The events.
    pub events: Vec<Event>,
    /// When true, all events share one session created from `session_properties`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_session: Option<bool>,
    /// The shared session, with `single_session`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_properties: Option<SessionProperties>,
}

impl EventBatch {
    /// A batch of `events`, each naming its own session.
    pub fn new(events: Vec<Event>) -> Self {
        EventBatch {
            events,
            single_session: None,
            session_properties: None,
        }
    }
}

/// The session of a single-session [`EventBatch`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionProperties {
    /// Display name of the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_name: Option<String>,
    /// Start, in Unix epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    /// Properties of the end user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_properties: Option<JsonObject>,
    /// Free-form metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<JsonObject>,
}

/// An event or a session as the server stores and returns it: the 200 body of
/// `POST /v1/sessions` and `POST /session/start` (`PostSessionStartResponse`).
///
/// Only `session_id` is relied upon; the contract notes that older servers omitted the rest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EventRecord {
    /// Id of the event; for a session, equal to `session_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// The session the event belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The parent event, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// Ids of the child events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub children_ids: Option<Vec<String>>,
    /// `session`, `model`, `tool` or `chain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    /// Environment label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Error message, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
    /// Inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Value>,
    /// Outputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Value>,
    /// Metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// Metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Value>,
    /// Feedback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<Value>,
    /// User properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_properties: Option<Value>,
    /// Start, in Unix epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<f64>,
    /// End, in Unix epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<f64>,
    /// Duration in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// Organisation of the API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// Workspace of the API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<String>,
    /// Project of the API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// Keys this crate does not know, kept as received.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// What `POST /v1/sessions` answers: the session id to use from then on (the server replaces a
/// missing or invalid one) and the whole stored session event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CreateSessionResponse {
    /// The session's id, read from the body's `session_id`.
    pub session_id: Uuid,
    /// The stored session event as the server returned it.
    pub record: EventRecord,
}

/// `{"success": true}`: the 200 body of the session batch and update routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Success {
    /// Whether the server applied the request.
    #[serde(default = "yes")]
    pub success: bool,
}

/// The 200 body of `POST /v1/events/batch` (`PostEventBatchResponse`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EventBatchResponse {
    /// Ids of the created events, in request order.
    #[serde(default)]
    pub event_ids: Vec<String>,
    /// The shared session, for a single-session batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Whether every event was created.
    #[serde(default)]
    pub success: bool,
    /// Per-event errors of a partially applied batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<String>>,
}

/// The error body of non-2xx answers (`ErrorResponse`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorBody {
    /// Mirrors the HTTP status.
    #[serde(rename = "statusCode", deserialize_with = "lenient_status")]
    pub status_code: u16,
    /// Human-readable cause.
    pub message: String,
    /// Always `false`.
    #[serde(default)]
    pub success: bool,
    /// Machine-readable code, when the server gives one.
    #[serde(rename = "errorCode", default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
}

impl ErrorBody {
    /// An error body for `status` with `message`.
    pub fn new(status_code: u16, message: impl Into<String>) -> Self {
        ErrorBody {
            status_code,
            message: message.into(),
            success: false,
            error_code: None,
        }
    }
}

/// A node of the session tree of `GET /v1/sessions/{session_id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionTree {
    /// The event of this node.
    #[serde(flatten)]
    pub event: EventRecord,
    /// Its children, in start order.
    #[serde(default)]
    pub children: Vec<SessionTree>,
}

fn is_absent_or_non_finite(value: &Option<f64>) -> bool {
    !value.is_some_and(f64::is_finite)
}

fn yes() -> bool {
    true
}

/// `statusCode` is a JSON number; accept `404.0` as well as `404`.
fn lenient_status<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u16, D::Error> {
    let value = f64::deserialize(deserializer)?;
    if value.fract() == 0.0 && (0.0..=f64::from(u16::MAX)).contains(&value) {
        Ok(value as u16)
    } else {
        Err(serde::de::Error::custom(format!(
            "{value} is not an HTTP status"
        )))
    }
}

pub(crate) mod json;
#[cfg(test)]
mod tests;
