//! `POST /v1/events/batch` and the deprecated `POST /events/batch` (§7).

use serde_json::{Value, json};
use uuid::Uuid;

use crate::{Api, assert_fresh_uuid_v4, event};

const EVENTS_OK: &str = "events-batch-response.json";

fn ids(body: &Value) -> Vec<String> {
    body["event_ids"]
        .as_array()
        .expect("event_ids is an array")
        .iter()
        .map(|id| id.as_str().expect("ids are strings").to_owned())
        .collect()
}

#[tokio::test]
async fn events_batch_returns_event_ids_in_order() {
    let api = Api::new();
    let session_id = api.new_session().await;
    let given = Uuid::new_v4().to_string();
    let events = json!([
        {"event_type": "chain", "inputs": {}, "session_id": session_id, "event_name": "first"},
        {"event_type": "model", "inputs": {}, "session_id": session_id, "event_id": given},
        {"event_type": "tool", "inputs": {}, "session_id": session_id, "event_name": "third"},
    ]);
    let body = api
        .post("/v1/events/batch", json!({ "events": events }))
        .await
        .ok(EVENTS_OK);
    assert_eq!(body["success"], json!(true));
    let returned = ids(&body);
    assert_eq!(returned.len(), 3);
    assert_eq!(returned[1], given);
    let stored: Vec<String> = api
        .server
        .events_of(&session_id)
        .into_iter()
        .filter_map(|e| e.event_id)
        .collect();
    assert_eq!(returned, stored);
    assert_fresh_uuid_v4(&returned[0]);
}

#[tokio::test]
async fn single_session_events_batch_creates_one_session_holding_every_event() {
    let api = Api::new();
    let body = json!({
        "events": [event("chain"), event("model"), event("tool")],
        "single_session": true,
        "session_properties": {
            "session_name": "bulk",
            "start_time": 1_700_000_000_000_u64,
            "metadata": {"run": 7},
            "user_properties": {"user": "u"},
        },
    });
    let body = api.post("/v1/events/batch", body).await.ok(EVENTS_OK);
    let session_id = body["session_id"].as_str().expect("a single session's id");
    assert_fresh_uuid_v4(session_id);
    assert_eq!(api.server.sessions().len(), 1);
    let session = api.server.session(session_id).unwrap();
    assert_eq!(session.event_name.as_deref(), Some("bulk"));
    assert_eq!(session.start_time, Some(1_700_000_000_000.0));
    assert_eq!(session.metadata, Some(json!({"run": 7})));
    assert_eq!(session.user_properties, Some(json!({"user": "u"})));
    let held: Vec<String> = api
        .server
        .events_of(session_id)
        .into_iter()
        .filter_map(|e| e.event_id)
        .collect();
    assert_eq!(held, ids(&body));
}

#[tokio::test]
async fn events_batch_events_naming_an_existing_session_go_there() {
    let api = Api::new();
    let first = api.new_session().await;
    let second = api.new_session().await;
    let events = json!([
        {"event_type": "chain", "inputs": {}, "session_id": first},
        {"event_type": "chain", "inputs": {}, "session_id": second},
        {"event_type": "tool", "inputs": {}, "session_id": first.to_uppercase()},
    ]);
    let body = api
        .post("/v1/events/batch", json!({ "events": events }))
        .await
        .ok(EVENTS_OK);
    assert!(
        body.get("session_id").is_none(),
        "no single session: {body}"
    );
    assert_eq!(api.server.sessions().len(), 2, "no session created");
    assert_eq!(api.server.events_of(&first).len(), 2);
    assert_eq!(api.server.events_of(&second).len(), 1);
    let parents: Vec<_> = api
        .server
        .events_of(&first)
        .into_iter()
        .map(|e| e.parent_id)
        .collect();
    assert_eq!(parents, [Some(first.clone()), Some(first)]);
}

#[tokio::test]
async fn legacy_events_batch_accepts_the_old_aliases_and_per_event_project() {
    let api = Api::new();
    let body = json!({
        "is_single_session": true,
        "session": {"session_name": "legacy bulk", "project": "p"},
        "events": [
            {"project": "p", "event_type": "model", "inputs": {}, "model": "m", "provider": "x"},
            {"project": "p", "event_type": "tool", "inputs": {}},
        ],
    });
    let body = api.post("/events/batch", body).await.ok(EVENTS_OK);
    let session_id = body["session_id"]
        .as_str()
        .expect("is_single_session is honoured");
    assert_eq!(api.server.sessions().len(), 1);
    let session = api.server.session(session_id).unwrap();
    assert_eq!(session.event_name.as_deref(), Some("legacy bulk"));
    assert_eq!(api.server.events_of(session_id).len(), 2);
    assert_eq!(ids(&body).len(), 2);
}
