//! `PUT /v1/events/{event_id}` and the deprecated `PUT /events` (§5).

use serde_json::{Value, json};
use tracing_honeyhive::wire::EventRecord;
use uuid::Uuid;

use crate::{Api, assert_names};

/// A session holding one model event with every updatable field set; (session id, event id).
async fn session_with_event(api: &Api) -> (String, String) {
    let session_id = api.new_session().await;
    let event_id = Uuid::new_v4().to_string();
    let child = Uuid::new_v4().to_string();
    let event = json!({
        "event_type": "model",
        "event_id": event_id,
        "event_name": "llm",
        "inputs": {"prompt": "hi"},
        "outputs": {"text": "draft", "tokens": 3},
        "metadata": {"a": 1, "nested": {"x": 1}},
        "feedback": {"rating": 1},
        "metrics": {"latency": 5},
        "config": {"model": "m", "temperature": 0.1},
        "user_properties": {"user": "u"},
        "children_ids": [child],
        "start_time": 100,
        "end_time": 200,
        "duration": 100,
    });
    api.batch(&session_id, json!([event]))
        .await
        .ok("session-event-batch-response.json");
    (session_id, event_id)
}

/// `PUT /v1/events/{event_id}` that must succeed; the stored event afterwards.
async fn update(api: &Api, event_id: &str, body: Value) -> EventRecord {
    let reply = api.put(&format!("/v1/events/{event_id}"), body).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json(), json!({"success": true}));
    stored(api, event_id)
}

fn stored(api: &Api, event_id: &str) -> EventRecord {
    let all = api.server.events().into_iter().chain(api.server.sessions());
    all.into_iter()
        .find(|e| e.event_id.as_deref() == Some(event_id))
        .expect("the event is stored")
}

#[tokio::test]
async fn update_merges_metadata_feedback_metrics_config_and_user_properties() {
    let api = Api::new();
    let (_, event_id) = session_with_event(&api).await;
    let event = update(
        &api,
        &event_id,
        json!({
            "metadata": {"b": 2, "nested": {"y": 2}},
            "feedback": {"comment": "good"},
            "metrics": {"latency": 7, "cost": 0.5},
            "config": {"temperature": 0.7},
            "user_properties": {"plan": "pro"},
        }),
    )
    .await;
    assert_eq!(
        event.metadata,
        Some(json!({"a": 1, "b": 2, "nested": {"y": 2}}))
    );
    assert_eq!(
        event.feedback,
        Some(json!({"rating": 1, "comment": "good"}))
    );
    assert_eq!(event.metrics, Some(json!({"latency": 7, "cost": 0.5})));
    assert_eq!(
        event.config,
        Some(json!({"model": "m", "temperature": 0.7}))
    );
    assert_eq!(
        event.user_properties,
        Some(json!({"user": "u", "plan": "pro"}))
    );
}

#[tokio::test]
async fn update_replaces_outputs() {
    let api = Api::new();
    let (_, event_id) = session_with_event(&api).await;
    let event = update(&api, &event_id, json!({"outputs": {"text": "final"}})).await;
    assert_eq!(event.outputs, Some(json!({"text": "final"})), "not merged");
}

#[tokio::test]
async fn update_with_null_outputs_keeps_them() {
    let api = Api::new();
    let (_, event_id) = session_with_event(&api).await;
    let event = update(&api, &event_id, json!({"outputs": null})).await;
    assert_eq!(event.outputs, Some(json!({"text": "draft", "tokens": 3})));
}

#[tokio::test]
async fn update_with_non_object_outputs_is_400() {
    let api = Api::new();
    let (_, event_id) = session_with_event(&api).await;
    for outputs in [json!("text"), json!(["a"]), json!(1), json!(true)] {
        let reply = api
            .put(
                &format!("/v1/events/{event_id}"),
                json!({ "outputs": outputs }),
            )
            .await;
        assert_names(&reply.refused(400), &["outputs"]);
    }
    let event = stored(&api, &event_id);
    assert_eq!(event.outputs, Some(json!({"text": "draft", "tokens": 3})));
}

#[tokio::test]
async fn update_sets_duration_and_end_time() {
    let api = Api::new();
    let (_, event_id) = session_with_event(&api).await;
    let event = update(
        &api,
        &event_id,
        json!({"duration": 950.5, "end_time": 1050}),
    )
    .await;
    assert_eq!(event.duration, Some(950.5));
    assert_eq!(event.end_time, Some(1050.0));
    assert_eq!(event.start_time, Some(100.0), "start_time is not touched");
}

#[tokio::test]
async fn update_ignores_empty_children_ids_and_sets_non_empty_ones() {
    let api = Api::new();
    let (_, event_id) = session_with_event(&api).await;
    let before = stored(&api, &event_id).children_ids;
    let event = update(&api, &event_id, json!({"children_ids": []})).await;
    assert_eq!(event.children_ids, before);
    let new = vec![Uuid::new_v4().to_string(), Uuid::new_v4().to_string()];
    let event = update(&api, &event_id, json!({ "children_ids": new })).await;
    assert_eq!(event.children_ids, Some(new), "set, not appended");
}

#[tokio::test]
async fn update_accepts_and_ignores_unknown_keys() {
    let api = Api::new();
    let (_, event_id) = session_with_event(&api).await;
    let before = stored(&api, &event_id);
    let event = update(
        &api,
        &event_id,
        json!({
            "inputs": {"prompt": "changed"},
            "event_name": "renamed",
            "start_time": 1,
            "error": "boom",
            "event_type": "tool",
            "project": "p",
            "anything": [1, 2],
        }),
    )
    .await;
    assert_eq!(event, before);
}

#[tokio::test]
async fn update_of_unknown_event_is_404() {
    let api = Api::new();
    session_with_event(&api).await;
    for id in [Uuid::new_v4().to_string(), "not-an-id".to_owned()] {
        let reply = api
            .put(&format!("/v1/events/{id}"), json!({"metadata": {"a": 1}}))
            .await;
        assert_eq!(reply.refused(404), "Event not found");
    }
}

#[tokio::test]
async fn update_of_a_session_through_its_session_id() {
    let api = Api::new();
    let (session_id, _) = session_with_event(&api).await;
    let path = format!("/v1/events/{}", session_id.to_uppercase());
    let reply = api
        .put(&path, json!({"metadata": {"via": "upper-case id"}}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let session = update(
        &api,
        &session_id,
        json!({
            "outputs": {"answer": "42"},
            "end_time": 5000,
            "duration": 4000,
            "metrics": {"score": 1},
            "feedback": {"ok": true},
            "metadata": {"done": true},
        }),
    )
    .await;
    assert_eq!(session.event_type.as_deref(), Some("session"));
    assert_eq!(session.outputs, Some(json!({"answer": "42"})));
    assert_eq!(session.end_time, Some(5000.0));
    assert_eq!(session.duration, Some(4000.0));
    assert_eq!(session.metrics, Some(json!({"score": 1})));
    assert_eq!(session.feedback, Some(json!({"ok": true})));
    assert_eq!(
        session.metadata,
        Some(json!({"via": "upper-case id", "done": true}))
    );
    assert_eq!(api.server.session(&session_id), Some(session));
}

#[tokio::test]
async fn legacy_update_takes_event_id_from_the_body() {
    let api = Api::new();
    let (_, event_id) = session_with_event(&api).await;
    let reply = api
        .put(
            "/events",
            json!({"event_id": event_id, "metadata": {"b": 2}, "outputs": {"text": "final"}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let event = stored(&api, &event_id);
    assert_eq!(
        event.metadata,
        Some(json!({"a": 1, "b": 2, "nested": {"x": 1}}))
    );
    assert_eq!(event.outputs, Some(json!({"text": "final"})));
}

#[tokio::test]
async fn legacy_update_without_event_id_is_400() {
    let api = Api::new();
    let (_, event_id) = session_with_event(&api).await;
    let before = stored(&api, &event_id);
    for body in [
        json!({"metadata": {"b": 2}}),
        json!({"event_id": null, "metadata": {"b": 2}}),
        json!({"event_id": 7, "metadata": {"b": 2}}),
    ] {
        let reply = api.put("/events", body).await;
        assert_names(&reply.refused(400), &["event_id"]);
    }
    assert_eq!(stored(&api, &event_id), before);
}
