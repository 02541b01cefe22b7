//! Deeply nested JSON: HoneyHive (Node.js) accepts any nesting, so the local server accepts every
//! body nested up to `MAX_JSON_DEPTH` levels, far past serde_json's default limit of 128, stores
//! it and answers it without overflowing a stack; a deeper body is a 400 naming the limit.
//!
//! Deep bodies are built and inspected as text or with iterative walks: serde_json's own parse,
//! clone, serialise and drop recurse once per level, too deep for a test thread's stack.

use reqwest::Method;
use serde_json::Value;
use tracing_honeyhive::emulator::MAX_JSON_DEPTH;
use uuid::Uuid;

use crate::{Api, Reply, assert_names};

/// A stack large enough for serde_json to clone, compare or drop values nested past
/// [`MAX_JSON_DEPTH`] in a debug build.
const LARGE_STACK: usize = 128 * 1024 * 1024;

/// JSON text nested `depth` levels: objects (`{"a": …}`) and arrays in turn, around `1`.
fn nested(depth: usize) -> String {
    let mut text = String::with_capacity(depth * 5 + 1);
    for level in 0..depth {
        text.push_str(if level % 2 == 0 { "{\"a\":" } else { "[" });
    }
    text.push('1');
    for level in (0..depth).rev() {
        text.push(if level % 2 == 0 { '}' } else { ']' });
    }
    text
}

/// How deeply `text` (valid JSON) nests arrays and objects; a scalar is depth 0.
fn text_depth(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for byte in text.bytes() {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// How deeply `value` nests arrays and objects, walked without recursion.
fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(value, 1)];
    while let Some((value, level)) = pending.pop() {
        match value {
            Value::Array(items) => {
                deepest = deepest.max(level);
                pending.extend(items.iter().map(|item| (item, level + 1)));
            }
            Value::Object(map) => {
                deepest = deepest.max(level);
                pending.extend(map.values().map(|item| (item, level + 1)));
            }
            _ => {}
        }
    }
    deepest
}

/// Drops `value` on a thread with a large stack: serde_json's `Value` drops recursively.
fn drop_deep<T: Send + 'static>(value: T) {
    std::thread::Builder::new()
        .stack_size(LARGE_STACK)
        .spawn(move || drop(value))
        .expect("a thread starts")
        .join()
        .expect("the value drops");
}

async fn send(api: &Api, method: Method, path: &str, body: String) -> Reply {
    api.send_raw(method, path, body).await
}

/// Asserts a 200 whose body nests exactly `expected` levels.
fn assert_ok_with_depth(reply: &Reply, expected: usize, what: &str) {
    assert_eq!(reply.status, 200, "{what}: {}", excerpt(&reply.text));
    assert_eq!(text_depth(&reply.text), expected, "{what}: answer depth");
}

fn excerpt(text: &str) -> String {
    text.chars().take(300).collect()
}

#[tokio::test]
async fn values_nested_past_serde_jsons_limit_are_stored_and_read_back() {
    let api = Api::new();
    for d in [129, 1_000, 10_000] {
        let session_id = Uuid::new_v4().to_string();
        let deep = nested(d);
        // The answer is the session record: {…, "inputs": {"v": <d levels>}, …}.
        let create = format!(
            r#"{{"session_id": "{session_id}", "session_name": "deep", "inputs": {{"v": {deep}}}}}"#
        );
        let reply = send(&api, Method::POST, "/v1/sessions", create).await;
        assert_ok_with_depth(&reply, d + 2, &format!("create, depth {d}"));

        let event_id = Uuid::new_v4().to_string();
        let batch = format!(
            r#"{{"events": [{{"event_id": "{event_id}", "event_type": "tool",
                "inputs": {{"v": {deep}}}, "outputs": {{"v": {deep}}}}}]}}"#
        );
        let path = format!("/v1/sessions/{session_id}/events/batch");
        let reply = send(&api, Method::POST, &path, batch).await;
        assert_eq!(
            reply.status,
            200,
            "batch, depth {d}: {}",
            excerpt(&reply.text)
        );

        let update = format!(r#"{{"metadata": {{"v": {deep}}}, "duration": 5}}"#);
        let path = format!("/v1/events/{event_id}");
        let reply = send(&api, Method::PUT, &path, update).await;
        assert_eq!(
            reply.status,
            200,
            "update, depth {d}: {}",
            excerpt(&reply.text)
        );

        let session = api
            .server
            .session(&session_id)
            .expect("the session is stored");
        assert_eq!(session.inputs.as_ref().map(depth), Some(d + 1));
        let events = api.server.events_of(&session_id);
        assert_eq!(events.len(), 1, "depth {d}");
        let event = &events[0];
        for (field, value) in [
            ("inputs", &event.inputs),
            ("outputs", &event.outputs),
            ("metadata", &event.metadata),
        ] {
            assert_eq!(value.as_ref().map(depth), Some(d + 1), "{field}, depth {d}");
        }
        assert_eq!(event.duration, Some(5.0));
        let tree = api.server.tree(&session_id).expect("the tree is built");
        assert_eq!(tree.children.len(), 1);
        assert_eq!(
            tree.children[0].event.inputs.as_ref().map(depth),
            Some(d + 1)
        );
        drop_deep((session, events, tree));

        // The tree over HTTP: {"children": [{"inputs": {"v": <d levels>}}]}.
        let reply = api.get(&format!("/v1/sessions/{session_id}")).await;
        assert_ok_with_depth(&reply, d + 4, &format!("GET tree, depth {d}"));

        let recorded = api.server.requests();
        let parsed = recorded[recorded.len() - 2].json();
        assert_eq!(
            parsed.as_ref().map(depth),
            Some(d + 2),
            "RecordedRequest::json"
        );
        drop_deep(parsed);
    }
    let deep = nested(10_000);
    let stored = api.server.events();
    assert_eq!(stored.len(), 3);
    drop_deep(stored);
    // Forgetting and dropping the server let go of the deep values without overflowing.
    api.server.clear();
    let reply = send(
        &api,
        Method::POST,
        "/v1/sessions",
        format!(r#"{{"metadata": {{"v": {deep}}}}}"#),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", excerpt(&reply.text));
}

#[tokio::test]
async fn every_route_accepts_deep_values_in_any_json_field() {
    let api = Api::new();
    let deep = nested(10_000);
    let session_id = api.new_session().await;
    let event_id = Uuid::new_v4().to_string();
    let encoded = serde_json::to_string(&format!(r#"{{"inputs": {{"v": {deep}}}}}"#))
        .expect("a string serialises");
    let requests = [
        (
            Method::POST,
            "/session/start".to_owned(),
            format!(r#"{{"session": {{"metadata": {{"v": {deep}}}}}}}"#),
        ),
        (
            Method::POST,
            "/session/start".to_owned(),
            format!(r#"{{"session": {encoded}}}"#),
        ),
        (
            Method::POST,
            "/v1/events/batch".to_owned(),
            format!(
                r#"{{"events": [{{"event_id": "{event_id}", "session_id": "{session_id}",
                    "event_type": "chain", "inputs": {{"v": {deep}}}}}],
                    "session_properties": {{"config": {{"v": {deep}}}}}}}"#
            ),
        ),
        (
            Method::POST,
            "/events/batch".to_owned(),
            format!(
                r#"{{"events": [{{"event_type": "model", "feedback": {{"v": {deep}}}}}],
                    "is_single_session": true, "session": {{"user_properties": {{"v": {deep}}}}}}}"#
            ),
        ),
        (
            Method::PUT,
            "/events".to_owned(),
            format!(r#"{{"event_id": "{event_id}", "outputs": {{"v": {deep}}}}}"#),
        ),
        (
            Method::PUT,
            format!("/v1/events/{session_id}"),
            format!(r#"{{"feedback": {{"v": {deep}}}, "metrics": {{"v": {deep}}}}}"#),
        ),
    ];
    for (method, path, body) in requests {
        let reply = send(&api, method.clone(), &path, body).await;
        assert_eq!(
            reply.status,
            200,
            "{method} {path}: {}",
            excerpt(&reply.text)
        );
    }
    let sessions = api.server.sessions();
    let deepest = sessions
        .iter()
        .flat_map(|s| [&s.inputs, &s.metadata, &s.user_properties, &s.feedback])
        .filter_map(|v| v.as_ref().map(depth))
        .max();
    assert_eq!(deepest, Some(10_001), "a session stored a deep value");
    let events = api.server.events();
    let outputs = events
        .iter()
        .find(|e| e.event_id.as_deref() == Some(event_id.as_str()))
        .and_then(|e| e.outputs.as_ref())
        .map(depth);
    assert_eq!(outputs, Some(10_001), "the update stored its outputs");
    drop_deep((sessions, events));
}

#[tokio::test]
async fn a_body_nested_past_the_limit_is_400_naming_the_limit() {
    let api = Api::new();
    let limit = MAX_JSON_DEPTH.to_string();
    // At the limit: the body's own object, `inputs`, then the value.
    let at_limit = format!(r#"{{"inputs": {{"v": {}}}}}"#, nested(MAX_JSON_DEPTH - 2));
    assert_eq!(text_depth(&at_limit), MAX_JSON_DEPTH);
    let reply = send(&api, Method::POST, "/v1/sessions", at_limit).await;
    assert_eq!(reply.status, 200, "{}", excerpt(&reply.text));

    let session_id = api.new_session().await;
    let one_more = format!(r#"{{"inputs": {{"v": {}}}}}"#, nested(MAX_JSON_DEPTH - 1));
    let batch_path = format!("/v1/sessions/{session_id}/events/batch");
    let far_too_deep = format!(
        r#"{{"events": [{{"event_type": "tool", "inputs": {}"#,
        "[".repeat(1_000_000)
    );
    let encoded = serde_json::to_string(&one_more).expect("a string serialises");
    for (method, path, body) in [
        (Method::POST, "/v1/sessions", one_more.clone()),
        (Method::POST, batch_path.as_str(), far_too_deep),
        (Method::PUT, "/events", one_more.clone()),
        (
            Method::POST,
            "/session/start",
            format!(r#"{{"session": {encoded}}}"#),
        ),
    ] {
        let reply = send(&api, method.clone(), path, body).await;
        let message = reply.refused(400);
        assert_names(&message, &["nested", &limit, "levels"]);
    }
    let sessions = api.server.sessions();
    assert_eq!(sessions.len(), 2, "nothing more was stored");
    drop_deep(sessions);
    assert!(api.server.events().is_empty());
    assert!(
        api.server.requests().iter().all(|r| r.status != Some(500)),
        "no 500"
    );
    // Authentication still comes first.
    let unauthenticated = api
        .http
        .post(api.url("/v1/sessions"))
        .body("[".repeat(MAX_JSON_DEPTH + 1));
    Reply::of(unauthenticated).await.refused(401);
}
