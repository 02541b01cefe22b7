//! Sessions that arrived over OTLP show in the view as those from the REST routes do: a run of
//! HoneyHive's Python SDK 1.7.0, replayed from the bodies it sent
//! (`tests/fixtures/honeyhive_python_sdk/`).

use std::time::Duration;

use serde_json::{Value, json};
use tracing_honeyhive::emulator::{Emulator, HONEYHIVE_TRACES_PATH};

use crate::{KEY, get, http, send};

const SESSION: &str = "b6d91b84-935b-473b-9501-b8db198bebe1";

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/honeyhive_python_sdk/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test]
async fn a_python_sdk_run_over_otlp_is_listed_and_opened_like_any_session() {
    let server = Emulator::builder().with_api_key(KEY).start().unwrap();
    let mut start: Value = serde_json::from_str(&fixture("session_start.json")).unwrap();
    start["session"]["session_id"] = json!(SESSION);
    let started = http()
        .post(format!("{}/session/start", server.url()))
        .bearer_auth(KEY)
        .json(&start);
    assert_eq!(send(started).await.status, 200);
    let export = http()
        .post(format!("{}{HONEYHIVE_TRACES_PATH}", server.url()))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body(fixture("otlp_traces.json"));
    assert_eq!(send(export).await.status, 200);
    assert!(
        server.flush_otlp(Duration::from_secs(30)),
        "the OTLP ingest stored its spans"
    );

    let bearer = format!("Bearer {KEY}");
    let auth = [("authorization", bearer.as_str())];
    let list = get(&format!("{}/api/sessions", server.url()), &auth)
        .await
        .json();
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{list}");
    let stored = server.events_of(SESSION);
    assert!(!stored.is_empty());
    assert_eq!(sessions[0]["session_id"], SESSION);
    assert_eq!(sessions[0]["name"], "capture-demo");
    assert_eq!(sessions[0]["events"], json!(stored.len()));
    let models = stored
        .iter()
        .filter(|e| e.event_type.as_deref() == Some("model"));
    assert_eq!(sessions[0]["model_events"], json!(models.count()));

    let opened = get(&format!("{}/api/sessions/{SESSION}", server.url()), &auth)
        .await
        .json();
    let rows = opened["events"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    let expected: Vec<&str> = stored
        .iter()
        .map(|e| e.event_name.as_deref().unwrap())
        .collect();
    assert_eq!(names, expected);
    for (row, event) in rows.iter().zip(&stored) {
        assert_eq!(row["type"], json!(event.event_type), "{row}");
        assert_eq!(row["parent"], json!(event.parent_id), "{row}");
        let id = event.event_id.as_deref().unwrap();
        let path = format!("{}/api/sessions/{SESSION}/events/{id}", server.url());
        let whole = get(&path, &auth).await.json();
        assert_eq!(whole["inputs"], json!(event.inputs), "{id}");
    }
}
