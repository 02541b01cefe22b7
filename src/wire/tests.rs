use serde_json::json;

use super::*;

#[test]
fn absent_fields_are_omitted_not_null() {
    let event = Event::new(EventType::Tool);
    assert_eq!(
        serde_json::to_value(&event).unwrap(),
        json!({"event_type": "tool", "inputs": {}})
    );
    assert_eq!(
        serde_json::to_string(&CreateSession::default()).unwrap(),
        "{}"
    );
    assert_eq!(
        serde_json::to_string(&UpdateEvent::default()).unwrap(),
        "{}"
    );
}

#[test]
fn non_finite_durations_are_omitted() {
    for duration in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut event = Event::new(EventType::Chain);
        event.duration = Some(duration);
        let text = serde_json::to_string(&event).unwrap();
        assert!(!text.contains("duration"), "{text}");
        let update = UpdateEvent {
            duration: Some(duration),
            ..UpdateEvent::default()
        };
        assert_eq!(serde_json::to_string(&update).unwrap(), "{}");
    }
    let mut event = Event::new(EventType::Chain);
    event.duration = Some(12.5);
    assert_eq!(
        serde_json::to_value(&event).unwrap()["duration"],
        json!(12.5)
    );
}

#[test]
fn non_finite_floats_inside_objects_become_null() {
    let mut event = Event::new(EventType::Model);
    event.metrics = Some(JsonObject::from_iter([(
        "score".to_owned(),
        json!(f64::NAN),
    )]));
    let text = serde_json::to_string(&event).unwrap();
    assert!(text.contains(r#""score":null"#), "{text}");
}

#[test]
fn ids_are_lowercase_hyphenated_and_times_integers() {
    let id = Uuid::parse_str("A1B2C3D4-0000-4000-8000-00000000000F").unwrap();
    let mut event = Event::new(EventType::Model);
    event.event_id = Some(id);
    event.start_time = Some(1_712_025_501_605);
    let value = serde_json::to_value(&event).unwrap();
    assert_eq!(
        value["event_id"],
        json!("a1b2c3d4-0000-4000-8000-00000000000f")
    );
    assert!(value["start_time"].is_i64());
}

#[test]
fn event_types_use_their_wire_names() {
    for (ty, name) in [
        (EventType::Model, "model"),
        (EventType::Tool, "tool"),
        (EventType::Chain, "chain"),
        (EventType::Session, "session"),
    ] {
        assert_eq!(serde_json::to_value(ty).unwrap(), json!(name));
        assert_eq!(ty.to_string(), name);
    }
    assert!(serde_json::from_value::<EventType>(json!("llm")).is_err());
}

#[test]
fn requests_refuse_unknown_fields_when_read() {
    let err = serde_json::from_value::<Event>(
        json!({"event_type": "chain", "inputs": {}, "project": "p"}),
    )
    .unwrap_err();
    assert!(err.to_string().contains("unknown field `project`"), "{err}");
    let err = serde_json::from_value::<CreateSession>(json!({"metrics": {}})).unwrap_err();
    assert!(err.to_string().contains("unknown field `metrics`"), "{err}");
}

#[test]
fn legacy_session_flattens_the_session_fields_beside_project() {
    let session = CreateSession {
        session_name: Some("s".into()),
        ..CreateSession::default()
    };
    let mut legacy = LegacySession::from(session);
    legacy.project = Some("proj".into());
    let body = LegacySessionStart { session: legacy };
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({"session": {"project": "proj", "session_name": "s"}})
    );
}

#[test]
fn records_keep_unknown_keys_and_accept_nulls() {
    let record: EventRecord = serde_json::from_value(json!({
        "session_id": "s", "event_id": "s", "parent_id": null, "duration": null,
        "start_time": 1.5e12, "created_at": "2026-01-01"
    }))
    .unwrap();
    assert_eq!(record.parent_id, None);
    assert_eq!(record.start_time, Some(1.5e12));
    assert_eq!(record.extra["created_at"], json!("2026-01-01"));
}

#[test]
fn error_bodies_accept_float_status_codes() {
    let body: ErrorBody =
        serde_json::from_value(json!({"statusCode": 404.0, "message": "m", "success": false}))
            .unwrap();
    assert_eq!(body.status_code, 404);
    assert!(
        serde_json::from_value::<ErrorBody>(json!({"statusCode": 4.5, "message": "m"})).is_err()
    );
    assert_eq!(
        serde_json::to_value(ErrorBody::new(401, "no")).unwrap(),
        json!({"statusCode": 401, "message": "no", "success": false})
    );
}
