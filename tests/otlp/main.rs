//! The local server's OTLP/HTTP trace ingest: real senders (opentelemetry-otlp, protobuf and
//! JSON, gzipped or not) against it, parity with the in-process exporter, the lenient JSON real
//! senders write, and hostile bodies (a `400` or `413`, never a panic or a `5xx`).
#![cfg(all(feature = "emulator", feature = "opentelemetry"))]

mod bodies;
mod python_sdk;
mod round_trip;

use std::time::Duration;

use reqwest::blocking::Client;
use tracing_honeyhive::emulator::Emulator;
use tracing_honeyhive::wire::EventRecord;

/// How long a test waits for ingested spans to be stored.
const PATIENCE: Duration = Duration::from_secs(20);

/// An answer: status, content type and body.
#[derive(Debug)]
struct Reply {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

/// Posts `body` to `path` with these headers.
fn post(server: &Emulator, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
    let mut request = Client::new().post(format!("{}{path}", server.url()));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.body(body).send().expect("the server answers");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response.bytes().expect("a body").to_vec();
    Reply {
        status,
        content_type,
        body,
    }
}

/// Every stored session and event, in a stable order, without what differs between two servers
/// (nothing should).
fn stored(server: &Emulator) -> (Vec<EventRecord>, Vec<EventRecord>) {
    assert!(server.flush_otlp(PATIENCE), "the ingested spans are stored");
    let mut sessions = server.sessions();
    sessions.sort_by(|a, b| a.event_id.cmp(&b.event_id));
    let mut events = server.events();
    events.sort_by(|a, b| a.event_id.cmp(&b.event_id));
    (sessions, events)
}
