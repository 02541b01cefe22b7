//! `--show-file-schema` and `--show-argument-schema`: the JSON Schemas of a command's request
//! object and of each flag's value, generated from the wire types by the library's `schema`
//! module.

use serde_json::Value;
use tracing_honeyhive::schema;

use crate::Failure;
use crate::args::RequestSource;

/// The request object a command sends.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Request {
    /// `sessions create`: the body of `POST /v1/sessions`.
    CreateSession,
    /// `sessions create-event-batch`: `session_id` (the path) beside `events` (the body).
    SessionEventBatch,
}

impl Request {
    /// The JSON Schema of the whole request object: what `--filename` reads.
    pub(crate) fn schema(self) -> Value {
        match self {
            Request::CreateSession => schema::create_session(),
            Request::SessionEventBatch => schema::session_event_batch_request(),
        }
    }
}

/// The field flag of a request object's property: `user_properties` → `user-properties`.
pub(crate) fn flag_of(property: &str) -> String {
    property.replace('_', "-")
}

/// The property a field flag sets: `user-properties` → `user_properties`.
pub(crate) fn property_of(flag: &str) -> String {
    flag.replace('-', "_")
}

/// When `--show-file-schema` or `--show-argument-schema` was given, the schema to print (or why
/// not); `None` otherwise. `fields` are the command's field flags that were given: the schema
/// flags stand alone, so any of them, or `--filename`, is refused.
pub(crate) fn introspection(
    request: Request,
    source: &RequestSource,
    fields: &[(&'static str, &str)],
) -> Option<Result<Value, Failure>> {
    let asked = match (&source.show_argument_schema, source.show_file_schema) {
        (None, false) => return None,
        (Some(_), true) => {
            return Some(Err(Failure::usage(
                "--show-file-schema and --show-argument-schema cannot be combined; ask for one",
            )));
        }
        (None, true) => "--show-file-schema".to_owned(),
        (Some(flag), false) => format!("--show-argument-schema {flag}"),
    };
    let mut others: Vec<String> = fields.iter().map(|(flag, _)| format!("--{flag}")).collect();
    if source.filename.is_some() {
        others.push("--filename".into());
    }
    if !others.is_empty() {
        return Some(Err(Failure::usage(format!(
            "{asked} only prints a schema and cannot be combined with other command flags; \
             conflicting: {}",
            others.join(", ")
        ))));
    }
    let full = request.schema();
    Some(match &source.show_argument_schema {
        None => Ok(full),
        Some(flag) => argument(&full, flag),
    })
}

/// The schema of the value of the field flag `flag` (named without `--`), standalone.
fn argument(full: &Value, flag: &str) -> Result<Value, Failure> {
    let properties = full.get("properties").and_then(Value::as_object);
    let found = properties.and_then(|p| p.get(&property_of(flag)));
    match found {
        Some(Value::Object(property)) if !flag.contains('_') => {
            let mut standalone = serde_json::Map::new();
            standalone.insert("$schema".into(), full["$schema"].clone());
            standalone.extend(property.clone());
            Ok(Value::Object(standalone))
        }
        _ => {
            let mut names: Vec<String> = properties
                .map(|p| p.keys().map(|k| flag_of(k)).collect())
                .unwrap_or_default();
            names.sort();
            let hint = if flag.starts_with('-') {
                format!(
                    " Name the flag without its leading dashes, e.g. `{}`.",
                    flag.trim_start_matches('-')
                )
            } else if flag.contains('_') {
                format!(" Flags use dashes: `{}`.", flag_of(flag))
            } else {
                String::new()
            };
            Err(Failure::usage(format!(
                "--show-argument-schema: this command has no flag `{flag}`.{hint} Valid names: {}",
                names.join(", ")
            )))
        }
    }
}
