//! `honeyhive sessions create-event-batch`: the events reach the session's batch route as given,
//! and stdout is `{"success": true}`.

use serde_json::json;

use crate::{assert_valid, new_session, run, server};

#[test]
fn events_reach_the_session_batch_route_and_success_is_printed() {
    let server = server();
    let session_id = new_session(&server);
    let events = json!([
        {
            "event_type": "model",
            "event_name": "reply",
            "event_id": "3b3a4f47-5d49-4a71-9f39-3c1f0c1a2b77",
            "inputs": {"chat_history": [{"role": "user", "content": "Hi"}]},
            "outputs": {"content": "Hello!"},
            "config": {"model": "gpt-4o"},
            "error": null,
            "start_time": 1_712_025_501_700_i64,
            "duration": 812,
            "metrics": {"ok": true}
        },
        {"event_type": "tool", "inputs": {}}
    ]);
    let printed = run(
        &server,
        &[
            "sessions",
            "create-event-batch",
            "--session-id",
            &session_id,
            "--events",
            &events.to_string(),
        ],
    )
    .json();
    assert_eq!(printed, json!({"success": true}));

    let request = server.requests().pop().expect("the batch request");
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.path,
        format!("/v1/sessions/{session_id}/events/batch")
    );
    let body = request.json().expect("a JSON body");
    assert_valid("session-event-batch.json", &body);
    let sent = &body["events"];
    assert_eq!(sent.as_array().map(Vec::len), Some(2));
    assert_eq!(sent[0]["event_type"], "model");
    assert_eq!(sent[0]["inputs"], events[0]["inputs"]);
    assert_eq!(sent[0]["start_time"], json!(1_712_025_501_700_i64));
    assert_eq!(sent[0]["duration"].as_f64(), Some(812.0));
    assert_eq!(
        sent[0].get("error"),
        None,
        "null means absent and is omitted"
    );
    assert_eq!(sent[1], json!({"event_type": "tool", "inputs": {}}));

    let stored = server.events_of(&session_id);
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].event_name.as_deref(), Some("reply"));
}

#[test]
fn an_empty_batch_is_accepted() {
    let server = server();
    let session_id = new_session(&server);
    let printed = run(
        &server,
        &[
            "sessions",
            "create-event-batch",
            "--session-id",
            &session_id,
            "--events",
            "[]",
        ],
    )
    .json();
    assert_eq!(printed, json!({"success": true}));
    assert!(server.events_of(&session_id).is_empty());
}
