//! From flags and `--filename` to a checked request: the file's object, each given flag's value
//! converted to the JSON kind its schema names and put over the file's field, then the whole
//! object checked against the request's schema before anything is sent. Every refusal names the
//! flag (or the file) and the problem.

use std::collections::HashMap;
use std::io::Read;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tracing_honeyhive::wire::{CreateSession, Event};
use uuid::Uuid;

use crate::Failure;
use crate::args::RequestSource;
use crate::schema::{Request, flag_of, property_of};

/// Longest excerpt of a value quoted in a message.
const QUOTE_CHARS: usize = 60;

/// The most `--filename` reads from a file or standard input, 64 MiB: twice the local server's
/// default body limit, far beyond any real request. A larger input (`/dev/zero`, a runaway
/// pipe) is refused once this much has been read, instead of read until memory runs out. The
/// `--filename` help (`args.rs`) states it too.
const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// A request object, checked against its schema, with where each top-level field came from.
pub(crate) struct Checked {
    object: Map<String, Value>,
    origins: Origins,
}

/// Who gave each top-level field: a flag, else the file.
struct Origins {
    flags: HashMap<String, &'static str>,
    file: Option<String>,
}

impl Origins {
    /// `--inputs` for a field given by flag, else the file, such as `--filename session.json`.
    fn of(&self, property: &str) -> String {
        match (self.flags.get(property), &self.file) {
            (Some(flag), _) => format!("--{flag}"),
            (None, Some(file)) => file.clone(),
            (None, None) => "the request".into(),
        }
    }
}

/// Reads `--filename` (if given), lays the given field flags over it, and checks the result.
pub(crate) fn assemble(
    request: Request,
    source: &RequestSource,
    fields: &[(&'static str, &str)],
) -> Result<Checked, Failure> {
    let schema = request.schema();
    let (mut object, file) = match &source.filename {
        Some(path) => {
            let (object, label) = read_file(path)?;
            (object, Some(label))
        }
        None => (Map::new(), None),
    };
    let mut origins = Origins {
        flags: HashMap::new(),
        file,
    };
    for &(flag, raw) in fields {
        let property = property_of(flag);
        let value = convert(flag, raw, &schema["properties"][&property])?;
        object.insert(property.clone(), value);
        origins.flags.insert(property, flag);
    }
    missing(&schema, &object, &origins)?;
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .map_err(|e| Failure::usage(format!("the request schema does not compile: {e}")))?;
    check(
        &validator,
        &schema,
        &Value::Object(object.clone()),
        &origins,
    )?;
    Ok(Checked { object, origins })
}

impl Checked {
    /// The body of `POST /v1/sessions`.
    pub(crate) fn create_session(self) -> Result<CreateSession, Failure> {
        typed(Value::Object(self.object), "", &self.origins)
    }

    /// The session id and the events of a session batch.
    pub(crate) fn session_event_batch(mut self) -> Result<(Uuid, Vec<Event>), Failure> {
        let id = self.object.remove("session_id").unwrap_or_default();
        let session_id = typed(id, "session_id", &self.origins)?;
        let events = self.object.remove("events").unwrap_or_default();
        let events = typed(events, "events", &self.origins)?;
        Ok((session_id, events))
    }
}

/// The request object in `path` (`-`: standard input), and how messages name it.
fn read_file(path: &str) -> Result<(Map<String, Value>, String), Failure> {
    let (text, label) = if path == "-" {
        let label = "--filename - (standard input)".to_owned();
        let text = read_bounded(std::io::stdin().lock(), MAX_INPUT_BYTES);
        let text = text.map_err(|e| match e {
            Unread::TooLarge => too_large(&label),
            Unread::Io(e) => {
                Failure::usage(format!("--filename -: cannot read standard input: {e}"))
            }
        })?;
        (text, label)
    } else {
        let label = format!("--filename {path}");
        let cannot = |e| Failure::usage(format!("{label}: cannot read the file: {e}"));
        let file = std::fs::File::open(path).map_err(cannot)?;
        let text = read_bounded(file, MAX_INPUT_BYTES).map_err(|e| match e {
            Unread::TooLarge => too_large(&label),
            Unread::Io(e) => cannot(e),
        })?;
        (text, label)
    };
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        let yaml = [".yaml", ".yml"].iter().any(|ext| path.ends_with(ext));
        let hint = if yaml {
            " (only JSON is read; convert YAML first)"
        } else {
            ""
        };
        Failure::usage(format!("{label}: {}{hint}", invalid_json(&e)))
    })?;
    match value {
        Value::Object(object) => Ok((object, label)),
        other => Err(Failure::usage(format!(
            "{label}: expected a JSON object (the whole request), got {}",
            kind_of(&other)
        ))),
    }
}

/// Why an input was not read.
#[derive(Debug)]
enum Unread {
    /// More than the limit.
    TooLarge,
    Io(std::io::Error),
}

/// All of `reader` as text, if it holds at most `limit` bytes; stops reading one byte past it.
fn read_bounded(reader: impl Read, limit: u64) -> Result<String, Unread> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(Unread::Io)?;
    if bytes.len() as u64 > limit {
        return Err(Unread::TooLarge);
    }
    String::from_utf8(bytes).map_err(|_| {
        let invalid = "stream did not contain valid UTF-8";
        Unread::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            invalid,
        ))
    })
}

fn too_large(label: &str) -> Failure {
    let mib = MAX_INPUT_BYTES / (1024 * 1024);
    Failure::usage(format!(
        "{label}: larger than {mib} MiB ({MAX_INPUT_BYTES} bytes), the most --filename reads"
    ))
}

/// A flag's raw value as the JSON kind its property's schema names: whole milliseconds for an
/// `integer`, a number for a `number`, the text itself for a `string`, parsed JSON otherwise.
fn convert(flag: &str, raw: &str, property: &Value) -> Result<Value, Failure> {
    match property.get("type").and_then(Value::as_str) {
        Some("string") => Ok(Value::String(raw.to_owned())),
        Some("integer") => whole_milliseconds(flag, raw).map(Value::from),
        Some("number") => {
            let number = finite(raw).ok_or_else(|| {
                Failure::usage(format!(
                    "--{flag}: `{}` is not a number of milliseconds, such as 1250",
                    quote(raw)
                ))
            })?;
            Ok(match raw.trim().parse::<i64>() {
                Ok(whole) => Value::from(whole),
                Err(_) => Value::from(number),
            })
        }
        _ => serde_json::from_str(raw)
            .map_err(|e| Failure::usage(format!("--{flag}: {}", invalid_json(&e)))),
    }
}

/// A time in Unix epoch milliseconds. HoneyHive replaces a time that is not a number with the
/// current time without a word; here it is refused instead.
fn whole_milliseconds(flag: &str, raw: &str) -> Result<i64, Failure> {
    if let Ok(whole) = raw.trim().parse::<i64>() {
        return Ok(whole);
    }
    let Some(number) = finite(raw) else {
        return Err(Failure::usage(format!(
            "--{flag}: `{}` is not a number: give Unix epoch milliseconds, such as 1712025501605 \
             (HoneyHive would silently replace a non-numeric time with the current time)",
            quote(raw)
        )));
    };
    if number.fract() != 0.0 {
        return Err(Failure::usage(format!(
            "--{flag}: `{}` is not a whole number of milliseconds",
            quote(raw)
        )));
    }
    if !(i64::MIN as f64..=i64::MAX as f64).contains(&number) {
        return Err(Failure::usage(format!(
            "--{flag}: `{}` is out of range for a time in milliseconds",
            quote(raw)
        )));
    }
    Ok(number as i64)
}

fn finite(raw: &str) -> Option<f64> {
    raw.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

/// `invalid JSON at line 1, column 9: expected value`.
fn invalid_json(error: &serde_json::Error) -> String {
    let (line, column) = (error.line(), error.column());
    let text = error.to_string();
    let what = text
        .strip_suffix(&format!(" at line {line} column {column}"))
        .unwrap_or(&text);
    format!("invalid JSON at line {line}, column {column}: {what}")
}

/// Refuses an object without one of the schema's required fields, naming the flags to give.
fn missing(schema: &Value, object: &Map<String, Value>, origins: &Origins) -> Result<(), Failure> {
    let required = schema.get("required").and_then(Value::as_array);
    let absent: Vec<String> = required
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|property| !object.contains_key(*property))
        .map(|property| format!("--{}", flag_of(property)))
        .collect();
    if absent.is_empty() {
        return Ok(());
    }
    let them = if absent.len() == 1 { "it" } else { "them" };
    let place = match &origins.file {
        Some(file) => format!("give {them} as flags or as fields of {file}"),
        None => format!("give {them} as flags or in a --filename object"),
    };
    Err(Failure::usage(format!(
        "missing {} ({place})",
        absent.join(" and ")
    )))
}

/// Checks `instance` against the request's schema; the first violation, attributed.
fn check(
    validator: &Validator,
    schema: &Value,
    instance: &Value,
    origins: &Origins,
) -> Result<(), Failure> {
    let Some(error) = validator.iter_errors(instance).next() else {
        return Ok(());
    };
    let segments: Vec<String> = error
        .instance_path()
        .as_str()
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let what = describe(&error, schema);
    let message = match segments.split_first() {
        None => format!(
            "{}: {what}",
            origins.file.as_deref().unwrap_or("the request")
        ),
        Some((top, rest)) => {
            let origin = origins.of(top);
            let from_flag = origins.flags.contains_key(top);
            let place = match (from_flag, rest.is_empty()) {
                (true, true) => String::new(),
                (true, false) => format!("at {}: ", path(rest)),
                (false, _) => format!("at {}: ", path(&segments)),
            };
            format!("{origin}: {place}{what}")
        }
    };
    Err(Failure::usage(message))
}

/// `["events", "0", "inputs"]` → `events[0].inputs`; `["0", "inputs"]` → `[0].inputs`.
fn path(segments: &[String]) -> String {
    let mut out = String::new();
    for segment in segments {
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(segment);
        }
    }
    out
}

/// What is wrong, in the user's terms.
fn describe(error: &ValidationError<'_>, schema: &Value) -> String {
    let instance = error.instance();
    // The schema object holding the failed keyword, such as the event for `additionalProperties`.
    let keyword_path = error.schema_path().as_str();
    let parent = keyword_path
        .rsplit_once('/')
        .and_then(|(parent, _)| schema.pointer(parent));
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let names: Vec<String> = unexpected.iter().map(|n| format!("`{n}`")).collect();
            let noun = if names.len() == 1 { "field" } else { "fields" };
            let mut known: Vec<&String> = parent
                .and_then(|p| p.get("properties"))
                .and_then(Value::as_object)
                .map(|p| p.keys().collect())
                .unwrap_or_default();
            known.sort();
            let known: Vec<&str> = known.iter().map(|k| k.as_str()).collect();
            format!(
                "unknown {noun} {}; the known fields are {}",
                names.join(", "),
                known.join(", ")
            )
        }
        ValidationErrorKind::Required { property } => {
            format!("missing the required field {property}")
        }
        ValidationErrorKind::Enum { options } => {
            let allowed: Vec<String> = options
                .as_array()
                .into_iter()
                .flatten()
                .map(|o| o.as_str().map_or_else(|| o.to_string(), str::to_owned))
                .collect();
            format!(
                "`{}` is not one of {}",
                quote(&text_of(instance)),
                allowed.join(", ")
            )
        }
        ValidationErrorKind::Format { format } if format == "uuid" => {
            format!("`{}` is not a UUID", quote(&text_of(instance)))
        }
        ValidationErrorKind::Type { .. } => {
            let expected = parent.and_then(|p| p.get("type"));
            format!(
                "expected {}, got {}",
                expected.map_or_else(|| "another kind".into(), kinds),
                kind_of(instance)
            )
        }
        _ => error.to_string(),
    }
}

/// The schema `type` (a name or a list) in words: `a JSON object`, `a string or null`.
fn kinds(types: &Value) -> String {
    let name = |t: &str| match t {
        "object" => "a JSON object",
        "array" => "a JSON array",
        "string" => "a string",
        "integer" => "a whole number",
        "number" => "a number",
        "boolean" => "true or false",
        "null" => "null",
        _ => "another kind",
    };
    match types {
        Value::String(t) => name(t).to_owned(),
        Value::Array(list) => {
            let names: Vec<&str> = list.iter().filter_map(Value::as_str).map(name).collect();
            names.join(" or ")
        }
        _ => "another kind".into(),
    }
}

/// The kind of a JSON value in words, with an excerpt: `an array ([1])`.
fn kind_of(value: &Value) -> String {
    let kind = match value {
        Value::Null => return "null".into(),
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    format!("{kind} ({})", quote(&value.to_string()))
}

/// A string as itself, any other value as JSON.
fn text_of(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

/// `text`, cut to [`QUOTE_CHARS`] with `…`.
fn quote(text: &str) -> String {
    if text.chars().count() <= QUOTE_CHARS {
        return text.to_owned();
    }
    text.chars().take(QUOTE_CHARS - 1).collect::<String>() + "…"
}

/// `value` as `T`: the schema already holds, so this only fails where the wire type is stricter
/// still (a whole number written as `1.7e12`, say).
fn typed<T: DeserializeOwned>(
    value: Value,
    property: &str,
    origins: &Origins,
) -> Result<T, Failure> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let at = e.path().to_string();
        let origin = if property.is_empty() {
            let top = at.split(['.', '[']).next().unwrap_or_default();
            origins.of(top)
        } else {
            origins.of(property)
        };
        let place = if at == "." {
            String::new()
        } else {
            format!("at {at}: ")
        };
        Failure::usage(format!("{origin}: {place}{}", e.into_inner()))
    })
}

#[cfg(test)]
mod tests;
