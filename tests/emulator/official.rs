//! Bodies shaped like those HoneyHive's official clients send (our own values): each is
//! accepted.

use serde_json::json;
use uuid::Uuid;

use crate::{Api, now_ms};

#[tokio::test]
async fn python_sdk_start_session_request_is_accepted() {
    let api = Api::new();
    let session_id = Uuid::new_v4().to_string();
    let started = now_ms() + 0.25;
    let body = json!({
        "session_name": "support_bot.py",
        "source": "dev",
        "session_id": session_id,
        "inputs": {"customer_question": "Where is my parcel?"},
        "metadata": {"git_branch": "main", "attempt": 1},
        "user_properties": {"user_id": "cust-118", "tier": "gold"},
        "config": {"prompt_version": "v3"},
        "children_ids": [],
        "start_time": started,
        "duration": 0.0,
    });
    let created = api
        .post("/v1/sessions", body)
        .await
        .ok("create-session-response.json");
    assert_eq!(created["session_id"], json!(session_id));
    let stored = api.server.session(&session_id).unwrap();
    assert_eq!(stored.event_name.as_deref(), Some("support_bot.py"));
    assert_eq!(stored.start_time, Some(started));
}

#[tokio::test]
async fn tracer_legacy_session_start_is_accepted() {
    let api = Api::new();
    let body = json!({"session": {
        "project": "parcel-assistant",
        "session_name": "triage",
        "source": "staging",
        "inputs": {"ticket": "T-2291", "channel": "email"},
    }});
    let created = api
        .post("/session/start", body)
        .await
        .ok("create-session-response.json");
    let session_id = created["session_id"].as_str().unwrap();
    let stored = api.server.session(session_id).unwrap();
    assert_eq!(stored.event_name.as_deref(), Some("triage"));
    assert_eq!(stored.source.as_deref(), Some("staging"));
}

#[tokio::test]
async fn cli_create_event_batch_body_is_accepted() {
    let api = Api::new();
    let session_id = api.new_session().await;
    let retrieval = Uuid::new_v4().to_string();
    let body = json!({"events": [
        {
            "event_type": "tool",
            "event_id": retrieval,
            "event_name": "search_orders",
            "source": "cli",
            "inputs": {"query": "order 5521"},
            "outputs": {"hits": 2},
            "config": {"index": "orders-v2"},
            "metadata": {"shard": 3},
            "start_time": 1_712_000_000_000_u64,
            "end_time": 1_712_000_000_180_u64,
            "duration": 180,
            "error": null,
        },
        {
            "event_type": "model",
            "event_name": "draft_reply",
            "parent_id": retrieval,
            "inputs": {"chat_history": [{"role": "user", "content": "Where is order 5521?"}]},
            "outputs": {"role": "assistant", "content": "It ships tomorrow."},
            "config": {"provider": "acme-llm", "model": "acme-large", "temperature": 0.2},
            "metadata": {"total_tokens": 311},
            "metrics": {"helpfulness": 0.9},
            "feedback": {},
            "user_properties": {"user_id": "cust-118"},
            "children_ids": [],
        },
    ]});
    let path = format!("/v1/sessions/{session_id}/events/batch");
    api.post(&path, body)
        .await
        .ok("session-event-batch-response.json");
    let stored = api.server.events_of(&session_id);
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1].parent_id.as_deref(), Some(retrieval.as_str()));
}

#[tokio::test]
async fn legacy_enrich_session_update_is_accepted() {
    let api = Api::new();
    let session_id = api.new_session().await;
    let body = json!({
        "event_id": session_id,
        "metadata": {"resolved": true},
        "feedback": {"thumbs_up": true, "note": "quick answer"},
        "metrics": {"turns": 4},
        "outputs": {"final_reply": "It ships tomorrow."},
    });
    let reply = api.put("/events", body).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let stored = api.server.session(&session_id).unwrap();
    assert_eq!(
        stored.outputs,
        Some(json!({"final_reply": "It ships tomorrow."}))
    );
    assert_eq!(stored.metrics, Some(json!({"turns": 4})));
}
