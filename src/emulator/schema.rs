//! Request validation with the contract's own JSON Schemas (vendored in `schemas/`), so the local
//! server enforces exactly the documented shapes.

use std::sync::OnceLock;

use jsonschema::Validator;
use serde_json::Value;

/// The request bodies the server validates.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Body {
    CreateSession,
    SessionEventBatch,
    UpdateEvent,
    LegacySessionStart,
    EventsBatch,
    LegacyEventsBatch,
}

/// Longest message returned for one validation failure.
const MESSAGE_CHARS: usize = 300;

impl Body {
    fn source(self) -> &'static str {
        match self {
            Body::CreateSession => include_str!("../../schemas/create-session.json"),
            Body::SessionEventBatch => include_str!("../../schemas/session-event-batch.json"),
            Body::UpdateEvent => include_str!("../../schemas/update-event.json"),
            Body::LegacySessionStart => include_str!("../../schemas/legacy-session-start.json"),
            Body::EventsBatch => include_str!("../../schemas/events-batch.json"),
            Body::LegacyEventsBatch => include_str!("../../schemas/legacy-events-batch.json"),
        }
    }

    fn validator(self) -> &'static Validator {
        static VALIDATORS: [OnceLock<Validator>; 6] = [const { OnceLock::new() }; 6];
        VALIDATORS[self as usize].get_or_init(|| {
            let schema: Value =
                serde_json::from_str(self.source()).expect("vendored schemas are valid JSON");
            jsonschema::validator_for(&schema).expect("vendored schemas are valid JSON Schemas")
        })
    }

    /// The first violation of the schema, as `at <path>: <what>`, such as
    /// `at events[0]: Additional properties are not allowed ('project' was unexpected)`.
    pub(crate) fn check(self, body: &Value) -> Result<(), String> {
        let Some(error) = self.validator().iter_errors(body).next() else {
            return Ok(());
        };
        let path = readable_path(error.instance_path().as_str());
        let mut message = format!("invalid request body at {path}: {error}");
        if message.chars().count() > MESSAGE_CHARS {
            message = message.chars().take(MESSAGE_CHARS).collect::<String>() + "…";
        }
        Err(message)
    }
}

/// `/events/0/inputs` → `events[0].inputs`; the root → `the top level`.
fn readable_path(pointer: &str) -> String {
    let mut path = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if segment.bytes().all(|b| b.is_ascii_digit()) && !segment.is_empty() {
            path.push_str(&format!("[{segment}]"));
        } else {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&segment);
        }
    }
    if path.is_empty() {
        "the top level".to_owned()
    } else {
        path
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_vendored_schema_compiles() {
        for body in [
            Body::CreateSession,
            Body::SessionEventBatch,
            Body::UpdateEvent,
            Body::LegacySessionStart,
            Body::EventsBatch,
            Body::LegacyEventsBatch,
        ] {
            body.validator();
        }
    }

    #[test]
    fn messages_name_the_field_and_its_path() {
        let err = Body::SessionEventBatch
            .check(&json!({"events": [{"event_type": "chain", "inputs": {}, "project": "p"}]}))
            .unwrap_err();
        assert!(
            err.starts_with("invalid request body at events[0]:"),
            "{err}"
        );
        assert!(err.contains("'project'"), "{err}");
        let err = Body::CreateSession
            .check(&json!({"inputs": [1]}))
            .unwrap_err();
        assert!(err.starts_with("invalid request body at inputs:"), "{err}");
    }

    #[test]
    fn messages_are_bounded() {
        let huge = "x".repeat(10_000);
        let err = Body::CreateSession
            .check(&json!({"session_name": 1, "inputs": huge}))
            .unwrap_err();
        assert!(err.chars().count() <= MESSAGE_CHARS + 1, "{}", err.len());
    }

    #[test]
    fn pointer_segments_become_a_readable_path() {
        assert_eq!(readable_path(""), "the top level");
        assert_eq!(
            readable_path("/events/12/metadata/a~1b"),
            "events[12].metadata.a/b"
        );
    }
}
