//! The typed client against the local server over loopback HTTP: each call, the headers it
//! sends, and every kind of failure a caller must be able to act on.
#![cfg(feature = "emulator")]

#[path = "../common/mod.rs"]
mod common;
mod contract;

use std::time::Duration;

use serde_json::json;
use tracing_honeyhive::Error;
use tracing_honeyhive::client::{Client, USER_AGENT};
use tracing_honeyhive::emulator::{Emulator, Fault};
use tracing_honeyhive::wire::{
    CreateSession, Event, EventBatch, EventType, LegacySession, SessionProperties, UpdateEvent,
};
use uuid::Uuid;

const KEY: &str = "hh_client_tests_0123456789abcdef";

fn server() -> Emulator {
    Emulator::builder().with_api_key(KEY).start().unwrap()
}

fn client(server: &Emulator) -> Client {
    Client::builder()
        .with_api_key(KEY)
        .with_api_url(server.url())
        .build()
        .unwrap()
}

fn named_session(name: &str) -> CreateSession {
    let mut session = CreateSession::default();
    session.session_name = Some(name.into());
    session
}

#[tokio::test]
async fn create_session_returns_the_id_the_server_settled_on() {
    let server = server();
    let client = client(&server);
    let created = client.create_session(&named_session("chat")).await.unwrap();
    let stored = server.session(&created.session_id.to_string()).unwrap();
    assert_eq!(stored.event_name.as_deref(), Some("chat"));
    assert_eq!(created.record.event_type.as_deref(), Some("session"));

    let mut with_id = named_session("chosen");
    let chosen = Uuid::new_v4();
    with_id.session_id = Some(chosen);
    assert_eq!(
        client.create_session(&with_id).await.unwrap().session_id,
        chosen
    );
}

#[tokio::test]
async fn batch_update_legacy_and_cross_session_calls_reach_the_server() {
    let server = server();
    let client = client(&server);
    let session_id = client
        .create_session(&named_session("s"))
        .await
        .unwrap()
        .session_id;

    let mut model = Event::new(EventType::Model);
    model.event_id = Some(Uuid::new_v4());
    model.inputs.insert("prompt".into(), json!("hi"));
    let tool = Event::new(EventType::Tool);
    client
        .create_session_event_batch(session_id, &[model.clone(), tool])
        .await
        .unwrap();
    assert_eq!(server.events_of(&session_id.to_string()).len(), 2);

    let mut update = UpdateEvent::default();
    update.outputs = Some(json!({"answer": "done"}).as_object().unwrap().clone());
    update.duration = Some(42.0);
    client.update_event(session_id, &update).await.unwrap();
    let session = server.session(&session_id.to_string()).unwrap();
    assert_eq!(session.outputs, Some(json!({"answer": "done"})));
    assert_eq!(session.duration, Some(42.0));

    let mut legacy = LegacySession::from(named_session("old route"));
    legacy.project = Some("ignored".into());
    let old = client.start_session_legacy(&legacy).await.unwrap();
    assert!(server.session(&old.session_id.to_string()).is_some());

    let mut batch = EventBatch::new(vec![Event::new(EventType::Chain)]);
    batch.single_session = Some(true);
    let mut properties = SessionProperties::default();
    properties.session_name = Some("bulk".into());
    batch.session_properties = Some(properties);
    let answer = client.create_event_batch(&batch).await.unwrap();
    assert!(answer.success);
    assert_eq!(answer.event_ids.len(), 1);
    let bulk = answer.session_id.unwrap();
    assert_eq!(
        server.session(&bulk).unwrap().event_name.as_deref(),
        Some("bulk")
    );
}

#[tokio::test]
async fn requests_carry_auth_user_agent_and_client_headers() {
    let server = server();
    client(&server)
        .create_session(&CreateSession::default())
        .await
        .unwrap();
    let request = &server.requests()[0];
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(request.header("user-agent"), Some(USER_AGENT));
    assert!(USER_AGENT.starts_with("tracing-honeyhive/"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.header("hh-client-package"),
        Some("tracing-honeyhive")
    );
    assert_eq!(
        request.header("hh-client-version"),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(request.header("hh-client-language"), Some("rust"));
    // The time the request was made, in Unix nanoseconds, as HoneyHive's Python SDK stamps it.
    let stamp: u128 = request
        .header("hh-client-timestamp")
        .expect("stamped")
        .parse()
        .expect("a whole number");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    assert!(
        stamp <= now && now - stamp < 60_000_000_000,
        "{stamp} vs {now}"
    );

    let quiet = Client::builder()
        .with_api_key(KEY)
        .with_api_url(server.url())
        .with_client_headers(false)
        .build()
        .unwrap();
    quiet
        .create_session(&CreateSession::default())
        .await
        .unwrap();
    let request = &server.requests()[1];
    assert!(
        request
            .headers
            .iter()
            .all(|(name, _)| !name.starts_with("hh-client-"))
    );
}

#[tokio::test]
async fn a_base_url_with_a_path_prefix_is_kept() {
    let server = server();
    let client = Client::builder()
        .with_api_key(KEY)
        .with_api_url(format!("{}/", server.url()))
        .build()
        .unwrap();
    assert_eq!(client.api_url(), server.url());
    client
        .create_session(&CreateSession::default())
        .await
        .unwrap();
    assert_eq!(server.requests()[0].path, "/v1/sessions");
}

#[tokio::test]
async fn a_400_gives_the_server_message() {
    let server = server();
    let body = r#"{"statusCode":400,"message":"events[0].inputs: expected an object","success":false,"errorCode":"INVALID"}"#;
    server.inject(Fault::status(400).with_body("application/json", body));
    let err = client(&server)
        .create_session(&CreateSession::default())
        .await
        .unwrap_err();
    match &err {
        Error::Status {
            status: 400,
            message,
            error_code,
            path,
            ..
        } => {
            assert_eq!(message, "events[0].inputs: expected an object");
            assert_eq!(error_code.as_deref(), Some("INVALID"));
            assert_eq!(path, "/v1/sessions");
        }
        other => panic!("expected a 400, got {other:?}"),
    }
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("expected an object"), "{err}");
}

#[tokio::test]
async fn a_wrong_key_gives_401_and_the_key_is_never_shown() {
    let server = server();
    let secret = "hh_wrong_key_abcdefghijklmnopqrstuv";
    let client = Client::builder()
        .with_api_key(secret)
        .with_api_url(server.url())
        .build()
        .unwrap();
    let err = client
        .create_session(&CreateSession::default())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert!(!err.is_retryable());
    for shown in [err.to_string(), format!("{err:?}"), format!("{client:?}")] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[tokio::test]
async fn a_batch_for_an_unknown_session_gives_404_session_not_found() {
    let server = server();
    let err = client(&server)
        .create_session_event_batch(Uuid::new_v4(), &[Event::new(EventType::Chain)])
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert!(err.to_string().contains("Session not found"), "{err}");
}

#[tokio::test]
async fn a_500_is_retryable_and_carries_retry_after() {
    let server = server();
    server.inject(Fault::status(500).with_retry_after("7"));
    let err = client(&server)
        .create_session(&CreateSession::default())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert!(err.is_retryable());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert!(server.sessions().is_empty());
}

#[tokio::test]
async fn a_429_with_an_http_date_retry_after_is_throttling() {
    let server = server();
    let later = std::time::SystemTime::now() + Duration::from_secs(120);
    server.inject(Fault::status(429).with_retry_after(httpdate::fmt_http_date(later)));
    let err = client(&server)
        .create_session(&CreateSession::default())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(429));
    assert!(err.is_retryable());
    let wait = err.retry_after().unwrap();
    assert!(
        wait > Duration::from_secs(100) && wait <= Duration::from_secs(120),
        "{wait:?}"
    );
}

#[tokio::test]
async fn an_html_502_still_gives_a_clear_error() {
    let server = server();
    let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><center>\
                <h1>502 Bad Gateway</h1></center></body>\r\n</html>";
    server.inject(Fault::status(502).with_body("text/html", page));
    let err = client(&server)
        .create_session(&CreateSession::default())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(502));
    assert!(err.is_retryable());
    assert_eq!(
        err.to_string(),
        "POST /v1/sessions answered 502: Bad Gateway (HTML page: 502 Bad Gateway)"
    );
}

#[tokio::test]
async fn a_slow_server_gives_a_timeout_naming_the_limit() {
    let server = server();
    server.set_latency(Duration::from_millis(500));
    let client = Client::builder()
        .with_api_key(KEY)
        .with_api_url(server.url())
        .with_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let err = client
        .create_session(&CreateSession::default())
        .await
        .unwrap_err();
    match &err {
        Error::Timeout { timeout, path, .. } => {
            assert_eq!(*timeout, Duration::from_millis(100));
            assert_eq!(path, "/v1/sessions");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_dropped_connection_is_a_transport_error() {
    let server = server();
    server.inject(Fault::drop_connection());
    let err = client(&server)
        .create_session(&CreateSession::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn a_closed_port_is_a_transport_error() {
    let url = {
        let server = server();
        server.url()
    };
    let client = Client::builder()
        .with_api_key(KEY)
        .with_api_url(url)
        .build()
        .unwrap();
    let err = client
        .create_session(&CreateSession::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
}

#[tokio::test]
async fn a_success_body_of_the_wrong_shape_names_the_json_path() {
    let server = server();
    server.inject(Fault::status(200).with_body("application/json", r#"{"session_id": 5}"#));
    let err = client(&server)
        .create_session(&CreateSession::default())
        .await
        .unwrap_err();
    match &err {
        Error::Decode { json_path, .. } => assert_eq!(json_path, "session_id"),
        other => panic!("expected a decode error, got {other:?}"),
    }
    server.inject(Fault::status(200).with_body("application/json", r#"{"session_id": "nope"}"#));
    let err = client(&server)
        .create_session(&CreateSession::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Decode { json_path, reason, .. } if json_path == "session_id" && reason.contains("UUID")),
        "{err:?}"
    );
    server.inject(Fault::status(200).with_body("text/plain", "OK"));
    let err = client(&server)
        .create_event_batch(&EventBatch::new(vec![]))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn success_false_is_reported_as_a_refusal() {
    let server = server();
    let session_id = client(&server)
        .create_session(&CreateSession::default())
        .await
        .unwrap()
        .session_id;
    server.inject(Fault::status(200).with_body("application/json", r#"{"success": false}"#));
    let err = client(&server)
        .create_session_event_batch(session_id, &[])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("success"), "{err}");
}

#[tokio::test]
async fn the_local_server_without_a_key_needs_no_client_key() {
    let server = Emulator::builder().start().unwrap();
    let client = Client::builder()
        .with_api_url(server.url())
        .build()
        .unwrap();
    client
        .create_session(&CreateSession::default())
        .await
        .unwrap();
    assert_eq!(server.requests()[0].header("authorization"), None);
}

#[tokio::test]
async fn session_tree_returns_the_session_with_its_events_nested() {
    let server = server();
    let client = client(&server);
    let session_id = client
        .create_session(&named_session("tree"))
        .await
        .unwrap()
        .session_id;
    let mut parent = Event::new(EventType::Chain);
    parent.event_id = Some(Uuid::new_v4());
    let mut child = Event::new(EventType::Model);
    child.parent_id = parent.event_id;
    client
        .create_session_event_batch(session_id, &[parent, child])
        .await
        .unwrap();
    let tree = client.session_tree(session_id).await.unwrap();
    assert_eq!(tree.event.session_id, Some(session_id.to_string()));
    assert_eq!(tree.children.len(), 1);
    assert_eq!(
        tree.children[0].children[0].event.event_type.as_deref(),
        Some("model")
    );
    let request = server.requests().pop().unwrap();
    assert_eq!(request.method, "GET");
    assert_eq!(request.header("content-type"), None, "a GET has no body");

    let err = client.session_tree(Uuid::new_v4()).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn a_redirect_is_not_followed_so_the_key_never_reaches_another_host() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let other = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirecting = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = format!("http://{}/v1/sessions", other.local_addr().unwrap());
    let url = format!("http://{}", redirecting.local_addr().unwrap());
    let answer = tokio::spawn(async move {
        let (mut stream, _) = redirecting.accept().await.unwrap();
        let mut request = vec![0; 64 * 1024];
        let _ = stream.read(&mut request).await.unwrap();
        let reply = format!(
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: {target}\r\nContent-Length: 0\r\n\r\n"
        );
        stream.write_all(reply.as_bytes()).await.unwrap();
    });
    let client = Client::builder()
        .with_api_key("hh_redirect_test_0123456789")
        .with_api_url(url)
        .build()
        .unwrap();
    let error = client
        .create_session(&CreateSession::default())
        .await
        .unwrap_err();
    answer.await.unwrap();
    assert_eq!(error.status(), Some(307), "{error}");
    let followed = tokio::time::timeout(Duration::from_millis(300), other.accept()).await;
    assert!(followed.is_err(), "nothing connected to the other host");
}
