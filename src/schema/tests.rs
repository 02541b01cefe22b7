//! The generated schemas agree with the contract's vendored ones: the same fields, the same
//! kinds, the same closed objects and required fields; documented examples validate under both
//! and the bad shapes fail under both.

use serde_json::{Value, json};

use super::*;

fn vendored(file: &str) -> Value {
    let text = match file {
        "create-session.json" => include_str!("../../schemas/create-session.json"),
        "session-event-batch.json" => include_str!("../../schemas/session-event-batch.json"),
        other => panic!("no vendored schema {other}"),
    };
    serde_json::from_str(text).expect("vendored schemas are JSON")
}

/// The vendored per-event schema, with the `$ref` resolved.
fn vendored_event() -> Value {
    vendored("session-event-batch.json")["$defs"]["event"].clone()
}

fn generated_event() -> Value {
    session_event_batch()["properties"]["events"]["items"].clone()
}

fn valid(schema: &Value, instance: &Value) -> bool {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .expect("the schema compiles")
        .is_valid(instance)
}

fn keys(schema: &Value, field: &str) -> Vec<String> {
    let mut keys: Vec<String> = match &schema[field] {
        Value::Object(map) => map.keys().cloned().collect(),
        Value::Array(list) => list
            .iter()
            .filter_map(Value::as_str)
            .map(Into::into)
            .collect(),
        _ => Vec::new(),
    };
    keys.sort();
    keys
}

/// Asserts the two object schemas have the same properties, required set and closedness, and
/// that each property has a compatible kind (`integer` where the contract says `number` for whole
/// milliseconds).
fn assert_same_shape(generated: &Value, contract: &Value) {
    assert_eq!(keys(generated, "properties"), keys(contract, "properties"));
    assert_eq!(keys(generated, "required"), keys(contract, "required"));
    assert_eq!(generated["additionalProperties"], json!(false));
    assert_eq!(contract["additionalProperties"], json!(false));
    for name in keys(contract, "properties") {
        let ours = &generated["properties"][&name];
        let theirs = &contract["properties"][&name];
        let compatible = ours["type"] == theirs["type"]
            || (ours["type"] == "integer" && theirs["type"] == "number");
        assert!(compatible, "{name}: ours {ours}, contract {theirs}");
        if theirs["type"] == "array" {
            assert_eq!(ours["items"]["type"], theirs["items"]["type"], "{name}");
        }
        if theirs.get("enum").is_some() {
            assert_eq!(keys(ours, "enum"), keys(theirs, "enum"), "{name}");
        }
    }
}

#[test]
fn every_schema_is_a_valid_self_contained_2020_12_schema() {
    for schema in [
        create_session(),
        session_event_batch(),
        session_event_batch_request(),
    ] {
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        jsonschema::meta::validate(&schema).expect("valid against the 2020-12 meta-schema");
        let text = schema.to_string();
        assert!(!text.contains("$ref") && !text.contains("$defs"), "{text}");
    }
}

#[test]
fn create_session_has_the_contract_fields_kinds_and_closedness() {
    assert_same_shape(&create_session(), &vendored("create-session.json"));
}

#[test]
fn events_have_the_contract_fields_kinds_enum_and_required_inputs() {
    let event = generated_event();
    assert_same_shape(&event, &vendored_event());
    assert_eq!(
        event["properties"]["event_type"]["enum"],
        json!(["model", "tool", "chain", "session"])
    );
    assert_eq!(
        event["properties"]["error"]["type"],
        json!(["string", "null"])
    );
    let batch = session_event_batch();
    assert_eq!(keys(&batch, "properties"), ["events"]);
    assert_eq!(keys(&batch, "required"), ["events"]);
    assert_eq!(batch["additionalProperties"], json!(false));
}

#[test]
fn the_batch_request_puts_the_session_id_beside_the_events() {
    let request = session_event_batch_request();
    assert_eq!(keys(&request, "properties"), ["events", "session_id"]);
    assert_eq!(keys(&request, "required"), ["events", "session_id"]);
    assert_eq!(request["additionalProperties"], json!(false));
    assert_eq!(request["properties"]["session_id"]["format"], "uuid");
    assert_eq!(request["properties"]["events"]["items"], generated_event());
}

const SESSION_ID: &str = "0f8e4a44-8d0a-4c55-9f9b-6f6f4c1f3a10";

fn documented_session() -> Value {
    json!({
        "session_id": SESSION_ID,
        "session_name": "support chat",
        "event_name": "support chat",
        "source": "production",
        "start_time": 1_712_025_501_605_i64,
        "end_time": 1_712_025_502_855_i64,
        "duration": 1250,
        "config": {"model": "gpt-4o"},
        "inputs": {"question": "Where is my order?"},
        "outputs": {"answer": "It shipped."},
        "metadata": {"release": "1.4.2"},
        "user_properties": {"plan": "pro"},
        "children_ids": ["3b3a4f47-5d49-4a71-9f39-3c1f0c1a2b77"]
    })
}

fn documented_event() -> Value {
    json!({
        "event_type": "model",
        "event_name": "chat completion",
        "event_id": "3b3a4f47-5d49-4a71-9f39-3c1f0c1a2b77",
        "parent_id": SESSION_ID,
        "source": "production",
        "config": {"model": "gpt-4o", "provider": "openai"},
        "inputs": {"chat_history": [{"role": "user", "content": "Where is my order?"}]},
        "outputs": {"role": "assistant", "content": "It shipped."},
        "error": null,
        "start_time": 1_712_025_501_700_i64,
        "end_time": 1_712_025_502_600_i64,
        "duration": 900.5,
        "metadata": {"total_tokens": 52},
        "feedback": {"rating": 5},
        "metrics": {"latency_ok": true},
        "user_properties": {"plan": "pro"}
    })
}

#[test]
fn documented_examples_validate_under_both() {
    let contract = vendored("create-session.json");
    for session in [json!({}), documented_session()] {
        assert!(valid(&create_session(), &session), "{session}");
        assert!(valid(&contract, &session), "{session}");
    }
    let minimal = json!({"event_type": "chain", "inputs": {}});
    for event in [minimal, documented_event()] {
        let body = json!({"events": [event]});
        assert!(valid(&session_event_batch(), &body), "{body}");
        assert!(
            valid(&vendored("session-event-batch.json"), &body),
            "{body}"
        );
        let request = json!({"session_id": SESSION_ID, "events": body["events"]});
        assert!(valid(&session_event_batch_request(), &request), "{request}");
    }
}

#[test]
fn bad_sessions_are_rejected_under_both() {
    let contract = vendored("create-session.json");
    for bad in [
        json!({"project": "legacy"}),
        json!({"inputs": [1]}),
        json!({"inputs": null}),
        json!({"metadata": "text"}),
        json!({"start_time": "now"}),
        json!({"duration": "1s"}),
        json!({"children_ids": "one"}),
        json!({"children_ids": [1]}),
        json!({"session_name": 7}),
        json!([]),
    ] {
        assert!(!valid(&create_session(), &bad), "ours accepts {bad}");
        assert!(!valid(&contract, &bad), "the contract accepts {bad}");
    }
}

#[test]
fn bad_events_are_rejected_under_both() {
    let contract = vendored("session-event-batch.json");
    let with = |patch: Value| {
        let mut event = json!({"event_type": "tool", "inputs": {}});
        for (k, v) in patch.as_object().into_iter().flatten() {
            event[k] = v.clone();
        }
        json!({"events": [event]})
    };
    let missing_inputs = json!({"events": [{"event_type": "tool"}]});
    for bad in [
        json!({"events": {}}),
        json!({"events": [1]}),
        json!({"events": [], "session": "x"}),
        json!({}),
        missing_inputs,
        with(json!({"event_type": "llm"})),
        with(json!({"inputs": [1]})),
        with(json!({"inputs": null})),
        with(json!({"project": "legacy"})),
        with(json!({"children": []})),
        with(json!({"outputs": "text"})),
        with(json!({"error": 1})),
        with(json!({"start_time": "now"})),
    ] {
        assert!(!valid(&session_event_batch(), &bad), "ours accepts {bad}");
        assert!(!valid(&contract, &bad), "the contract accepts {bad}");
    }
}

/// Where the wire types are stricter than the contract, the schemas say so: ids are UUIDs and
/// times are whole milliseconds.
#[test]
fn ids_must_be_uuids_and_times_whole_milliseconds() {
    let contract = vendored("create-session.json");
    for stricter in [
        json!({"session_id": "not-a-uuid"}),
        json!({"start_time": 1_712_025_501_605.5}),
        json!({"children_ids": ["child-1"]}),
    ] {
        assert!(!valid(&create_session(), &stricter), "{stricter}");
        assert!(valid(&contract, &stricter), "{stricter}");
    }
    let request = json!({"session_id": "abc", "events": []});
    assert!(!valid(&session_event_batch_request(), &request));
}

#[test]
fn what_the_schemas_accept_the_wire_types_read() {
    let session: CreateSession = serde_json::from_value(documented_session()).unwrap();
    assert_eq!(session.session_name.as_deref(), Some("support chat"));
    let event: Event = serde_json::from_value(documented_event()).unwrap();
    assert_eq!(event.duration, Some(900.5));
}
