//! `POST /v1/sessions/{session_id}/events/batch` (§2, §4).

use serde_json::json;
use uuid::Uuid;

use crate::{Api, assert_fresh_uuid_v4, assert_names, event};

const BATCH_OK: &str = "session-event-batch-response.json";

#[tokio::test]
async fn batch_event_defaults_name_source_id_and_parent() {
    let api = Api::new();
    let session_id = api.new_session().await;
    api.batch(&session_id, json!([event("model"), event("tool")]))
        .await
        .ok(BATCH_OK);
    let stored = api.server.events_of(&session_id);
    assert_eq!(stored.len(), 2);
    for event in &stored {
        assert_eq!(event.event_name.as_deref(), Some("unknown"));
        assert_eq!(event.source.as_deref(), Some("unknown"));
        assert_eq!(event.parent_id.as_deref(), Some(session_id.as_str()));
        assert_fresh_uuid_v4(event.event_id.as_deref().unwrap());
    }
    assert_ne!(stored[0].event_id, stored[1].event_id);
}

#[tokio::test]
async fn batch_event_fields_given_are_kept() {
    let api = Api::new();
    let session_id = api.new_session().await;
    let (event_id, parent_id) = (Uuid::new_v4().to_string(), Uuid::new_v4().to_string());
    let full = json!({
        "event_type": "model",
        "event_id": event_id,
        "parent_id": parent_id,
        "event_name": "llm call",
        "source": "prod",
        "inputs": {"prompt": "hi"},
        "outputs": {"text": "hello"},
        "start_time": 10, "end_time": 30, "duration": 20,
    });
    api.batch(&session_id, json!([full])).await.ok(BATCH_OK);
    let stored = &api.server.events_of(&session_id)[0];
    assert_eq!(stored.event_id.as_deref(), Some(event_id.as_str()));
    assert_eq!(stored.parent_id.as_deref(), Some(parent_id.as_str()));
    assert_eq!(stored.event_name.as_deref(), Some("llm call"));
    assert_eq!(stored.source.as_deref(), Some("prod"));
    assert_eq!(stored.outputs, Some(json!({"text": "hello"})));
    assert_eq!(stored.duration, Some(20.0));
}

#[tokio::test]
async fn batch_path_session_id_overrides_the_body() {
    let api = Api::new();
    let session_id = api.new_session().await;
    let other = api.new_session().await;
    let mut named = event("chain");
    named["session_id"] = json!(other);
    let mut garbage = event("chain");
    garbage["session_id"] = json!("not-a-uuid");
    api.batch(&session_id, json!([named, garbage]))
        .await
        .ok(BATCH_OK);
    assert_eq!(api.server.events_of(&session_id).len(), 2);
    assert!(api.server.events_of(&other).is_empty());
}

#[tokio::test]
async fn batch_events_are_stored_in_array_order() {
    let api = Api::new();
    let session_id = api.new_session().await;
    let names: Vec<String> = (0..20).map(|i| format!("step-{i}")).collect();
    let events: Vec<_> = names
        .iter()
        .map(|name| json!({"event_type": "tool", "inputs": {}, "event_name": name}))
        .collect();
    api.batch(&session_id, json!(events)).await.ok(BATCH_OK);
    let stored: Vec<String> = api
        .server
        .events_of(&session_id)
        .into_iter()
        .filter_map(|e| e.event_name)
        .collect();
    assert_eq!(stored, names);
}

#[tokio::test]
async fn batch_for_unknown_session_is_404() {
    let api = Api::new();
    let unknown = Uuid::new_v4().to_string();
    let reply = api.batch(&unknown, json!([event("chain")])).await;
    assert_eq!(reply.refused(404), "Session not found");
    assert_eq!(
        reply.json(),
        json!({"statusCode": 404, "message": "Session not found", "success": false})
    );
    assert!(api.server.events().is_empty());
    assert!(
        api.server.sessions().is_empty(),
        "no session is created implicitly"
    );
}

#[tokio::test]
async fn batch_with_non_uuid_path_session_id_is_400() {
    let api = Api::new();
    api.new_session().await;
    for id in ["not-a-uuid", "123", "local-session"] {
        let message = api.batch(id, json!([event("chain")])).await.refused(400);
        assert_names(&message, &[id, "UUID"]);
    }
    assert!(api.server.events().is_empty());
}

#[tokio::test]
async fn batch_path_session_id_in_upper_case_finds_the_session() {
    let api = Api::new();
    let session_id = api.new_session().await;
    api.batch(&session_id.to_uppercase(), json!([event("chain")]))
        .await
        .ok(BATCH_OK);
    let stored = api.server.events_of(&session_id);
    assert_eq!(stored[0].session_id.as_deref(), Some(session_id.as_str()));
}

#[tokio::test]
async fn empty_batch_is_accepted() {
    let api = Api::new();
    let session_id = api.new_session().await;
    let body = api.batch(&session_id, json!([])).await.ok(BATCH_OK);
    assert_eq!(body, json!({"success": true}));
    assert!(api.server.events().is_empty());
}

#[tokio::test]
async fn batch_with_one_bad_event_stores_nothing() {
    let api = Api::new();
    let session_id = api.new_session().await;
    let events = json!([event("chain"), event("tool"), {"event_type": "tool", "inputs": []}]);
    let message = api.batch(&session_id, events).await.refused(400);
    assert_names(&message, &["events[2].inputs"]);
    assert!(api.server.events().is_empty());
    assert_eq!(api.server.repeated_events(), 0);
}

#[tokio::test]
async fn repeated_event_ids_are_counted_not_duplicated() {
    let api = Api::new();
    let session_id = api.new_session().await;
    let event_id = Uuid::new_v4().to_string();
    let first =
        json!({"event_type": "tool", "inputs": {}, "event_id": event_id, "event_name": "a"});
    let again =
        json!({"event_type": "tool", "inputs": {}, "event_id": event_id, "event_name": "b"});
    api.batch(&session_id, json!([first])).await.ok(BATCH_OK);
    api.batch(&session_id, json!([again.clone(), event("chain")]))
        .await
        .ok(BATCH_OK);
    api.batch(&session_id, json!([again])).await.ok(BATCH_OK);
    let stored = api.server.events_of(&session_id);
    assert_eq!(stored.len(), 2, "one per event id");
    assert_eq!(api.server.repeated_events(), 2);
    let kept = stored
        .iter()
        .find(|e| e.event_id.as_deref() == Some(&event_id));
    assert_eq!(
        kept.unwrap().event_name.as_deref(),
        Some("b"),
        "the latest wins"
    );
}
