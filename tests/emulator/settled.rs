//! `Emulator::settled_sessions`: how `honeyhive serve` learns that a session is complete.

use std::time::Duration;

use serde_json::json;
use uuid::Uuid;

use crate::{Api, event};

fn settled(api: &Api, quiet: Duration) -> Vec<String> {
    let settled = api.server.settled_sessions(quiet);
    settled.into_iter().map(|s| s.session_id).collect()
}

#[tokio::test]
async fn a_session_created_with_an_end_time_settles_once_quiet() {
    let api = Api::new();
    let id = Uuid::new_v4().to_string();
    api.create_session(json!({"session_id": id, "start_time": 1000, "end_time": 2000}))
        .await;
    api.batch(&id, json!([event("model")]))
        .await
        .ok("session-event-batch-response.json");
    assert_eq!(settled(&api, Duration::ZERO), vec![id.clone()]);
    assert!(
        settled(&api, Duration::from_secs(3600)).is_empty(),
        "not before the quiet period has passed"
    );
}

#[tokio::test]
async fn an_open_session_does_not_settle_until_an_update_ends_it() {
    let api = Api::new();
    let open = api.new_session().await;
    api.batch(&open, json!([event("chain")]))
        .await
        .ok("session-event-batch-response.json");
    assert!(settled(&api, Duration::ZERO).is_empty());

    let reply = api
        .put(&format!("/v1/events/{open}"), json!({"end_time": 5000}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(settled(&api, Duration::ZERO), [open]);
}

#[tokio::test]
async fn a_request_after_settling_moves_the_last_request_time() {
    let api = Api::new();
    let id = Uuid::new_v4().to_string();
    api.create_session(json!({"session_id": id, "duration": 10}))
        .await;
    let first = api.server.settled_sessions(Duration::ZERO)[0].last_request;
    api.batch(&id, json!([event("tool")]))
        .await
        .ok("session-event-batch-response.json");
    let settled = api.server.settled_sessions(Duration::ZERO);
    assert_eq!(settled.len(), 1);
    assert!(settled[0].last_request > first);

    let refused = api.batch(&Uuid::new_v4().to_string(), json!([])).await;
    assert_eq!(refused.status, 404);
    assert_eq!(api.server.settled_sessions(Duration::ZERO), settled);
}
