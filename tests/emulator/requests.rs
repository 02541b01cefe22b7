//! What the server records of each request, and the schemas of its answers.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use crate::{Api, KEY, Reply, event};

#[tokio::test]
async fn every_request_is_recorded_with_method_path_headers_body_and_status() {
    let api = Api::new();
    let session_id = Uuid::new_v4().to_string();
    let create = json!({"session_id": session_id}).to_string();
    api.send_raw(Method::POST, "/v1/sessions?trace=1", create.clone())
        .await
        .ok("create-session-response.json");
    api.put(&format!("/v1/events/{session_id}"), json!({"duration": 5}))
        .await;
    api.get(&format!("/v1/sessions/{session_id}")).await;

    let requests = api.server.requests();
    assert_eq!(requests.len(), 3);
    let first = &requests[0];
    assert_eq!(first.method, "POST");
    assert_eq!(first.path, "/v1/sessions?trace=1", "the query is kept");
    assert_eq!(
        first.header("Authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(first.header("content-type"), Some("application/json"));
    assert!(
        first
            .headers
            .iter()
            .all(|(name, _)| name == &name.to_lowercase())
    );
    assert_eq!(first.body, create);
    assert_eq!(first.json(), Some(json!({"session_id": session_id})));
    assert_eq!(first.status, Some(200));
    assert_eq!(requests[1].method, "PUT");
    assert_eq!(requests[1].path, format!("/v1/events/{session_id}"));
    assert_eq!(requests[1].json(), Some(json!({"duration": 5})));
    assert_eq!(requests[2].method, "GET");
    assert_eq!(requests[2].body, "");
    assert_eq!(requests[2].json(), None);
}

#[tokio::test]
async fn arrival_time_is_taken_before_latency_and_tells_when_each_request_was_sent() {
    let api = Api::new();
    let latency = Duration::from_millis(300);
    api.server.set_latency(latency);
    let before = Instant::now();
    api.create_session(json!({})).await;
    let answered = Instant::now();
    api.server.clear_faults();
    let pause = Duration::from_millis(200);
    tokio::time::sleep(pause).await;
    let second_sent = Instant::now();
    api.post("/nowhere", json!({})).await.refused(404);

    let requests = api.server.requests();
    let (first, second) = (requests[0].received_at, requests[1].received_at);
    assert!(first >= before, "taken when the request arrived");
    assert!(
        answered.duration_since(first) >= latency,
        "taken before the latency: {:?}",
        answered.duration_since(first)
    );
    assert!(second >= second_sent);
    assert!(second.duration_since(first) >= pause + latency);
}

#[tokio::test]
async fn refused_requests_are_recorded_too() {
    let api = Api::new();
    let unauthenticated = api.http.post(api.url("/v1/sessions")).body("{}");
    Reply::of(unauthenticated).await.refused(401);
    api.send_raw(Method::POST, "/v1/sessions", "not json")
        .await
        .refused(400);
    api.post("/nowhere", json!({})).await.refused(404);
    api.batch(&Uuid::new_v4().to_string(), json!([event("chain")]))
        .await
        .refused(404);

    let requests = api.server.requests();
    let statuses: Vec<_> = requests.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(401), Some(400), Some(404), Some(404)]);
    assert_eq!(requests[0].header("authorization"), None);
    assert_eq!(requests[1].body, "not json");
    assert_eq!(requests[2].path, "/nowhere");
}

#[tokio::test]
async fn every_success_response_validates_against_its_schema() {
    let api = Api::new();
    let created = api.create_session(json!({"session_name": "s"})).await;
    let session_id = created["session_id"].as_str().unwrap().to_owned();
    for key in [
        "event_id",
        "session_id",
        "org_id",
        "workspace_id",
        "project_id",
    ] {
        assert!(created[key].is_string(), "{key}: {created}");
    }
    api.post(
        "/session/start",
        json!({"session": {"session_name": "old"}}),
    )
    .await
    .ok("create-session-response.json");
    api.batch(&session_id, json!([event("model")]))
        .await
        .ok("session-event-batch-response.json");
    let batch = json!({"events": [event("tool")], "single_session": true});
    api.post("/v1/events/batch", batch)
        .await
        .ok("events-batch-response.json");
    api.post("/events/batch", json!({"events": [event("chain")]}))
        .await
        .ok("events-batch-response.json");
    api.get(&format!("/v1/sessions/{session_id}"))
        .await
        .ok("get-session-response.json");
    for reply in [
        api.put(&format!("/v1/events/{session_id}"), json!({"duration": 1}))
            .await,
        api.put("/events", json!({"event_id": session_id, "duration": 2}))
            .await,
    ] {
        assert_eq!(reply.status, 200);
        assert_eq!(reply.json(), json!({"success": true}));
    }
    for request in api.server.requests() {
        assert_eq!(
            request.status,
            Some(200),
            "{} {}",
            request.method,
            request.path
        );
    }
}
