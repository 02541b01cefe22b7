//! Names of the span fields the layer gives a meaning to.
//!
//! The control fields share the `honeyhive.` prefix and never appear in an event's data:
//!
//! | field | value | effect |
//! |---|---|---|
//! | [`EVENT_TYPE`] `honeyhive.event_type` | `"model"`, `"tool"` or `"chain"` | the event's type; wins over inference from `gen_ai.*` fields |
//! | [`EVENT_NAME`] `honeyhive.event_name` | string | the event's name instead of the span name |
//! | [`SESSION`] `honeyhive.session` | `true` / `false` | `true` marks a span that starts a session (see [`SessionRoots::Marked`](crate::SessionRoots::Marked)); `false` on a root span keeps it and its subtree out of HoneyHive |
//! | [`SESSION_ID`] `honeyhive.session_id` | UUID, or any key | the span joins that session (created if it does not exist): several requests of one conversation become one session; a key that is not a UUID names the session [derived](crate::ids::session_id_for_key) from it |
//! | [`SESSION_NAME`] `honeyhive.session_name` | string | the session's name, on the span that starts or joins it |
//! | [`SOURCE`] `honeyhive.source` | string | the `source` of this event (or of the session, on its root) instead of the configured one |
//! | [`PARENT_ID`] `honeyhive.parent_id` | event UUID | on a span that joins a session with `honeyhive.session_id`: its event's parent, instead of the session, such as the event of the calling span in another service (see [`propagation`](crate::propagation)); ignored elsewhere, kept as `metadata["honeyhive.invalid_parent_id"]` when it is not a UUID |
//!
//! The control fields are read when the span is created; `honeyhive.event_type`,
//! `honeyhive.event_name` and `honeyhive.session_name` may also be recorded later with
//! [`Span::record`](tracing::Span::record).
//!
//! Other names with a meaning:
//!
//! | field | effect |
//! |---|---|
//! | `inputs.*`, `outputs.*`, `config.*`, `metadata.*`, `metrics.*`, `feedback.*`, `user_properties.*` | the value goes to that object under the rest of the name: `inputs.question` → `inputs["question"]` |
//! | [`ERROR`] `error` | the event's `error` |
//! | `gen_ai.*` | OpenTelemetry GenAI conventions, mapped onto HoneyHive's names (see the crate docs) |
//! | `otel.name` | the event's name, as with tracing-opentelemetry (after `honeyhive.event_name`) |
//! | `otel.status_code`, `otel.status_message` | with status `ERROR`, the message becomes the event's `error` |
//! | `otel.status_description` | as with tracing-opentelemetry: the status is `ERROR`, and the description becomes the event's `error` |
//! | `otel.kind` | ignored |
//! | `honeyhive.inputs`, `honeyhive.outputs`, `honeyhive.config`, `honeyhive.metadata`, `honeyhive.metrics`, `honeyhive.feedback`, `honeyhive.user_properties` | a whole object as JSON text, merged into that bucket (what [`trace`](macro@crate::trace) records: `honeyhive.inputs = {"question": "…"}`); text that is not JSON is kept under `value`; kept whole up to 2 MiB before it is parsed, then bounded like any structured value |
//! | `honeyhive_inputs.*`, `honeyhive_outputs.*`, `honeyhive_config.*`, `honeyhive_metadata.*`, `honeyhive_metrics.*`, `honeyhive_feedback.*`, `honeyhive_user_properties.*` | the names HoneyHive's own SDKs give attributes (users copy them from its docs): the same buckets, with the dotted rest re-nested and numbered keys made arrays: `honeyhive_inputs.chat_history.0.role` → `inputs["chat_history"][0]["role"]` |
//! | [`SDK_EVENT_TYPE`] `honeyhive_event_type`, [`SDK_EVENT_NAME`] `honeyhive_event_name`, [`SDK_ERROR`] `honeyhive_error` | the same as `honeyhive.event_type`, `honeyhive.event_name` and `error` |
//!
//! Any other field goes to `metadata` under its full name.
//!
//! ```
//! use tracing_honeyhive::fields;
//!
//! let span = tracing::info_span!("step", honeyhive.event_type = tracing::field::Empty);
//! span.record(fields::EVENT_TYPE, "tool");
//! ```

/// `honeyhive.event_type`: `"model"`, `"tool"` or `"chain"`.
pub const EVENT_TYPE: &str = "honeyhive.event_type";
/// `honeyhive.event_name`: the event's name instead of the span name.
pub const EVENT_NAME: &str = "honeyhive.event_name";
/// `honeyhive.session`: `true` starts a session here, `false` keeps a root span out.
pub const SESSION: &str = "honeyhive.session";
/// `honeyhive.session_id`: join the session with this UUID, or the one a key names.
pub const SESSION_ID: &str = "honeyhive.session_id";
/// `honeyhive.session_name`: the session's name.
pub const SESSION_NAME: &str = "honeyhive.session_name";
/// `honeyhive.source`: the event's `source` instead of the configured one.
pub const SOURCE: &str = "honeyhive.source";
/// `honeyhive.parent_id`: on a span joining a session by id, its event's parent instead of the
/// session (the name HoneyHive's Python SDK gives the attribute).
pub const PARENT_ID: &str = "honeyhive.parent_id";
/// `error`: the event's error message.
pub const ERROR: &str = "error";

/// `honeyhive_event_type`: HoneyHive's SDKs' name for [`EVENT_TYPE`].
pub const SDK_EVENT_TYPE: &str = "honeyhive_event_type";

/// `honeyhive_event_name`: HoneyHive's SDKs' name for [`EVENT_NAME`].
pub const SDK_EVENT_NAME: &str = "honeyhive_event_name";

/// `honeyhive_error`: HoneyHive's SDKs' name for [`ERROR`].
pub const SDK_ERROR: &str = "honeyhive_error";

/// The prefix of HoneyHive's SDKs' names for the buckets: `honeyhive_inputs.question`.
pub const SDK_BUCKET_PREFIX: &str = "honeyhive_";

/// Where a session key that is not a UUID is kept, on the span that gave it and on its session:
/// `metadata["honeyhive.session_key"]`.
pub(crate) const SESSION_KEY: &str = "honeyhive.session_key";

/// HoneyHive's ingestion creates the session a span names when it does not exist (what
/// `HoneyHiveSpanProcessor` stamps): this crate always creates its sessions, so it is not kept.
pub(crate) const SESSION_AUTO_CREATE: &str = "honeyhive.session_auto_create";

pub(crate) const OTEL_NAME: &str = "otel.name";
pub(crate) const OTEL_KIND: &str = "otel.kind";
pub(crate) const OTEL_STATUS_CODE: &str = "otel.status_code";
pub(crate) const OTEL_STATUS_MESSAGE: &str = "otel.status_message";
/// tracing-opentelemetry's name for the status message; it also makes the status an error.
pub(crate) const OTEL_STATUS_DESCRIPTION: &str = "otel.status_description";
