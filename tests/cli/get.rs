//! `honeyhive sessions get ID`: the session tree from `GET /v1/sessions/{id}`, as a waterfall or
//! as JSON.

use serde_json::json;

use crate::{assert_valid, new_session, run, server};

/// A session with a chain holding a model call, all timed.
fn timed_session(server: &tracing_honeyhive::emulator::Emulator) -> String {
    let session_id = uuid::Uuid::new_v4().to_string();
    run(
        server,
        &[
            "sessions",
            "create",
            "--session-id",
            &session_id,
            "--session-name",
            "order status",
            "--start-time",
            "1000",
            "--end-time",
            "1800",
        ],
    )
    .json();
    let chain = "3b3a4f47-5d49-4a71-9f39-3c1f0c1a2b77";
    let events = json!([
        {"event_type": "chain", "event_id": chain, "event_name": "answer", "inputs": {},
         "start_time": 1000, "end_time": 1740},
        {"event_type": "model", "event_name": "plan", "parent_id": chain, "inputs": {},
         "start_time": 1005, "duration": 310},
    ]);
    run(
        server,
        &[
            "sessions",
            "create-event-batch",
            "--session-id",
            &session_id,
            "--events",
            &events.to_string(),
        ],
    )
    .json();
    session_id
}

#[test]
fn get_prints_the_session_as_a_waterfall() {
    let server = server();
    let session_id = timed_session(&server);
    let shown = run(&server, &["sessions", "get", &session_id]);
    assert_eq!(shown.code, 0, "{shown:#?}");
    let tree = server.tree(&session_id).expect("the session is stored");
    assert_eq!(shown.stdout, tracing_honeyhive::emulator::waterfall(&tree));
    let lines: Vec<&str> = shown.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", shown.stdout);
    assert!(
        lines[0].starts_with("order status [session]"),
        "{}",
        lines[0]
    );
    assert!(lines[1].starts_with("└─ answer [chain]"), "{}", lines[1]);
    assert!(lines[2].starts_with("   └─ plan [model]"), "{}", lines[2]);
    assert!(lines[2].contains("+5 ms  310 ms"), "{}", lines[2]);
}

#[test]
fn get_json_prints_the_servers_tree() {
    let server = server();
    let session_id = timed_session(&server);
    let tree = run(&server, &["sessions", "get", &session_id, "--json"]).json();
    assert_valid("get-session-response.json", &tree);
    let stored = serde_json::to_value(server.tree(&session_id)).expect("serialisable");
    assert_eq!(tree, stored);
    assert_eq!(tree["children"][0]["children"][0]["event_name"], "plan");
}

#[test]
fn get_sends_a_bodyless_authorised_get() {
    let server = server();
    let session_id = new_session(&server);
    let before = server.requests().len();
    assert_eq!(run(&server, &["sessions", "get", &session_id]).code, 0);
    let requests = server.requests();
    assert_eq!(requests.len(), before + 1);
    let request = &requests[before];
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, format!("/v1/sessions/{session_id}"));
    assert!(request.body.is_empty());
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {}", crate::KEY).as_str())
    );
}
