//! `honeyhive sessions create`: every flag reaches the body with its JSON type, and stdout is the
//! server's session object.

use serde_json::{Value, json};

use crate::{assert_valid, only_request, run, server};

const SESSION_ID: &str = "0f8e4a44-8d0a-4c55-9f9b-6f6f4c1f3a10";
const CHILD_ID: &str = "3b3a4f47-5d49-4a71-9f39-3c1f0c1a2b77";

#[test]
fn every_flag_reaches_the_body_with_its_json_type() {
    let server = server();
    let created = run(
        &server,
        &[
            "sessions",
            "create",
            "--session-id",
            "0F8E4A44-8D0A-4C55-9F9B-6F6F4C1F3A10",
            "--session-name",
            "support chat",
            "--event-name",
            "chat root",
            "--source",
            "production",
            "--start-time",
            "1712025501605",
            "--end-time",
            "1712025502855",
            "--duration",
            "1250.5",
            "--config",
            r#"{"model": "gpt-4o", "temperature": 0.2}"#,
            "--inputs",
            r#"{"question": "Where is my order?"}"#,
            "--outputs",
            r#"{"answer": "It shipped."}"#,
            "--metadata",
            r#"{"release": "1.4.2", "tags": ["a"]}"#,
            "--user-properties",
            r#"{"plan": "pro"}"#,
            "--children-ids",
            &format!(r#"["{CHILD_ID}"]"#),
        ],
    )
    .json();

    let body = only_request(&server, "POST", "/v1/sessions")
        .json()
        .expect("a JSON body");
    assert_eq!(
        body,
        json!({
            "session_id": SESSION_ID,
            "session_name": "support chat",
            "event_name": "chat root",
            "source": "production",
            "start_time": 1_712_025_501_605_i64,
            "end_time": 1_712_025_502_855_i64,
            "duration": 1250.5,
            "config": {"model": "gpt-4o", "temperature": 0.2},
            "inputs": {"question": "Where is my order?"},
            "outputs": {"answer": "It shipped."},
            "metadata": {"release": "1.4.2", "tags": ["a"]},
            "user_properties": {"plan": "pro"},
            "children_ids": [CHILD_ID],
        })
    );
    assert!(
        body["start_time"].is_i64() && body["end_time"].is_i64(),
        "{body}"
    );
    assert_valid("create-session.json", &body);

    assert_eq!(created["session_id"], SESSION_ID);
    assert_eq!(created["event_name"], "chat root");
    assert_eq!(created["inputs"], json!({"question": "Where is my order?"}));
    assert_valid("create-session-response.json", &created);
    let stored = server.session(SESSION_ID).expect("the session is stored");
    assert_eq!(stored.user_properties, Some(json!({"plan": "pro"})));
}

#[test]
fn with_no_flag_an_empty_session_is_created_and_printed() {
    let server = server();
    let run = run(&server, &["sessions", "create"]);
    let created = run.json();
    let body: Value = only_request(&server, "POST", "/v1/sessions")
        .json()
        .expect("a JSON body");
    assert_eq!(body, json!({}));
    let id = created["session_id"].as_str().expect("a session id");
    assert!(server.session(id).is_some());
    assert!(run.stderr.is_empty(), "nothing on stderr: {}", run.stderr);
    assert!(
        run.stdout.starts_with("{\n  \""),
        "indented JSON: {}",
        run.stdout
    );
}

#[test]
fn a_whole_number_duration_stays_a_number_and_negative_times_are_numbers() {
    let server = server();
    run(
        &server,
        &[
            "sessions",
            "create",
            "--duration",
            "12",
            "--start-time",
            "-5",
        ],
    )
    .json();
    let body = server.requests()[0].json().expect("a JSON body");
    assert_eq!(body["duration"].as_f64(), Some(12.0));
    assert_eq!(body["start_time"], json!(-5));
}
