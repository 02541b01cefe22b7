//! Body checks: JSON object, closed schemas, the `event_type` enum, required `inputs`, nulls
//! (§2, §3, §4, §7, §10 steps 3–4).

use reqwest::Method;
use serde_json::{Value, json};

use crate::{Api, assert_names, event};

#[tokio::test]
async fn body_that_is_not_json_is_400() {
    let api = Api::new();
    for body in ["", "{", "not json", "{\"session_name\": }", "{'a': 1}"] {
        let reply = api.send_raw(Method::POST, "/v1/sessions", body).await;
        let message = reply.refused(400);
        assert_names(&message, &["not valid JSON"]);
    }
    assert!(api.server.sessions().is_empty());
}

#[tokio::test]
async fn json_body_that_is_not_an_object_is_400_naming_what_it_got() {
    let api = Api::new();
    let session_id = api.new_session().await;
    let batch = format!("/v1/sessions/{session_id}/events/batch");
    for (body, got) in [
        ("[]", "an array"),
        ("[{\"events\": []}]", "an array"),
        ("\"text\"", "a string"),
        ("null", "null"),
        ("12", "a number"),
        ("true", "a boolean"),
    ] {
        for path in ["/v1/sessions", batch.as_str(), "/v1/events/batch"] {
            let message = api.send_raw(Method::POST, path, body).await.refused(400);
            assert_names(&message, &["must be a JSON object", got]);
        }
    }
}

#[tokio::test]
async fn unknown_top_level_field_on_create_session_is_400_naming_it() {
    let api = Api::new();
    for field in [
        "project",
        "metrics",
        "event_type",
        "error",
        "feedback",
        "sessionName",
    ] {
        let mut body = json!({"session_name": "s"});
        body[field] = json!("x");
        let message = api.post("/v1/sessions", body).await.refused(400);
        assert_names(&message, &[&format!("'{field}'"), "the top level"]);
    }
    assert!(api.server.sessions().is_empty());
}

#[tokio::test]
async fn unknown_event_field_in_a_batch_is_400_naming_it_with_its_path() {
    let api = Api::new();
    let session_id = api.new_session().await;
    for field in ["project", "model", "children", "messages", "usage"] {
        let mut bad = event("model");
        bad[field] = json!("x");
        let message = api.batch(&session_id, json!([bad])).await.refused(400);
        assert_names(&message, &["events[0]", &format!("'{field}'")]);
    }
    let mut second = event("tool");
    second["provider"] = json!("p");
    let events = json!([event("chain"), second]);
    let message = api.batch(&session_id, events).await.refused(400);
    assert_names(&message, &["events[1]", "'provider'"]);
    assert!(api.server.events().is_empty());
}

#[tokio::test]
async fn unknown_top_level_key_in_a_batch_body_is_400() {
    let api = Api::new();
    let session_id = api.new_session().await;
    let path = format!("/v1/sessions/{session_id}/events/batch");
    for key in ["session_id", "single_session", "project"] {
        let mut body = json!({"events": [event("chain")]});
        body[key] = json!("x");
        let message = api.post(&path, body).await.refused(400);
        assert_names(&message, &[&format!("'{key}'")]);
    }
    let message = api.post(&path, json!({})).await.refused(400);
    assert_names(&message, &["events"]);
    assert!(api.server.events().is_empty());
}

#[tokio::test]
async fn v1_events_batch_rejects_legacy_aliases_and_per_event_project() {
    let api = Api::new();
    let cases = [
        (
            json!({"events": [], "is_single_session": true}),
            "'is_single_session'",
        ),
        (
            json!({"events": [], "session": {"session_name": "s"}}),
            "'session'",
        ),
        (json!({"events": [], "project": "p"}), "'project'"),
    ];
    for (body, named) in cases {
        let message = api.post("/v1/events/batch", body).await.refused(400);
        assert_names(&message, &[named]);
    }
    let mut with_project = event("model");
    with_project["project"] = json!("p");
    let body = json!({"events": [with_project]});
    let message = api.post("/v1/events/batch", body).await.refused(400);
    assert_names(&message, &["events[0]", "'project'"]);
    assert!(api.server.events().is_empty());
}

#[tokio::test]
async fn invalid_event_type_is_400() {
    let api = Api::new();
    let session_id = api.new_session().await;
    for bad in [
        json!("llm"),
        json!("Model"),
        json!(""),
        json!(1),
        json!(null),
    ] {
        let events = json!([{"event_type": bad, "inputs": {}}]);
        let message = api.batch(&session_id, events).await.refused(400);
        assert_names(&message, &["events[0].event_type"]);
    }
    assert!(api.server.events().is_empty());
}

#[tokio::test]
async fn every_documented_event_type_is_accepted() {
    let api = Api::new();
    let session_id = api.new_session().await;
    let types = ["model", "tool", "chain", "session"];
    for event_type in types {
        api.batch(&session_id, json!([event(event_type)]))
            .await
            .ok("session-event-batch-response.json");
    }
    let stored: Vec<_> = api
        .server
        .events_of(&session_id)
        .into_iter()
        .map(|e| e.event_type.unwrap_or_default())
        .collect();
    assert_eq!(stored, types);
}

#[tokio::test]
async fn event_without_inputs_is_400() {
    let api = Api::new();
    let session_id = api.new_session().await;
    let events = json!([{"event_type": "chain", "event_name": "no inputs"}]);
    let message = api.batch(&session_id, events).await.refused(400);
    assert_names(&message, &["events[0]", "inputs"]);
    assert!(api.server.events().is_empty());
}

#[tokio::test]
async fn inputs_that_are_not_an_object_are_400() {
    let api = Api::new();
    let session_id = api.new_session().await;
    for inputs in [
        json!([]),
        json!(["a"]),
        json!("text"),
        json!(null),
        json!(3),
    ] {
        let events = json!([{"event_type": "chain", "inputs": inputs}]);
        let message = api.batch(&session_id, events).await.refused(400);
        assert_names(&message, &["events[0].inputs"]);
    }
    assert!(api.server.events().is_empty());
}

#[tokio::test]
async fn empty_inputs_object_is_accepted() {
    let api = Api::new();
    let session_id = api.new_session().await;
    let events = json!([{"event_type": "chain", "inputs": {}}]);
    api.batch(&session_id, events)
        .await
        .ok("session-event-batch-response.json");
    assert_eq!(api.server.events_of(&session_id)[0].inputs, Some(json!({})));
}

#[tokio::test]
async fn event_without_event_type_is_400() {
    let api = Api::new();
    let session_id = api.new_session().await;
    let events = json!([{"inputs": {"q": "?"}}]);
    let message = api.batch(&session_id, events).await.refused(400);
    assert_names(&message, &["events[0]", "event_type"]);
    assert!(api.server.events().is_empty());
}

#[tokio::test]
async fn null_where_the_type_does_not_allow_null_is_400() {
    let api = Api::new();
    let session_id = api.new_session().await;
    for field in [
        "metadata",
        "outputs",
        "event_name",
        "source",
        "event_id",
        "parent_id",
        "start_time",
        "duration",
        "children_ids",
    ] {
        let mut bad = event("tool");
        bad[field] = Value::Null;
        let message = api.batch(&session_id, json!([bad])).await.refused(400);
        assert_names(&message, &[&format!("events[0].{field}"), "null"]);
    }
    for field in ["metadata", "session_name", "inputs", "duration"] {
        let body = json!({ field: null });
        let message = api.post("/v1/sessions", body).await.refused(400);
        assert_names(&message, &[field, "null"]);
    }
    assert!(api.server.events().is_empty());
}

#[tokio::test]
async fn null_error_is_accepted() {
    let api = Api::new();
    let session_id = api.new_session().await;
    let mut with_null = event("model");
    with_null["error"] = Value::Null;
    let mut with_text = event("model");
    with_text["error"] = json!("rate limited");
    api.batch(&session_id, json!([with_null, with_text]))
        .await
        .ok("session-event-batch-response.json");
    let stored = api.server.events_of(&session_id);
    assert_eq!(stored[0].error, None);
    assert_eq!(stored[1].error.as_deref(), Some("rate limited"));
}
