//! Routing and bearer auth (§1, §10 steps 1–2).

use reqwest::Method;
use serde_json::json;

use tracing_honeyhive::emulator::{Emulator, KeyRefusal};

use crate::{Api, KEY, Reply};

/// Every route, with a method it answers and a body that is valid for it once routed.
fn routes(session_id: &str) -> Vec<(Method, String, serde_json::Value)> {
    vec![
        (Method::POST, "/v1/sessions".into(), json!({})),
        (
            Method::POST,
            format!("/v1/sessions/{session_id}/events/batch"),
            json!({"events": []}),
        ),
        (Method::GET, format!("/v1/sessions/{session_id}"), json!({})),
        (Method::PUT, format!("/v1/events/{session_id}"), json!({})),
        (
            Method::POST,
            "/v1/events/batch".into(),
            json!({"events": []}),
        ),
        (
            Method::POST,
            "/session/start".into(),
            json!({"session": {}}),
        ),
        (
            Method::PUT,
            "/events".into(),
            json!({"event_id": session_id}),
        ),
        (Method::POST, "/events/batch".into(), json!({"events": []})),
    ]
}

#[tokio::test]
async fn missing_authorization_header_is_401_on_every_route() {
    let api = Api::new();
    let session_id = api.new_session().await;
    for (method, path, body) in routes(&session_id) {
        let request = api
            .http
            .request(method.clone(), api.url(&path))
            .body(body.to_string());
        let reply = Reply::of(request).await;
        let message = reply.refused(401);
        assert_eq!(message, "Missing Authorization header", "{method} {path}");
    }
}

#[tokio::test]
async fn a_refused_key_is_answered_404_as_honeyhive_answers_it_today_when_asked() {
    let api = Api::with(
        Emulator::builder()
            .with_api_key(KEY)
            .with_key_refusal(KeyRefusal::NotFound),
    );
    let session_id = api.new_session().await;
    for (method, path, body) in routes(&session_id) {
        for authorization in [None, Some("Bearer not-the-key")] {
            let mut request = api
                .http
                .request(method.clone(), api.url(&path))
                .body(body.to_string());
            if let Some(authorization) = authorization {
                request = request.header("authorization", authorization);
            }
            let reply = Reply::of(request).await;
            // The documented error body, which says nothing of the key.
            assert_eq!(reply.refused(404), "Not found", "{method} {path}");
        }
    }
    assert_eq!(
        api.server.sessions().len(),
        1,
        "only the one made with the key"
    );
}

#[tokio::test]
async fn wrong_api_key_is_401() {
    let api = Api::new();
    for authorization in [
        "Bearer not-the-key".to_owned(),
        format!("Bearer {KEY}x"),
        format!("bearer {KEY}"),
        format!("Basic {KEY}"),
        KEY.to_owned(),
        "Bearer ".to_owned(),
    ] {
        let request = api
            .http
            .post(api.url("/v1/sessions"))
            .header("authorization", &authorization)
            .body("{}");
        let reply = Reply::of(request).await;
        assert_eq!(reply.refused(401), "Invalid API key", "{authorization}");
    }
    assert!(api.server.sessions().is_empty(), "nothing stored");
}

#[tokio::test]
async fn right_api_key_is_accepted_on_every_route() {
    let api = Api::new();
    let session_id = api.new_session().await;
    for (method, path, body) in routes(&session_id) {
        let reply = api.send_raw(method.clone(), &path, body.to_string()).await;
        assert_eq!(reply.status, 200, "{method} {path}: {}", reply.text);
    }
}

#[tokio::test]
async fn without_a_configured_key_requests_are_accepted_with_or_without_a_header() {
    let api = Api::open();
    let session_id = api.new_session().await;
    for (method, path, body) in routes(&session_id) {
        let reply = api.send_raw(method.clone(), &path, body.to_string()).await;
        assert_eq!(reply.status, 200, "{method} {path}: {}", reply.text);
    }
    let request = api
        .request(Method::POST, "/v1/sessions")
        .bearer_auth("anything")
        .body("{}");
    assert_eq!(Reply::of(request).await.status, 200);
}

#[tokio::test]
async fn unknown_route_is_404_route_not_found() {
    let api = Api::new();
    for path in [
        "/",
        "/v1",
        "/v1/session",
        "/v1/sessions/",
        "/v1/events",
        "/v2/sessions",
        "/v1/sessions/a/b/c",
    ] {
        let reply = api.post(path, json!({})).await;
        assert_eq!(reply.refused(404), "Route not found", "{path}");
    }
    // The route is matched before the key is checked.
    let request = api.http.get(api.url("/nowhere"));
    assert_eq!(Reply::of(request).await.refused(404), "Route not found");
}

#[tokio::test]
async fn wrong_method_is_405_with_error_body() {
    let api = Api::open();
    let id = uuid::Uuid::new_v4();
    for (method, path) in [
        (Method::GET, "/v1/sessions".to_owned()),
        (Method::PUT, "/v1/sessions".to_owned()),
        (Method::DELETE, format!("/v1/sessions/{id}")),
        (Method::GET, format!("/v1/sessions/{id}/events/batch")),
        (Method::POST, format!("/v1/events/{id}")),
        (Method::GET, "/v1/events/batch".to_owned()),
        (Method::GET, "/session/start".to_owned()),
        (Method::POST, "/events".to_owned()),
        (Method::PUT, "/events/batch".to_owned()),
    ] {
        let reply = api.send_raw(method.clone(), &path, "{}").await;
        let message = reply.refused(405);
        assert!(
            message.to_lowercase().contains("method"),
            "{method} {path}: {message}"
        );
    }
}
