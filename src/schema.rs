//! JSON Schemas (draft 2020-12) of the request bodies, generated from the [`wire`](crate::wire)
//! types themselves, so a schema can never drift from what the client sends and accepts.
//!
//! They agree with the contract's vendored schemas (`schemas/` in the repository) and are a little
//! stricter where the wire types are: ids are UUID strings (`"format": "uuid"`), `start_time` and
//! `end_time` are whole milliseconds (`"type": "integer"`), and no field but an event's `error` may
//! be `null`. Every object the API closes is closed (`"additionalProperties": false`), and each
//! schema is self-contained: no `$ref`, no `$defs`.
//!
//! The `honeyhive` command line prints these with `--show-file-schema` and
//! `--show-argument-schema`.
//!
//! ```
//! let schema = tracing_honeyhive::schema::create_session();
//! assert_eq!(schema["additionalProperties"], false);
//! assert_eq!(schema["properties"]["start_time"]["type"], "integer");
//! ```

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};
use serde_json::Value;
use uuid::Uuid;

use crate::wire::{CreateSession, Event, SessionEventBatch};

/// The body of `POST /v1/sessions` ([`CreateSession`]): every field optional, closed.
pub fn create_session() -> Value {
    generate::<CreateSession>()
}

/// The body of `POST /v1/sessions/{session_id}/events/batch` ([`SessionEventBatch`]):
/// `{"events": [...]}`, each event closed and requiring `event_type` and `inputs`.
pub fn session_event_batch() -> Value {
    generate::<SessionEventBatch>()
}

/// The whole request of `createSessionEventBatch` as one object, the path's `session_id` beside
/// the body's `events`: the shape HoneyHive's command line reads with `--filename`.
pub fn session_event_batch_request() -> Value {
    generate::<SessionEventBatchRequest>()
}

/// `createSessionEventBatch` with its path parameter flattened into the body.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "SessionEventBatchRequest",
    description = "Adds events, in order, to an existing session: the session's id and the \
                   events of POST /v1/sessions/{session_id}/events/batch."
)]
#[allow(dead_code)] // only its schema is used
struct SessionEventBatchRequest {
    /// The session to add the events to (a UUID); it overrides any `session_id` of the events.
    session_id: Uuid,
    /// The events, stored in this order. Each needs `event_type` and `inputs`.
    events: Vec<Event>,
}

/// The only optional fields the contract lets be `null`; any other absent field is omitted.
const NULLABLE: [&str; 1] = ["error"];

/// The schema of `T`, with every subschema inlined.
fn generate<T: JsonSchema>() -> Value {
    let mut settings = SchemaSettings::draft2020_12();
    settings.inline_subschemas = true;
    let schema: Schema = settings.into_generator().into_root_schema_for::<T>();
    let mut schema = schema.to_value();
    omit_null(&mut schema);
    consts_to_enum(&mut schema);
    schema
}

/// schemars lets every `Option` field be `null`, as serde would read it; the API refuses `null`
/// where it means "absent" (the wire types omit such fields), so optional properties other than
/// [`NULLABLE`] lose their `null`, at every depth.
fn omit_null(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    let required: Vec<String> = object
        .get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if let Some(Value::Object(properties)) = object.get_mut("properties") {
        for (name, property) in properties.iter_mut() {
            if !required.contains(name) && !NULLABLE.contains(&name.as_str()) {
                not_null(property);
            }
        }
    }
    for value in object.values_mut() {
        match value {
            Value::Object(_) => omit_null(value),
            Value::Array(items) => items.iter_mut().for_each(omit_null),
            _ => {}
        }
    }
}

/// schemars describes a unit enum whose variants have docs as `oneOf` single `const` strings;
/// the contract (and every validator's message) reads better as one `enum`, as
/// `{"type": "string", "enum": ["model", "tool", "chain", "session"]}`.
fn consts_to_enum(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    let constants: Option<Vec<Value>> =
        object
            .get("oneOf")
            .and_then(Value::as_array)
            .and_then(|variants| {
                variants
                    .iter()
                    .map(|v| v.get("const").filter(|c| c.is_string()).cloned())
                    .collect()
            });
    if let Some(constants) = constants.filter(|c| !c.is_empty()) {
        object.remove("oneOf");
        object.insert("type".into(), "string".into());
        object.insert("enum".into(), Value::Array(constants));
    }
    for value in object.values_mut() {
        match value {
            Value::Object(_) => consts_to_enum(value),
            Value::Array(items) => items.iter_mut().for_each(consts_to_enum),
            _ => {}
        }
    }
}

/// `{"type": ["object", "null"]}` → `{"type": "object"}`; `{"anyOf": [S, {"type": "null"}]}` → `S`.
fn not_null(schema: &mut Value) {
    let is_null = |s: &Value| s.get("type").and_then(Value::as_str) == Some("null");
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(types)) = object.get_mut("type") {
        types.retain(|t| t != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            object.insert("type".into(), only);
        }
    }
    if let Some(Value::Array(any_of)) = object.get("anyOf") {
        if let [a, b] = any_of.as_slice() {
            let other = match (is_null(a), is_null(b)) {
                (true, false) => Some(b.clone()),
                (false, true) => Some(a.clone()),
                _ => None,
            };
            if let Some(Value::Object(other)) = other {
                object.remove("anyOf");
                object.extend(other);
            }
        }
    }
}

#[cfg(test)]
mod tests;
