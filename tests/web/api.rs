//! The JSON the page reads: summaries, a session's rows, one event, the download.

use serde_json::{Value, json};
use tracing_honeyhive::emulator::{Emulator, Fault};
use uuid::Uuid;

use crate::{get, session};

const T0: f64 = 1_764_900_000_000.0;

/// Two sessions: an older one with a chain, two model calls (one failed) and a tool, and a newer
/// empty one. Their ids.
async fn two_sessions(server: &Emulator) -> (String, String) {
    let (old, new) = (Uuid::new_v4().to_string(), Uuid::new_v4().to_string());
    let chain = Uuid::new_v4().to_string();
    let events = json!([
        {"event_id": chain, "event_type": "chain", "event_name": "plan",
         "start_time": T0 + 1.0, "end_time": T0 + 90.0},
        {"event_type": "model", "event_name": "chat", "parent_id": chain,
         "start_time": T0 + 2.0, "end_time": T0 + 40.0,
         "inputs": {"chat_history": [{"role": "user", "content": "Where is my order?"}]},
         "outputs": {"role": "assistant", "content": "On its way."},
         "metadata": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}},
        {"event_type": "model", "event_name": "chat again", "parent_id": chain,
         "start_time": T0 + 41.0, "end_time": T0 + 60.0, "error": "rate limited",
         "metadata": {"prompt_tokens": 20, "completion_tokens": 3}},
        {"event_type": "tool", "event_name": "lookup", "parent_id": "not-an-event",
         "start_time": T0 + 61.0, "duration": 100.0}
    ]);
    session(server, None, &old, "older", T0, events).await;
    session(server, None, &new, "newer", T0 + 5_000.0, json!([])).await;
    (old, new)
}

#[tokio::test]
async fn the_list_summarises_each_session_newest_first() {
    let server = Emulator::builder().start().unwrap();
    let (old, new) = two_sessions(&server).await;
    let reply = get(&format!("{}/api/sessions", server.url()), &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = reply.json();
    assert!(body["revision"].as_u64().unwrap() >= 4, "{body}");
    let sessions = body["sessions"].as_array().unwrap();
    let ids: Vec<&str> = sessions
        .iter()
        .map(|s| s["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [new.as_str(), old.as_str()], "newest first");
    let older = &sessions[1];
    assert_eq!(older["name"], "older");
    assert_eq!(older["source"], "web-tests");
    assert_eq!(older["start_time"], json!(T0));
    assert_eq!(older["events"], 4);
    assert_eq!(older["model_events"], 2);
    assert_eq!(
        older["tokens"],
        17 + 23,
        "total_tokens, else prompt + completion"
    );
    assert_eq!(older["errors"], 1);
    assert_eq!(older["error"], Value::Null);
    // No end of its own: from its start to the last end of its events (the tool's start +
    // duration).
    assert_eq!(older["duration"], json!(161.0));
    let newer = &sessions[0];
    assert_eq!(
        (newer["events"].clone(), newer["tokens"].clone()),
        (json!(0), json!(0))
    );
}

#[tokio::test]
async fn a_session_is_its_summary_and_a_row_per_event() {
    let server = Emulator::builder().start().unwrap();
    let (old, _) = two_sessions(&server).await;
    let body = get(&format!("{}/api/sessions/{old}", server.url()), &[])
        .await
        .json();
    assert_eq!(body["session"]["session_id"], json!(old));
    let rows = body["events"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["plan", "chat", "chat again", "lookup"],
        "arrival order"
    );
    let chain = rows[0]["id"].as_str().unwrap();
    assert_eq!(rows[0]["parent"], json!(old), "the server's default parent");
    assert_eq!(rows[1]["parent"], json!(chain));
    assert_eq!(
        rows[3]["parent"], "not-an-event",
        "as stored: the page hangs it under the session"
    );
    assert_eq!(rows[1]["type"], "model");
    assert_eq!(rows[2]["error"], true);
    assert_eq!(rows[1]["error"], false);
    assert_eq!(rows[3]["end"], json!(T0 + 161.0), "start + duration");
    for row in rows {
        // Sorted: serde_json keeps a map's order of insertion when a crate in the build turns on
        // its `preserve_order` (the workspace's test command does).
        let mut keys: Vec<&String> = row.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            ["end", "error", "id", "name", "parent", "start", "type"],
            "no bodies"
        );
    }
    // The id is found in any case, as the API's own routes find it.
    let upper = get(
        &format!("{}/api/sessions/{}", server.url(), old.to_uppercase()),
        &[],
    )
    .await;
    assert_eq!(upper.status, 200);
}

#[tokio::test]
async fn one_event_comes_whole_and_the_session_downloads() {
    let server = Emulator::builder().start().unwrap();
    let (old, _) = two_sessions(&server).await;
    let body = get(&format!("{}/api/sessions/{old}", server.url()), &[])
        .await
        .json();
    let chat = body["events"][1]["id"].as_str().unwrap().to_owned();
    let event = get(
        &format!("{}/api/sessions/{old}/events/{chat}", server.url()),
        &[],
    )
    .await;
    assert_eq!(event.status, 200);
    let event = event.json();
    assert_eq!(
        event["inputs"]["chat_history"][0]["content"],
        "Where is my order?"
    );
    assert_eq!(event["outputs"]["content"], "On its way.");
    assert_eq!(event["metadata"]["total_tokens"], 17);
    let own = get(
        &format!("{}/api/sessions/{old}/events/{old}", server.url()),
        &[],
    )
    .await
    .json();
    assert_eq!(own["event_type"], "session");

    let download = get(&format!("{}/api/sessions/{old}/export", server.url()), &[]).await;
    assert_eq!(download.status, 200);
    assert_eq!(
        download.header("content-disposition"),
        Some(format!("attachment; filename=\"session-{old}.json\"").as_str())
    );
    let tree = download.json();
    let api = get(&format!("{}/v1/sessions/{old}", server.url()), &[])
        .await
        .json();
    assert_eq!(tree, api, "the same tree as GET /v1/sessions/{{id}}");
    assert_eq!(tree["children"][0]["children"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn unknown_sessions_and_events_are_404_with_the_error_body() {
    let server = Emulator::builder().start().unwrap();
    let (old, _) = two_sessions(&server).await;
    let missing = Uuid::new_v4();
    for path in [
        format!("/api/sessions/{missing}"),
        format!("/api/sessions/{missing}/export"),
        format!("/api/sessions/{old}/events/{missing}"),
        format!("/api/sessions/{missing}/events/{old}"),
        "/api/nothing".into(),
        "/assets/nothing.js".into(),
    ] {
        let reply = get(&format!("{}{path}", server.url()), &[]).await;
        assert_eq!(reply.status, 404, "{path}");
        assert!(
            reply.json()["message"].is_string(),
            "{path}: {}",
            reply.text
        );
    }
}

#[tokio::test]
async fn the_page_and_its_files_are_served_private_and_same_origin_only() {
    let server = Emulator::builder().start().unwrap();
    for (path, kind) in [
        ("/", "text/html; charset=utf-8"),
        ("/assets/app.mjs", "text/javascript; charset=utf-8"),
        ("/assets/model.mjs", "text/javascript; charset=utf-8"),
        ("/assets/app.css", "text/css; charset=utf-8"),
        ("/api/sessions", "application/json"),
    ] {
        let origin = [("origin", "https://evil.example")];
        let reply = get(&format!("{}{path}", server.url()), &origin).await;
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(reply.header("content-type"), Some(kind), "{path}");
        let csp = reply.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
        let cors: Vec<_> = reply
            .headers
            .keys()
            .filter(|k| k.as_str().starts_with("access-control-"))
            .collect();
        assert!(cors.is_empty(), "{path}: {cors:?}");
    }
    let page = get(&server.url(), &[]).await.text;
    assert!(page.contains("/assets/app.mjs"), "{page}");
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "nothing from elsewhere"
    );
}

#[tokio::test]
async fn the_view_is_neither_recorded_delayed_nor_faulted_like_the_api() {
    let server = Emulator::builder().start().unwrap();
    server.inject(Fault::status(503).times(5));
    server.set_latency(std::time::Duration::from_secs(30));
    for path in ["/", "/api/sessions", "/assets/app.css"] {
        let reply = get(&format!("{}{path}", server.url()), &[]).await;
        assert_eq!(reply.status, 200, "{path}");
    }
    assert!(
        server.requests().is_empty(),
        "what clients sent stays what they sent"
    );
    server.set_latency(std::time::Duration::ZERO);
    let id = Uuid::new_v4().to_string();
    let create = crate::http()
        .post(format!("{}/v1/sessions", server.url()))
        .json(&json!({"session_id": id}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        create.status(),
        503,
        "the API's faults still apply to the API"
    );
    assert_eq!(server.requests().len(), 1);
}
