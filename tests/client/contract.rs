//! Contract tests: every body the client can send validates against the vendored JSON Schemas,
//! both as serialised and as it actually crossed the wire.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use tracing_honeyhive::wire::{
    CreateSession, Event, EventBatch, EventType, JsonObject, LegacySession, LegacySessionStart,
    SessionProperties, UpdateEvent,
};
use uuid::Uuid;

use crate::common::schema;
use crate::{client, server};

fn object(value: Value) -> JsonObject {
    value.as_object().cloned().unwrap_or_default()
}

/// An event with every field set.
fn full_event(event_type: EventType) -> Event {
    let mut event = Event::new(event_type);
    event.inputs = object(json!({"chat_history": [{"role": "user", "content": "hi"}]}));
    event.event_id = Some(Uuid::new_v4());
    event.session_id = Some(Uuid::new_v4());
    event.parent_id = Some(Uuid::new_v4());
    event.children_ids = Some(vec![Uuid::new_v4()]);
    event.event_name = Some("step".into());
    event.source = Some("test".into());
    event.config = Some(object(json!({"model": "gpt-4o", "temperature": 0.2})));
    event.outputs = Some(object(json!({"content": "hello"})));
    event.error = Some("boom".into());
    event.start_time = Some(1_712_025_501_605);
    event.end_time = Some(1_712_025_502_605);
    event.duration = Some(1000.5);
    event.metadata = Some(object(json!({"total_tokens": 12})));
    event.feedback = Some(object(json!({"rating": 5})));
    event.metrics = Some(object(json!({"score": 0.9, "passed": true})));
    event.user_properties = Some(object(json!({"user": "u-1"})));
    event.project_id = Some("p".into());
    event
}

fn full_session() -> CreateSession {
    let mut session = CreateSession::default();
    session.session_id = Some(Uuid::new_v4());
    session.session_name = Some("s".into());
    session.event_name = Some("e".into());
    session.source = Some("test".into());
    session.start_time = Some(1_712_025_501_605);
    session.end_time = Some(1_712_025_502_605);
    session.duration = Some(1000.0);
    session.config = Some(object(json!({"a": 1})));
    session.inputs = Some(object(json!({"q": "?"})));
    session.outputs = Some(object(json!({"a": "!"})));
    session.metadata = Some(object(json!({"m": [1, 2]})));
    session.user_properties = Some(object(json!({"u": null})));
    session.children_ids = Some(vec![Uuid::new_v4()]);
    session
}

fn full_update() -> UpdateEvent {
    let mut update = UpdateEvent::default();
    update.metadata = Some(object(json!({"k": "v"})));
    update.feedback = Some(object(json!({"liked": true})));
    update.metrics = Some(object(json!({"latency": 3})));
    update.outputs = Some(object(json!({"answer": 42})));
    update.config = Some(object(json!({"c": 1})));
    update.user_properties = Some(object(json!({"plan": "pro"})));
    update.duration = Some(12.0);
    update.end_time = Some(1_712_025_502_605);
    update.children_ids = Some(vec![Uuid::new_v4()]);
    update
}

fn assert_valid(schema_file: &str, body: &Value) {
    let validator = schema(schema_file);
    let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{schema_file}: {errors:?}\n{body:#}");
}

#[test]
fn fully_populated_bodies_validate() {
    let every_type = [
        EventType::Model,
        EventType::Tool,
        EventType::Chain,
        EventType::Session,
    ];
    let events: Vec<Event> = every_type.into_iter().map(full_event).collect();
    assert_valid("session-event-batch.json", &json!({"events": events}));

    assert_valid("create-session.json", &json!(full_session()));
    assert_valid("update-event.json", &json!(full_update()));

    let mut legacy = LegacySession::from(full_session());
    legacy.project = Some("old".into());
    assert_valid(
        "legacy-session-start.json",
        &json!(LegacySessionStart { session: legacy }),
    );

    let mut batch = EventBatch::new(events);
    batch.single_session = Some(true);
    let mut properties = SessionProperties::default();
    properties.session_name = Some("bulk".into());
    properties.start_time = Some(1);
    properties.metadata = Some(Map::new());
    properties.user_properties = Some(Map::new());
    batch.session_properties = Some(properties);
    assert_valid("events-batch.json", &json!(batch));
}

#[test]
fn minimal_bodies_validate() {
    assert_valid("create-session.json", &json!(CreateSession::default()));
    assert_valid("update-event.json", &json!(UpdateEvent::default()));
    let events = [Event::new(EventType::Chain)];
    assert_valid("session-event-batch.json", &json!({"events": events}));
    assert_valid("events-batch.json", &json!(EventBatch::new(vec![])));
}

/// What the client put on the wire, for each method, validates against the request schema.
#[tokio::test]
async fn bodies_as_sent_validate() {
    let server = server();
    let client = client(&server);
    let session_id = client
        .create_session(&full_session())
        .await
        .unwrap()
        .session_id;
    let events = [full_event(EventType::Model), full_event(EventType::Tool)];
    client
        .create_session_event_batch(session_id, &events)
        .await
        .unwrap();
    client
        .update_event(session_id, &full_update())
        .await
        .unwrap();
    client
        .start_session_legacy(&LegacySession::from(full_session()))
        .await
        .unwrap();
    client
        .create_event_batch(&EventBatch::new(events.to_vec()))
        .await
        .unwrap();

    let requests = server.requests();
    let expected = [
        ("/v1/sessions", "create-session.json"),
        ("/events/batch", "session-event-batch.json"),
        ("/v1/events/", "update-event.json"),
        ("/session/start", "legacy-session-start.json"),
        ("/v1/events/batch", "events-batch.json"),
    ];
    assert_eq!(requests.len(), expected.len());
    for (request, (path, schema_file)) in requests.iter().zip(expected) {
        assert!(request.path.contains(path), "{} vs {path}", request.path);
        assert_eq!(
            request.status,
            Some(200),
            "{}: {}",
            request.path,
            request.body
        );
        assert_valid(schema_file, &request.json().expect("the client sends JSON"));
    }
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".*".prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(".*", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn json_object() -> impl Strategy<Value = JsonObject> {
    prop::collection::btree_map(".*", json_value(), 0..4).prop_map(|m| m.into_iter().collect())
}

fn event_type() -> impl Strategy<Value = EventType> {
    prop_oneof![
        Just(EventType::Model),
        Just(EventType::Tool),
        Just(EventType::Chain),
        Just(EventType::Session),
    ]
}

fn any_duration() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        Just(None),
        any::<f64>().prop_map(Some),
        Just(Some(f64::NAN)),
        Just(Some(f64::INFINITY)),
        Just(Some(f64::NEG_INFINITY)),
    ]
}

prop_compose! {
    fn any_event()(
        event_type in event_type(),
        inputs in json_object(),
        name in proptest::option::of(".*"),
        error in proptest::option::of(".*"),
        start in proptest::option::of(any::<i64>()),
        duration in any_duration(),
        metadata in proptest::option::of(json_object()),
        metrics in proptest::option::of(json_object()),
    ) -> Event {
        let mut event = Event::new(event_type);
        event.inputs = inputs;
        event.event_id = Some(Uuid::new_v4());
        event.event_name = name;
        event.error = error;
        event.start_time = start;
        event.duration = duration;
        event.metadata = metadata;
        event.metrics = metrics;
        event
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Whatever values a caller puts in (any strings, nested JSON, NaN or infinite floats), the
    /// serialised body is valid JSON of the documented shape.
    #[test]
    fn any_event_batch_serialises_to_a_valid_body(events in prop::collection::vec(any_event(), 0..5)) {
        let text = serde_json::to_string(&json!({"events": events})).unwrap();
        let reparsed: Value = serde_json::from_str(&text).unwrap();
        let validator = schema("session-event-batch.json");
        prop_assert!(validator.is_valid(&reparsed), "{}", text);
    }

    #[test]
    fn any_session_and_update_serialise_to_valid_bodies(
        metadata in json_object(),
        duration in any_duration(),
        name in ".*",
    ) {
        let mut session = CreateSession::default();
        session.session_name = Some(name);
        session.metadata = Some(metadata.clone());
        session.duration = duration;
        let text = serde_json::to_string(&session).unwrap();
        prop_assert!(schema("create-session.json").is_valid(&serde_json::from_str(&text).unwrap()), "{}", text);

        let mut update = UpdateEvent::default();
        update.metadata = Some(metadata);
        update.duration = duration;
        let text = serde_json::to_string(&update).unwrap();
        prop_assert!(schema("update-event.json").is_valid(&serde_json::from_str(&text).unwrap()), "{}", text);
    }
}
