//! The web view of the local server (`src/emulator/web/`): the JSON its page reads, who may read
//! it, the live stream, and (ignored unless Chromium and ChromeDriver are there,
//! `scripts/web-e2e.sh`) the page itself in a real browser. The page's pure functions are tested
//! by `node --test tests/web/` (`model.test.mjs`).
#![cfg(feature = "emulator")]

#[path = "../common/mod.rs"]
mod common;

mod access;
mod api;
mod browser;
mod live;
mod otlp;

use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tracing_honeyhive::emulator::Emulator;

/// The key of the keyed servers.
const KEY: &str = "hh_web_tests_0123456789abcdef";

/// An answer: status, headers, body.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A client that neither follows redirects nor keeps cookies: each request says what it sends.
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn send(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.expect("the local server answers");
    Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        text: response.text().await.expect("a body"),
    }
}

/// `GET url` with these headers.
async fn get(url: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = http().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(request).await
}

/// The status of `GET url` with these headers, the body unread (the live stream never ends).
async fn status(url: &str, headers: &[(&str, &str)]) -> u16 {
    let mut request = http().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
        .send()
        .await
        .expect("the local server answers")
        .status()
        .as_u16()
}

/// Posts `body` to the API at `path`, with `key` if given; the answer must be 200. Events of a
/// batch that have no `inputs` get `{}`, which the contract requires.
async fn post(server: &Emulator, key: Option<&str>, path: &str, mut body: Value) -> Value {
    if let Some(events) = body.get_mut("events").and_then(Value::as_array_mut) {
        for event in events.iter_mut().filter_map(Value::as_object_mut) {
            event.entry("inputs").or_insert_with(|| json!({}));
        }
    }
    let mut request = http().post(format!("{}{path}", server.url())).json(&body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let reply = send(request).await;
    assert_eq!(reply.status, 200, "{path}: {}", reply.text);
    reply.json()
}

/// A session `name` started at `start` (ms) with these events, through the REST routes.
async fn session(
    server: &Emulator,
    key: Option<&str>,
    id: &str,
    name: &str,
    start: f64,
    events: Value,
) {
    let body =
        json!({"session_id": id, "session_name": name, "source": "web-tests", "start_time": start});
    post(server, key, "/v1/sessions", body).await;
    let path = format!("/v1/sessions/{id}/events/batch");
    post(server, key, &path, json!({ "events": events })).await;
}
