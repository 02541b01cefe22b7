//! `--filename PATH` and `--filename -`: the whole request object from a file or standard input,
//! with the flags given beside it replacing the file's fields.

use serde_json::json;
use uuid::Uuid;

use crate::{TempFile, new_session, run, run_with_stdin, server};

#[test]
fn create_reads_the_whole_session_from_a_file() {
    let server = server();
    let id = Uuid::new_v4().to_string();
    let session = json!({
        "session_id": id,
        "session_name": "from a file",
        "start_time": 1000,
        "inputs": {"q": "?"},
        "metadata": {"from": "file"},
    });
    let file = TempFile::new("session.json", &session.to_string());
    let created = run(&server, &["sessions", "create", "--filename", file.path()]).json();
    assert_eq!(created["session_id"], json!(id));
    assert_eq!(server.requests()[0].json(), Some(session));
}

#[test]
fn flags_beside_the_file_replace_its_fields_and_leave_the_others() {
    let server = server();
    let file = TempFile::new(
        "session.json",
        &json!({
            "session_name": "file name",
            "source": "file source",
            "metadata": {"a": 1, "b": 2},
            "start_time": 1000,
        })
        .to_string(),
    );
    run(
        &server,
        &[
            "sessions",
            "create",
            "-f",
            file.path(),
            "--session-name",
            "flag name",
            "--metadata",
            r#"{"c": 3}"#,
            "--end-time",
            "2000",
        ],
    )
    .json();
    assert_eq!(
        server.requests()[0].json(),
        Some(json!({
            "session_name": "flag name",
            "source": "file source",
            "metadata": {"c": 3},
            "start_time": 1000,
            "end_time": 2000,
        }))
    );
}

#[test]
fn create_reads_standard_input_for_a_dash() {
    let server = server();
    let created = run_with_stdin(
        &server,
        &[
            "sessions",
            "create",
            "--filename",
            "-",
            "--source",
            "stdin test",
        ],
        Some(r#"{"session_name": "piped"}"#),
    )
    .json();
    assert_eq!(created["event_name"], "piped");
    assert_eq!(
        server.requests()[0].json(),
        Some(json!({"session_name": "piped", "source": "stdin test"}))
    );
}

#[test]
fn a_batch_reads_session_id_and_events_from_standard_input() {
    let server = server();
    let session_id = new_session(&server);
    let request = json!({
        "session_id": session_id,
        "events": [{"event_type": "chain", "event_name": "piped", "inputs": {"x": 1}}],
    });
    let printed = run_with_stdin(
        &server,
        &["sessions", "create-event-batch", "-f", "-"],
        Some(&request.to_string()),
    )
    .json();
    assert_eq!(printed, json!({"success": true}));
    let last = server.requests().pop().expect("the batch");
    assert_eq!(last.path, format!("/v1/sessions/{session_id}/events/batch"));
    assert_eq!(last.json(), Some(json!({"events": request["events"]})));
}

#[test]
fn batch_flags_replace_the_file_session_id_and_events() {
    let server = server();
    let target = new_session(&server);
    let file = TempFile::new(
        "batch.json",
        &json!({
            "session_id": Uuid::new_v4().to_string(),
            "events": [{"event_type": "tool", "event_name": "from file", "inputs": {}}],
        })
        .to_string(),
    );
    run(
        &server,
        &[
            "sessions",
            "create-event-batch",
            "-f",
            file.path(),
            "--session-id",
            &target,
        ],
    )
    .json();
    let events = server.events_of(&target);
    assert_eq!(
        events.len(),
        1,
        "the file's events went to the flag's session"
    );
    assert_eq!(events[0].event_name.as_deref(), Some("from file"));

    run(
        &server,
        &[
            "sessions",
            "create-event-batch",
            "-f",
            file.path(),
            "--session-id",
            &target,
            "--events",
            r#"[{"event_type": "model", "event_name": "from flag", "inputs": {}}]"#,
        ],
    )
    .json();
    let events = server.events_of(&target);
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].event_name.as_deref(), Some("from flag"));
}
