//! What HoneyHive's Python SDK 1.7.0 sends in a traced run, replayed from the bodies it sent
//! (`tests/fixtures/honeyhive_python_sdk/`, captured from the SDK itself): its session start,
//! its `enrich_session`, then its OTLP/JSON export. The spans land in the session the SDK
//! started, as events, without undoing the enrichment that came before them.

use serde_json::{Value, json};
use tracing_honeyhive::emulator::{Emulator, HONEYHIVE_TRACES_PATH};

use crate::{post, stored};

const SESSION: &str = "b6d91b84-935b-473b-9501-b8db198bebe1";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/honeyhive_python_sdk/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The headers the SDK sent (`requests.json`), with its key.
const HEADERS: [(&str, &str); 5] = [
    ("content-type", "application/json"),
    ("authorization", "Bearer test-key"),
    ("hh-client-language", "python"),
    ("hh-client-package", "honeyhive"),
    ("hh-client-version", "1.7.0"),
];

#[test]
fn a_python_sdk_run_lands_in_the_session_it_started() {
    let server = Emulator::builder()
        .with_api_key("test-key")
        .start()
        .unwrap();
    // The session start, with the id the capture server gave the SDK (the SDK adopts whatever
    // id the server answers with).
    let mut start: Value = serde_json::from_slice(&fixture("session_start.json")).unwrap();
    start["session"]["session_id"] = json!(SESSION);
    let started = post(
        &server,
        "/session/start",
        &HEADERS,
        start.to_string().into_bytes(),
    );
    assert_eq!(
        started.status,
        200,
        "{}",
        String::from_utf8_lossy(&started.body)
    );
    let enriched = put(&server, "/events", fixture("enrich_session.json"));
    assert_eq!(enriched, 200);
    let export = post(
        &server,
        HONEYHIVE_TRACES_PATH,
        &HEADERS,
        fixture("otlp_traces.json"),
    );
    assert_eq!(
        export.status,
        200,
        "{}",
        String::from_utf8_lossy(&export.body)
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&export.body).unwrap(),
        json!({})
    );

    let (sessions, events) = stored(&server);
    assert_eq!(sessions.len(), 1, "{sessions:#?}");
    let session = &sessions[0];
    assert_eq!(session.session_id.as_deref(), Some(SESSION));
    assert_eq!(session.event_name.as_deref(), Some("capture-demo"));
    // The enrichment that came first is still there.
    assert_eq!(
        session.outputs.clone().unwrap()["answer"],
        json!("Sunny, 21 °C.")
    );
    assert_eq!(session.feedback.clone().unwrap()["rating"], json!(5));
    assert_eq!(
        session.user_properties.clone().unwrap()["user_id"],
        json!("user-1")
    );

    let by_name = |name: &str| {
        events
            .iter()
            .find(|e| e.event_name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no {name} in {events:#?}"))
    };
    let answer = by_name("answer");
    assert_eq!(answer.event_type.as_deref(), Some("chain"));
    assert_eq!(
        answer.parent_id.as_deref().map(str::to_owned),
        Some(SESSION.to_owned())
    );
    assert_eq!(
        answer.inputs.clone().unwrap()["question"],
        json!("What is the weather in Paris?")
    );
    let lookup = by_name("lookup");
    assert_eq!(lookup.event_type.as_deref(), Some("tool"));
    assert_eq!(lookup.parent_id, answer.event_id);
    assert_eq!(lookup.inputs.clone().unwrap()["city"], json!("Paris"));
    let flaky = by_name("flaky");
    let error = flaky.error.as_deref().unwrap_or_default();
    assert!(error.contains("attempt 1 timed out"), "{error}");
    // The SDK's sibling span for the error carries `honeyhive_error`.
    let sibling = by_name("flaky_error");
    let error = sibling.error.as_deref().unwrap_or_default();
    assert!(error.contains("timed out"), "{error}");
    let llm = by_name("llm_call");
    assert_eq!(llm.event_type.as_deref(), Some("model"));
    let config = llm.config.clone().unwrap();
    assert!(config.get("model").is_some(), "{config}");
    assert!(llm.metrics.clone().unwrap().get("tokens").is_some());
    for event in &events {
        assert_eq!(event.session_id.as_deref(), Some(SESSION), "{event:#?}");
    }
}

/// `PUT path` with the SDK's headers; the status.
fn put(server: &Emulator, path: &str, body: Vec<u8>) -> u16 {
    let mut request = reqwest::blocking::Client::new().put(format!("{}{path}", server.url()));
    for (name, value) in HEADERS {
        request = request.header(name, value);
    }
    request
        .body(body)
        .send()
        .expect("an answer")
        .status()
        .as_u16()
}

#[test]
fn spans_of_a_session_that_does_not_exist_are_stored_and_say_honeyhive_would_not() {
    // The export alone: the SDK's session start never reached this server.
    let server = Emulator::builder()
        .with_api_key("test-key")
        .start()
        .unwrap();
    let export = post(
        &server,
        HONEYHIVE_TRACES_PATH,
        &HEADERS,
        fixture("otlp_traces.json"),
    );
    assert_eq!(export.status, 200);
    let (_, events) = stored(&server);
    assert_eq!(events.len(), 5);
    for event in &events {
        let note = &event.metadata.clone().unwrap()["honeyhive_ingest"];
        let note = note
            .as_str()
            .unwrap_or_else(|| panic!("no note on {event:#?}"));
        assert!(
            note.contains(SESSION) && note.contains("session_auto_create"),
            "{note}"
        );
    }
    // With honeyhive.session_auto_create, as the SDK sends when it did not start the session,
    // HoneyHive creates it: no note.
    let mut body: Value = serde_json::from_slice(&fixture("otlp_traces.json")).unwrap();
    for span in body["resourceSpans"][0]["scopeSpans"][0]["spans"]
        .as_array_mut()
        .unwrap()
    {
        span["attributes"].as_array_mut().unwrap().push(json!(
            {"key": "honeyhive.session_auto_create", "value": {"boolValue": true}}
        ));
    }
    let server = Emulator::builder()
        .with_api_key("test-key")
        .start()
        .unwrap();
    let export = post(
        &server,
        HONEYHIVE_TRACES_PATH,
        &HEADERS,
        body.to_string().into_bytes(),
    );
    assert_eq!(export.status, 200);
    let (sessions, events) = stored(&server);
    assert_eq!(sessions.len(), 1);
    for event in &events {
        assert!(
            event
                .metadata
                .clone()
                .unwrap()
                .get("honeyhive_ingest")
                .is_none()
        );
    }
}
