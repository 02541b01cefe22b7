//! Bad input of every kind on every route: always a 4xx with the documented error body, never a
//! 500 or a panic.

use reqwest::Method;
use serde_json::{Value, json};
use tracing_honeyhive::emulator::MAX_JSON_DEPTH;

use crate::Api;

/// Bodies that are wrong for every route.
fn garbage_for_every_route() -> Vec<Vec<u8>> {
    let mut bodies: Vec<Vec<u8>> = [
        "",
        " ",
        "{",
        "}",
        "nul",
        "null",
        "[]",
        "[1, 2]",
        "\"{}\"",
        "42",
        "-0.5e3",
        "false",
        "{\"a\": 1e999}",
        "{\"metadata\": []}",
        "{\"metadata\": \"x\"}",
        "{\"duration\": \"soon\", \"metadata\": 1}",
        "{\"events\": 7, \"session\": 7, \"event_id\": 7, \"metadata\": 7}",
        "{\"events\": [1], \"session\": [], \"event_id\": [], \"outputs\": 1}",
        "{} {}",
        "{\"a\": 1,}",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    bodies.push(vec![0xff, 0xfe, b'{', b'}']);
    bodies.push(b"{\"session_name\": \"\xc3\x28\"}".to_vec());
    bodies.push("[".repeat(10_000).into_bytes());
    // Valid JSON, but nested one level past what the server accepts.
    let too_deep = MAX_JSON_DEPTH + 1;
    let nested = format!("{}1{}", "{\"a\":".repeat(too_deep), "}".repeat(too_deep));
    bodies.push(nested.into_bytes());
    bodies
}

/// Bodies that are wrong for the route at `path`.
fn garbage_for(path: &str) -> Vec<Value> {
    let mut event_garbage = vec![
        json!({"events": {}}),
        json!({"events": "[]"}),
        json!({"events": [null]}),
        json!({"events": [[]]}),
        json!({"events": [{"event_type": "llm"}]}),
        json!({"events": [{"event_type": "chain", "inputs": {}, "start_time": "now"}]}),
        json!({"events": [{"event_type": "chain", "inputs": {}, "children_ids": [1]}]}),
        json!({"events": [{"event_type": "chain", "inputs": {}, "children_ids": "a"}]}),
        json!({"events": [{"event_type": "chain", "inputs": {}, "error": 5}]}),
        json!({"events": [{"event_type": "chain", "inputs": {}, "session_id": 5}]}),
    ];
    if path.starts_with("/v1/") {
        // The legacy event object requires nothing; v1 events require `event_type` and `inputs`.
        event_garbage.extend([
            json!({"events": [{}]}),
            json!({"events": [{"event_type": "chain"}]}),
            json!({"events": [{"inputs": {}}]}),
            json!({"events": [{"event_type": "chain", "inputs": {}, "project": "p"}]}),
        ]);
    }
    match path {
        "/v1/sessions" => vec![
            json!({"session_id": 5}),
            json!({"session_id": null}),
            json!({"children_ids": ["a", 1]}),
            json!({"children_ids": {}}),
            json!({"inputs": "x"}),
            json!({"config": []}),
        ],
        "/session/start" => vec![
            json!({}),
            json!({"session": null}),
            json!({"session": 5}),
            json!({"session": []}),
            json!({"session": "not json"}),
            json!({"session": "[1]"}),
            json!({"session": "null"}),
            json!({"session": "\"nested\""}),
            json!({"session": {"inputs": []}}),
            json!({"session": {"session_id": 5}}),
            json!({"session": "{\"metadata\": 1}"}),
        ],
        "/events" => vec![
            json!({}),
            json!({"event_id": null}),
            json!({"event_id": 5}),
            json!({"event_id": {}}),
            json!({"event_id": "x", "outputs": "text"}),
            json!({"event_id": "x", "metadata": []}),
        ],
        "/v1/events/batch" | "/events/batch" => {
            let mut bodies = event_garbage;
            bodies.push(json!({"events": [], "single_session": "yes"}));
            bodies.push(json!({"events": [], "session_properties": []}));
            bodies.push(json!({"events": [], "session_properties": {"start_time": "x"}}));
            bodies
        }
        path if path.starts_with("/v1/events/") => vec![
            json!({"outputs": "text"}),
            json!({"outputs": []}),
            json!({"outputs": 1}),
            json!({"metadata": null}),
            json!({"duration": "1s"}),
            json!({"children_ids": [1]}),
        ],
        _ => event_garbage,
    }
}

#[tokio::test]
async fn bad_input_on_any_route_is_a_4xx_error_body_never_a_500() {
    let api = Api::new();
    let session_id = api.new_session().await;
    let unknown = uuid::Uuid::new_v4();
    let routes = [
        (Method::POST, "/v1/sessions".to_owned()),
        (
            Method::POST,
            format!("/v1/sessions/{session_id}/events/batch"),
        ),
        (Method::POST, format!("/v1/sessions/{unknown}/events/batch")),
        (Method::PUT, format!("/v1/events/{session_id}")),
        (Method::PUT, format!("/v1/events/{unknown}")),
        (Method::POST, "/session/start".to_owned()),
        (Method::POST, "/v1/events/batch".to_owned()),
        (Method::PUT, "/events".to_owned()),
        (Method::POST, "/events/batch".to_owned()),
    ];
    for (method, path) in &routes {
        let specific = garbage_for(path)
            .into_iter()
            .map(|v| v.to_string().into_bytes());
        for body in garbage_for_every_route().into_iter().chain(specific) {
            let shown = String::from_utf8_lossy(&body)
                .chars()
                .take(80)
                .collect::<String>();
            let reply = api.send_raw(method.clone(), path, body).await;
            assert!(
                (400..500).contains(&reply.status),
                "{method} {path} {shown}: {} {}",
                reply.status,
                reply.text
            );
            reply.error_message();
        }
    }
    // Path segments that are not valid UTF-8 once percent-decoded.
    for (method, path) in [
        (Method::GET, "/v1/sessions/%FF"),
        (Method::POST, "/v1/sessions/%FF%FE/events/batch"),
        (Method::PUT, "/v1/events/%C3%28"),
    ] {
        let reply = api.send_raw(method.clone(), path, "{\"events\": []}").await;
        assert!(
            (400..500).contains(&reply.status),
            "{method} {path}: {reply:?}"
        );
        reply.error_message();
    }
    assert_eq!(api.server.sessions().len(), 1, "nothing else was stored");
    assert!(api.server.events().is_empty());
    assert!(
        api.server.requests().iter().all(|r| r.status != Some(500)),
        "no 500 recorded"
    );
}
