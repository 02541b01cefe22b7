//! Injected misbehaviour: statuses with `Retry-After`, unexpected bodies, dropped connections,
//! bodies cut short, latency, and the body limit.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use serde_json::json;
use tracing_honeyhive::emulator::{Emulator, Fault};

use crate::{Api, assert_names, event};

#[tokio::test]
async fn status_fault_answers_with_retry_after_and_stores_nothing_then_expires() {
    let api = Api::new();
    api.server
        .inject(Fault::status(429).with_retry_after("3").times(2));
    for _ in 0..2 {
        let reply = api.post("/v1/sessions", json!({"session_name": "s"})).await;
        reply.refused(429);
        let retry_after = reply.headers.get(RETRY_AFTER).map(|v| v.to_str().unwrap());
        assert_eq!(retry_after, Some("3"));
    }
    assert!(api.server.sessions().is_empty(), "a fault stores nothing");
    let reply = api.post("/v1/sessions", json!({"session_name": "s"})).await;
    reply.ok("create-session-response.json");
    assert!(reply.headers.get(RETRY_AFTER).is_none());
    assert_eq!(api.server.sessions().len(), 1);
    let statuses: Vec<_> = api.server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(429), Some(429), Some(200)]);
}

#[tokio::test]
async fn status_fault_applies_before_routing_and_auth() {
    let api = Api::new();
    api.server.inject(Fault::status(503).times(2));
    api.get("/nowhere").await.refused(503);
    let request = api.http.post(api.url("/v1/sessions")).body("{}");
    crate::Reply::of(request).await.refused(503);
}

#[tokio::test]
async fn fault_on_path_applies_only_to_that_path() {
    let api = Api::new();
    let session_id = api.new_session().await;
    api.server
        .inject(Fault::status(500).on_path("/v1/sessions/").times(1));
    let created = api.create_session(json!({})).await;
    assert!(
        created["session_id"].is_string(),
        "/v1/sessions is not under the prefix"
    );
    api.batch(&session_id, json!([event("chain")]))
        .await
        .refused(500);
    assert!(api.server.events().is_empty());
    api.batch(&session_id, json!([event("chain")]))
        .await
        .ok("session-event-batch-response.json");
    assert_eq!(api.server.events_of(&session_id).len(), 1);
}

#[tokio::test]
async fn fault_with_a_body_answers_that_body() {
    let api = Api::new();
    let html = "<html><body>502 Bad Gateway</body></html>";
    api.server
        .inject(Fault::status(502).with_body("text/html", html));
    let reply = api.post("/v1/sessions", json!({})).await;
    assert_eq!(reply.status, 502);
    assert_eq!(reply.text, html);
    assert_eq!(reply.headers[CONTENT_TYPE], "text/html");
    assert!(api.server.sessions().is_empty());
}

#[tokio::test]
async fn an_unexpected_200_body_is_answered_as_given_and_stores_nothing() {
    let api = Api::new();
    api.server
        .inject(Fault::status(200).with_body("text/plain", "not json"));
    let reply = api.post("/v1/sessions", json!({"session_name": "s"})).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text, "not json");
    assert_eq!(reply.headers[CONTENT_TYPE], "text/plain");
    assert_eq!(reply.headers[CONTENT_LENGTH], "8");
    assert!(api.server.sessions().is_empty(), "a fault stores nothing");
    assert_eq!(api.server.requests()[0].status, Some(200));
}

#[tokio::test]
async fn truncated_body_reaches_the_client_as_an_error_reading_the_body() {
    let api = Api::new();
    let body = r#"{"event_ids": ["a", "#;
    api.server.inject(Fault::truncated_body(200, body));
    let response = api
        .request(Method::POST, "/v1/sessions")
        .body("{}")
        .send()
        .await
        .expect("the status and headers arrive");
    assert_eq!(response.status(), 200);
    let declared = response.headers()[CONTENT_LENGTH].to_str().unwrap();
    assert_eq!(declared, (body.len() + 1).to_string());
    let error = response.text().await.expect_err("the body is cut short");
    assert!(error.is_body() || error.is_decode(), "{error:?}");
    assert_eq!(api.server.requests()[0].status, Some(200));
    assert!(api.server.sessions().is_empty(), "a fault stores nothing");
    // Only that connection was closed: the next request is served.
    api.create_session(json!({})).await;
}

/// Sends `POST /v1/sessions` on a new connection to `server` and reads until the server closes
/// it: the head and the body bytes that arrived.
fn raw_post(server: &Emulator) -> (String, Vec<u8>) {
    let mut stream = TcpStream::connect(server.addr()).expect("the server accepts");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a read timeout");
    let request = "POST /v1/sessions HTTP/1.1\r\nHost: local\r\nContent-Length: 2\r\n\r\n{}";
    stream
        .write_all(request.as_bytes())
        .expect("the request is sent");
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .expect("the server closes the connection (a timeout means it kept it open)");
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = String::from_utf8_lossy(&answer[..end]).into_owned();
    (head, answer[end + 4..].to_vec())
}

#[test]
fn truncated_body_writes_less_than_its_content_length_then_closes_the_connection() {
    let server = Emulator::builder()
        .start()
        .expect("the local server starts");
    for (status, body) in [(502, "<html>Bad Gat"), (200, "")] {
        server.inject(Fault::truncated_body(status, body));
        let (head, received) = raw_post(&server);
        assert!(head.starts_with(&format!("HTTP/1.1 {status} ")), "{head}");
        let declared = format!("content-length: {}", body.len() + 1);
        assert!(head.to_lowercase().contains(&declared), "{head}");
        assert_eq!(received, body.as_bytes(), "exactly the given bytes");
    }
    let statuses: Vec<_> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(502), Some(200)]);
    assert!(server.sessions().is_empty());
}

#[tokio::test]
async fn dropped_connection_is_a_transport_error_recorded_without_status() {
    let api = Api::new();
    api.server.inject(Fault::drop_connection());
    let error = api
        .request(Method::POST, "/v1/sessions")
        .body("{\"session_name\": \"lost\"}")
        .send()
        .await
        .expect_err("the connection is dropped");
    assert!(error.status().is_none(), "no status: {error}");
    let requests = api.server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].status, None);
    assert_eq!(requests[0].body, "{\"session_name\": \"lost\"}");
    assert!(api.server.sessions().is_empty());
    // The next request is served.
    api.create_session(json!({})).await;
}

#[tokio::test]
async fn latency_delays_every_answer() {
    let api = Api::new();
    let latency = Duration::from_millis(300);
    api.server.set_latency(latency);
    for path in ["/v1/sessions", "/nowhere"] {
        let started = Instant::now();
        let reply = api.post(path, json!({})).await;
        assert!(reply.status == 200 || reply.status == 404);
        assert!(
            started.elapsed() >= latency,
            "{path}: {:?}",
            started.elapsed()
        );
    }
    api.server.clear_faults();
    api.create_session(json!({})).await;
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let api = Api::with(
        Emulator::builder()
            .with_api_key(crate::KEY)
            .with_body_limit(1024),
    );
    let big = json!({"inputs": {"text": "x".repeat(2048)}});
    let message = api.post("/v1/sessions", big).await.refused(413);
    assert_names(&message, &["1024"]);
    assert!(api.server.sessions().is_empty());
    assert_eq!(api.server.requests()[0].status, Some(413));
    let small = json!({"inputs": {"text": "x".repeat(512)}});
    api.create_session(small).await;
}

#[tokio::test]
async fn body_under_the_default_limit_is_accepted_even_when_large() {
    let api = Api::new();
    let session_id = api.new_session().await;
    // 3 MiB: above common framework defaults, below the documented 32 MiB default limit.
    let text = "x".repeat(3 * 1024 * 1024);
    let events = json!([{"event_type": "model", "inputs": {"prompt": text}}]);
    api.batch(&session_id, events)
        .await
        .ok("session-event-batch-response.json");
    assert_eq!(api.server.events_of(&session_id).len(), 1);
    let reply = api
        .send_raw(Method::POST, "/v1/sessions", format!("[\"{text}\"]"))
        .await;
    reply.refused(400);
}
