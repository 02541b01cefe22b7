//! The requests HoneyHive's Python SDK (1.7.0) sends besides its OTLP export, replayed from the
//! fixtures captured from the SDK itself (`tests/fixtures/honeyhive_python_sdk/`): its session
//! start (`POST /session/start`) and `enrich_session` (`PUT /events`), with the SDK's own headers
//! and key. Each makes the same stored session as the REST route it stands for.

use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::{Value, json};
use tracing_honeyhive::emulator::{Emulator, KeyRefusal};
use tracing_honeyhive::wire::EventRecord;
use uuid::Uuid;

use crate::{Api, Reply, assert_fresh_uuid_v4};

const SESSION_START: &str = include_str!("../fixtures/honeyhive_python_sdk/session_start.json");
const ENRICH_SESSION: &str = include_str!("../fixtures/honeyhive_python_sdk/enrich_session.json");
const REQUESTS: &str = include_str!("../fixtures/honeyhive_python_sdk/requests.json");

/// The key the SDK was run with (`HH_API_KEY=test-key`), which its requests carry.
const SDK_KEY: &str = "test-key";

/// The session id the capture server handed the SDK, which it then used everywhere.
const CAPTURED_SESSION_ID: &str = "b6d91b84-935b-473b-9501-b8db198bebe1";

/// A server requiring the SDK's key.
fn sdk_api() -> Api {
    sdk_api_with(Emulator::builder())
}

fn sdk_api_with(builder: tracing_honeyhive::emulator::Builder) -> Api {
    Api {
        server: builder
            .with_api_key(SDK_KEY)
            .start()
            .expect("the local server starts"),
        http: crate::common::raw_http(),
        key: Some(SDK_KEY),
    }
}

/// The headers the SDK sent with its `method` request to `path`, as captured, less those the
/// HTTP client sets itself for this connection.
fn sdk_headers(method: &str, path: &str) -> Vec<(String, String)> {
    let captured: Value = serde_json::from_str(REQUESTS).expect("requests.json is JSON");
    let request = captured["requests"]
        .as_array()
        .expect("a list of requests")
        .iter()
        .find(|r| r["method"] == method && r["path"] == path)
        .unwrap_or_else(|| panic!("the SDK sent {method} {path}"));
    let headers = request["headers"].as_object().expect("headers");
    headers
        .iter()
        .filter(|(name, _)| {
            let name = name.to_ascii_lowercase();
            !["host", "content-length", "connection", "accept-encoding"].contains(&name.as_str())
        })
        .map(|(name, value)| (name.clone(), value.as_str().unwrap_or_default().to_owned()))
        .collect()
}

/// Sends `body` to `path` as the SDK sent its `method` request there: same headers, same key.
async fn as_the_sdk(
    api: &Api,
    method: Method,
    path: &str,
    body: impl Into<reqwest::Body>,
) -> Reply {
    let mut request = api.http.request(method.clone(), api.url(path)).body(body);
    for (name, value) in sdk_headers(method.as_str(), path) {
        request = request.header(
            HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
            HeaderValue::from_str(&value).expect("a header value"),
        );
    }
    Reply::of(request).await
}

/// The SDK's session start, replayed; the id the server answered, which the SDK adopts.
async fn start_as_the_sdk(api: &Api) -> String {
    let reply = as_the_sdk(api, Method::POST, "/session/start", SESSION_START).await;
    let answer = reply.ok("create-session-response.json");
    // The SDK validates the answer as `PostSessionStartResponse`, whose required fields are
    // these strings, and adopts `session_id` without checking it: it must be a UUID.
    for key in [
        "event_id",
        "session_id",
        "org_id",
        "workspace_id",
        "project_id",
    ] {
        assert!(answer[key].is_string(), "{key} in {answer}");
    }
    let session_id = answer["session_id"].as_str().unwrap().to_owned();
    assert_fresh_uuid_v4(&session_id);
    assert_eq!(answer["event_id"], json!(session_id));
    session_id
}

/// The SDK's `enrich_session` body, aimed at `session_id` as the SDK aims it at the session it
/// was given.
fn enrichment_for(session_id: &str) -> String {
    assert!(
        ENRICH_SESSION.contains(CAPTURED_SESSION_ID),
        "the fixture targets the captured session"
    );
    ENRICH_SESSION.replace(CAPTURED_SESSION_ID, session_id)
}

/// `record` without what differs between two sessions made the same way: ids and times.
fn comparable(mut record: EventRecord) -> EventRecord {
    record.event_id = None;
    record.session_id = None;
    record.start_time = None;
    record
}

#[test]
fn the_fixtures_are_what_the_sdk_sent() {
    let start: Value = serde_json::from_str(SESSION_START).unwrap();
    assert_eq!(
        start,
        json!({"session": {"session_name": "capture-demo", "source": "capture", "project": "demo"}})
    );
    let enrichment: Value = serde_json::from_str(ENRICH_SESSION).unwrap();
    assert_eq!(enrichment["event_id"], json!(CAPTURED_SESSION_ID));
    let captured: Value = serde_json::from_str(REQUESTS).unwrap();
    assert_eq!(captured["sdk_version"], json!("1.7.0"));
    let sent: Vec<String> = captured["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["method"].as_str().unwrap(),
                r["path"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        sent,
        [
            "POST /session/start",
            "PUT /events",
            "POST /opentelemetry/v1/traces"
        ],
        "a traced run makes these requests, in this order"
    );
}

#[tokio::test]
async fn the_sdk_session_start_creates_its_session() {
    let api = sdk_api();
    let session_id = start_as_the_sdk(&api).await;
    let stored = api
        .server
        .session(&session_id)
        .expect("the session is stored");
    assert_eq!(stored.event_type.as_deref(), Some("session"));
    assert_eq!(stored.event_name.as_deref(), Some("capture-demo"));
    assert_eq!(stored.source.as_deref(), Some("capture"));
    assert_eq!(
        stored.extra.get("session_name"),
        Some(&json!("capture-demo"))
    );
    assert!(
        !stored.extra.contains_key("project"),
        "the legacy project key is ignored: the key names the project"
    );
    assert_eq!(api.server.sessions().len(), 1);
    assert!(api.server.events().is_empty());
}

#[tokio::test]
async fn the_sdk_session_start_makes_the_session_post_v1_sessions_makes() {
    let api = sdk_api();
    let legacy = start_as_the_sdk(&api).await;
    let start: Value = serde_json::from_str(SESSION_START).unwrap();
    let mut session = start["session"].clone();
    // `project` is not part of the v1 body; the key names the project there too.
    session.as_object_mut().unwrap().remove("project");
    let created = api.create_session(session).await;
    let rest = created["session_id"].as_str().unwrap();
    assert_ne!(rest, legacy);
    assert_eq!(
        comparable(api.server.session(&legacy).unwrap()),
        comparable(api.server.session(rest).unwrap())
    );
}

#[tokio::test]
async fn the_sdk_session_start_keeps_a_session_id_it_is_given() {
    let api = sdk_api();
    // `HoneyHiveTracer.init(session_id=...)` sends the id in the same body.
    let body = SESSION_START.replacen(
        "{\"session_name\"",
        &format!("{{\"session_id\":\"{CAPTURED_SESSION_ID}\",\"session_name\""),
        1,
    );
    let reply = as_the_sdk(&api, Method::POST, "/session/start", body.clone()).await;
    let answer = reply.ok("create-session-response.json");
    assert_eq!(answer["session_id"], json!(CAPTURED_SESSION_ID));
    // Starting it again (a second tracer on the same session) changes nothing.
    as_the_sdk(&api, Method::POST, "/session/start", body)
        .await
        .ok("create-session-response.json");
    assert_eq!(api.server.sessions().len(), 1);
}

#[tokio::test]
async fn the_sdk_enrich_session_updates_its_session() {
    let api = sdk_api();
    let session_id = start_as_the_sdk(&api).await;
    let reply = as_the_sdk(&api, Method::PUT, "/events", enrichment_for(&session_id)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    // The SDK parses the answer as JSON (and then ignores it).
    assert_eq!(reply.json(), json!({"success": true}));
    let stored = api.server.session(&session_id).unwrap();
    assert_eq!(
        stored.metadata,
        Some(json!({"run": "capture", "inputs": {"question": "What is the weather in Paris?"}}))
    );
    assert_eq!(stored.feedback, Some(json!({"rating": 5})));
    assert_eq!(stored.metrics, Some(json!({"turns": 1})));
    assert_eq!(stored.outputs, Some(json!({"answer": "Sunny, 21 °C."})));
    assert_eq!(stored.user_properties, Some(json!({"user_id": "user-1"})));
    assert_eq!(stored.event_name.as_deref(), Some("capture-demo"));
    assert_eq!(api.server.sessions().len(), 1);
    assert!(api.server.events().is_empty(), "an update adds no event");
}

#[tokio::test]
async fn the_sdk_enrich_session_is_the_update_put_v1_events_makes() {
    let api = sdk_api();
    let legacy = start_as_the_sdk(&api).await;
    let rest = start_as_the_sdk(&api).await;
    as_the_sdk(&api, Method::PUT, "/events", enrichment_for(&legacy)).await;
    let mut body: Value = serde_json::from_str(ENRICH_SESSION).unwrap();
    body.as_object_mut().unwrap().remove("event_id");
    let reply = api.put(&format!("/v1/events/{rest}"), body).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        comparable(api.server.session(&legacy).unwrap()),
        comparable(api.server.session(&rest).unwrap())
    );
}

#[tokio::test]
async fn enriching_twice_merges_as_the_sdk_expects() {
    let api = sdk_api();
    let session_id = start_as_the_sdk(&api).await;
    as_the_sdk(&api, Method::PUT, "/events", enrichment_for(&session_id)).await;
    // A later `enrich_session(metadata=..., outputs=...)`: objects merge, outputs replace.
    let later = json!({
        "event_id": session_id,
        "metadata": {"run": "second"},
        "outputs": {"answer": "Cloudy."},
    });
    let reply = as_the_sdk(&api, Method::PUT, "/events", later.to_string()).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let stored = api.server.session(&session_id).unwrap();
    assert_eq!(
        stored.metadata,
        Some(json!({"run": "second", "inputs": {"question": "What is the weather in Paris?"}}))
    );
    assert_eq!(stored.outputs, Some(json!({"answer": "Cloudy."})));
    assert_eq!(stored.feedback, Some(json!({"rating": 5})));
}

#[tokio::test]
async fn enriching_a_session_the_server_never_started_is_404() {
    // What happens when the SDK's session start failed: it makes up a UUID and enriches that.
    let api = sdk_api();
    let made_up = Uuid::new_v4().to_string();
    let reply = as_the_sdk(&api, Method::PUT, "/events", enrichment_for(&made_up)).await;
    assert_eq!(reply.refused(404), "Event not found");
    assert!(api.server.sessions().is_empty(), "nothing is created");
}

#[tokio::test]
async fn the_sdk_requests_need_the_key() {
    let api = sdk_api();
    let session_id = start_as_the_sdk(&api).await;
    let before = api.server.session(&session_id).unwrap();
    for (method, path, body) in [
        (Method::POST, "/session/start", SESSION_START.to_owned()),
        (Method::PUT, "/events", enrichment_for(&session_id)),
    ] {
        let bare = api
            .http
            .request(method.clone(), api.url(path))
            .header("content-type", "application/json")
            .body(body.clone());
        let message = Reply::of(bare).await.refused(401);
        assert_eq!(message, "Missing Authorization header", "{method} {path}");
        for authorization in [
            "Bearer other-key",
            "Bearer test-key2",
            "test-key",
            "Bearer ",
        ] {
            let wrong = api
                .http
                .request(method.clone(), api.url(path))
                .header("authorization", authorization)
                .body(body.clone());
            let message = Reply::of(wrong).await.refused(401);
            assert_eq!(
                message, "Invalid API key",
                "{method} {path} {authorization:?}"
            );
        }
    }
    assert_eq!(api.server.sessions().len(), 1, "no refused start is stored");
    assert_eq!(
        api.server.session(&session_id).unwrap(),
        before,
        "no refused update is applied"
    );
}

#[tokio::test]
async fn a_refused_sdk_key_is_404_when_asked() {
    let api = sdk_api_with(Emulator::builder().with_key_refusal(KeyRefusal::NotFound));
    let wrong = api
        .http
        .post(api.url("/session/start"))
        .bearer_auth("hh_revoked")
        .body(SESSION_START);
    assert_eq!(Reply::of(wrong).await.refused(404), "Not found");
    assert!(api.server.sessions().is_empty());
    start_as_the_sdk(&api).await;
}

#[tokio::test]
async fn a_cut_short_session_start_is_400() {
    let api = sdk_api();
    for end in 0..SESSION_START.len() {
        let cut = SESSION_START.as_bytes()[..end].to_vec();
        let reply = as_the_sdk(&api, Method::POST, "/session/start", cut).await;
        assert_eq!(reply.status, 400, "cut at {end}: {}", reply.text);
        reply.error_message();
    }
    assert!(api.server.sessions().is_empty());
}

#[tokio::test]
async fn a_cut_short_enrichment_is_400_and_changes_nothing() {
    let api = sdk_api();
    let session_id = start_as_the_sdk(&api).await;
    let before = api.server.session(&session_id).unwrap();
    let body = enrichment_for(&session_id);
    // Every prefix, including those ending inside the two bytes of "°".
    for end in 0..body.len() {
        let cut = body.as_bytes()[..end].to_vec();
        let reply = as_the_sdk(&api, Method::PUT, "/events", cut).await;
        assert_eq!(reply.status, 400, "cut at {end}: {}", reply.text);
        reply.error_message();
    }
    assert_eq!(api.server.session(&session_id).unwrap(), before);
}

#[tokio::test]
async fn misshapen_sdk_bodies_are_400() {
    let api = sdk_api();
    let session_id = start_as_the_sdk(&api).await;
    let before = api.server.session(&session_id).unwrap();
    let starts = [
        json!(null),
        json!([]),
        json!("session"),
        json!({"session": null}),
        json!({"session": 5}),
        json!({"session": []}),
        json!({"session": {"session_name": 5}}),
        json!({"session": {"session_name": "x", "inputs": "text"}}),
        json!({"session": {"session_name": "x", "metadata": [1]}}),
        json!({"session": {"session_name": "x", "children_ids": "a"}}),
    ];
    for body in starts {
        let reply = as_the_sdk(&api, Method::POST, "/session/start", body.to_string()).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.text);
        reply.error_message();
    }
    let updates = [
        json!({}),
        json!([session_id]),
        json!({"event_id": null}),
        json!({"event_id": 5}),
        json!({"event_id": [session_id]}),
        json!({"event_id": session_id, "metadata": "x"}),
        json!({"event_id": session_id, "feedback": [1]}),
        json!({"event_id": session_id, "metrics": 1}),
        json!({"event_id": session_id, "outputs": "done"}),
        json!({"event_id": session_id, "user_properties": true}),
        json!({"event_id": session_id, "duration": "long"}),
    ];
    for body in updates {
        let reply = as_the_sdk(&api, Method::PUT, "/events", body.to_string()).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.text);
        reply.error_message();
    }
    for garbage in [
        &b"\xff\xfe{"[..],
        b"{\"session\": {\"session_name\": \"\xc3\"}}",
        b"",
    ] {
        for (method, path) in [(Method::POST, "/session/start"), (Method::PUT, "/events")] {
            let reply = as_the_sdk(&api, method, path, garbage.to_vec()).await;
            assert_eq!(reply.status, 400, "{path} {garbage:?}: {}", reply.text);
        }
    }
    assert_eq!(api.server.sessions().len(), 1);
    assert_eq!(api.server.session(&session_id).unwrap(), before);
}
