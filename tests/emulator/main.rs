//! The local HoneyHive-compatible server over loopback HTTP, one test per documented rule of the
//! contract (`honeyhive-api.md`). Requests are raw `reqwest` calls so that they can carry the bad
//! shapes the typed client never sends.
#![cfg(feature = "emulator")]

#[path = "../common/mod.rs"]
mod common;

mod auth;
mod batches;
mod deep_json;
mod events_batch;
mod faults;
mod garbage;
mod legacy;
mod official;
mod requests;
mod sessions;
mod settled;
mod tree;
mod updates;
mod validation;

use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use tracing_honeyhive::emulator::Emulator;
use uuid::Uuid;

/// The key the keyed servers require.
const KEY: &str = "hh_emulator_tests_0123456789abcdef";

/// A running server and an HTTP client that sends its key, if it has one.
struct Api {
    server: Emulator,
    http: reqwest::Client,
    key: Option<&'static str>,
}

/// A whole answer: status, headers and body text.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: HeaderMap,
    text: String,
}

impl Api {
    /// A server requiring [`KEY`], and a client sending it.
    fn new() -> Api {
        Api::with(Emulator::builder().with_api_key(KEY))
    }

    /// A server built from `builder`, with a configured key, and a client sending [`KEY`].
    fn with(builder: tracing_honeyhive::emulator::Builder) -> Api {
        Api {
            server: builder.start().expect("the local server starts"),
            http: common::raw_http(),
            key: Some(KEY),
        }
    }

    /// A server requiring no key, and a client sending none.
    fn open() -> Api {
        Api {
            server: Emulator::builder()
                .start()
                .expect("the local server starts"),
            http: common::raw_http(),
            key: None,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    /// A request to `path`, with the key if the client has one.
    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self.http.request(method, self.url(path));
        match self.key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    }

    /// Sends `body` as it is, labelled as JSON.
    async fn send_raw(&self, method: Method, path: &str, body: impl Into<reqwest::Body>) -> Reply {
        let request = self
            .request(method, path)
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        Reply::of(request).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.send_raw(Method::POST, path, body.to_string()).await
    }

    async fn put(&self, path: &str, body: Value) -> Reply {
        self.send_raw(Method::PUT, path, body.to_string()).await
    }

    async fn get(&self, path: &str) -> Reply {
        Reply::of(self.request(Method::GET, path)).await
    }

    /// `POST /v1/sessions` that must succeed; the answer, checked against its schema.
    async fn create_session(&self, body: Value) -> Value {
        self.post("/v1/sessions", body)
            .await
            .ok("create-session-response.json")
    }

    /// A new session with a client-chosen id; its id.
    async fn new_session(&self) -> String {
        let id = Uuid::new_v4().to_string();
        let created = self
            .create_session(json!({"session_id": id, "session_name": "test"}))
            .await;
        assert_eq!(created["session_id"], json!(id));
        id
    }

    /// `POST /v1/sessions/{session_id}/events/batch` with these events.
    async fn batch(&self, session_id: &str, events: Value) -> Reply {
        let path = format!("/v1/sessions/{session_id}/events/batch");
        self.post(&path, json!({ "events": events })).await
    }
}

impl Reply {
    async fn of(request: RequestBuilder) -> Reply {
        let response = request.send().await.expect("the local server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("the answer has a body");
        Reply {
            status,
            headers,
            text,
        }
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("the body is not JSON ({e}): {}", self.text))
    }

    /// Asserts a 200 whose body validates against `schema_file`; the body.
    fn ok(&self, schema_file: &str) -> Value {
        assert_eq!(self.status, 200, "expected 200, got: {}", self.text);
        let body = self.json();
        assert_valid(schema_file, &body);
        body
    }

    /// Asserts the answer is `status` with the documented error body; its message.
    fn refused(&self, status: u16) -> String {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self.error_message()
    }

    /// Asserts the body is the documented error body mirroring the status; its message.
    fn error_message(&self) -> String {
        let body = self.json();
        assert_valid("error-response.json", &body);
        assert_eq!(body["statusCode"], json!(self.status), "{body}");
        assert_eq!(body["success"], json!(false), "{body}");
        let message = body["message"].as_str().unwrap_or_default().to_owned();
        assert!(!message.is_empty(), "an error message says what went wrong");
        message
    }
}

/// Asserts `value` satisfies the vendored schema `schema_file`.
fn assert_valid(schema_file: &str, value: &Value) {
    let errors: Vec<String> = common::schema(schema_file)
        .iter_errors(value)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{schema_file} rejects {value}: {errors:#?}"
    );
}

/// Asserts `message` names every one of `parts`.
fn assert_names(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "`{message}` should name {part}");
    }
}

/// The test's clock, in Unix epoch milliseconds, truncated as the server truncates.
fn now_ms() -> f64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970");
    since.as_millis() as f64
}

/// Asserts `id` is a lowercase hyphenated UUIDv4.
fn assert_fresh_uuid_v4(id: &str) {
    let parsed = Uuid::parse_str(id).unwrap_or_else(|e| panic!("`{id}` is not a UUID: {e}"));
    assert_eq!(parsed.get_version_num(), 4, "`{id}` is not a v4 UUID");
    assert_eq!(parsed.hyphenated().to_string(), id, "lowercase, hyphenated");
}

/// A minimal valid event of `event_type`.
fn event(event_type: &str) -> Value {
    json!({"event_type": event_type, "inputs": {}})
}
