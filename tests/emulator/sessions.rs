//! `POST /v1/sessions` and the deprecated `POST /session/start` (§3, §6).

use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use crate::{Api, assert_fresh_uuid_v4, assert_names, now_ms};

#[tokio::test]
async fn missing_session_id_is_generated() {
    let api = Api::new();
    let first = api.create_session(json!({"session_name": "a"})).await;
    let second = api.create_session(json!({})).await;
    let (first, second) = (first["session_id"].as_str(), second["session_id"].as_str());
    assert_fresh_uuid_v4(first.unwrap());
    assert_fresh_uuid_v4(second.unwrap());
    assert_ne!(first, second);
    assert_eq!(api.server.sessions().len(), 2);
}

#[tokio::test]
async fn non_uuid_session_id_is_replaced_by_a_fresh_uuid_v4() {
    let api = Api::new();
    for given in [
        "my-session",
        "",
        "1234",
        "00000000-0000-0000-0000-00000000000g",
    ] {
        let created = api.create_session(json!({"session_id": given})).await;
        let id = created["session_id"].as_str().unwrap();
        assert_fresh_uuid_v4(id);
        assert_ne!(id, given);
        assert_eq!(created["event_id"].as_str(), Some(id));
        assert!(api.server.session(id).is_some());
    }
}

#[tokio::test]
async fn valid_uuid_session_id_is_kept_lowercased() {
    let api = Api::new();
    let id = Uuid::new_v4().to_string();
    let created = api
        .create_session(json!({"session_id": id.to_uppercase()}))
        .await;
    assert_eq!(created["session_id"], json!(id));
    assert_eq!(
        created["event_id"],
        json!(id),
        "the session event id is its id"
    );
    let stored = api
        .server
        .session(&id)
        .expect("stored under the lowercase id");
    assert_eq!(stored.event_type.as_deref(), Some("session"));
}

#[tokio::test]
async fn session_event_name_falls_back_to_session_name_then_unknown() {
    let api = Api::new();
    let cases = [
        (json!({"event_name": "e", "session_name": "s"}), "e"),
        (json!({"session_name": "s"}), "s"),
        (json!({}), "unknown"),
    ];
    for (body, expected) in cases {
        let created = api.create_session(body).await;
        assert_eq!(created["event_name"], json!(expected));
        let stored = api.server.session(created["session_id"].as_str().unwrap());
        assert_eq!(stored.unwrap().event_name.as_deref(), Some(expected));
    }
}

#[tokio::test]
async fn session_source_defaults_to_unknown() {
    let api = Api::new();
    let created = api.create_session(json!({})).await;
    assert_eq!(created["source"], json!("unknown"));
    let created = api.create_session(json!({"source": "production"})).await;
    assert_eq!(created["source"], json!("production"));
}

#[tokio::test]
async fn non_numeric_session_times_are_replaced_by_now() {
    let api = Api::new();
    for bad in [
        json!("2024-01-01T00:00:00Z"),
        json!("1700000000000"),
        json!(true),
        json!({}),
    ] {
        let before = now_ms();
        let created = api
            .create_session(json!({"start_time": bad, "end_time": bad}))
            .await;
        let after = now_ms();
        for key in ["start_time", "end_time"] {
            let at = created[key]
                .as_f64()
                .unwrap_or_else(|| panic!("{key}: {created}"));
            assert!(
                before <= at && at <= after,
                "{key} {at} not in [{before}, {after}]"
            );
        }
    }
}

#[tokio::test]
async fn numeric_session_times_are_kept() {
    let api = Api::new();
    let created = api
        .create_session(
            json!({"start_time": 1_700_000_000_123_u64, "end_time": 1_700_000_000_456.5}),
        )
        .await;
    assert_eq!(created["start_time"].as_f64(), Some(1_700_000_000_123.0));
    assert_eq!(created["end_time"].as_f64(), Some(1_700_000_000_456.5));
}

#[tokio::test]
async fn repeated_create_returns_the_same_session_and_merges_metadata_shallowly() {
    let api = Api::new();
    let id = Uuid::new_v4().to_string();
    let first = api
        .create_session(json!({
            "session_id": id,
            "metadata": {"a": 1, "nested": {"x": 1, "y": 2}},
            "user_properties": {"user": "u1", "plan": "free"},
        }))
        .await;
    let second = api
        .create_session(json!({
            "session_id": id,
            "metadata": {"b": 2, "nested": {"z": 3}},
            "user_properties": {"plan": "pro"},
        }))
        .await;
    assert_eq!(second["session_id"], first["session_id"]);
    assert_eq!(second["event_id"], first["event_id"]);
    assert_eq!(second["start_time"], first["start_time"]);
    let merged_metadata = json!({"a": 1, "b": 2, "nested": {"z": 3}});
    let merged_users = json!({"user": "u1", "plan": "pro"});
    assert_eq!(second["metadata"], merged_metadata);
    assert_eq!(second["user_properties"], merged_users);
    let stored = api.server.session(&id).unwrap();
    assert_eq!(stored.metadata, Some(merged_metadata));
    assert_eq!(stored.user_properties, Some(merged_users));
}

#[tokio::test]
async fn repeated_create_does_not_apply_other_fields() {
    let api = Api::new();
    let id = Uuid::new_v4().to_string();
    let first = api
        .create_session(json!({
            "session_id": id,
            "session_name": "first",
            "source": "dev",
            "inputs": {"q": "one"},
            "start_time": 1000,
        }))
        .await;
    let second = api
        .create_session(json!({
            "session_id": id,
            "session_name": "second",
            "event_name": "renamed",
            "source": "prod",
            "inputs": {"q": "two"},
            "outputs": {"a": "done"},
            "config": {"model": "m"},
            "start_time": 2000,
            "end_time": 3000,
            "duration": 2000,
        }))
        .await;
    for key in [
        "event_name",
        "source",
        "inputs",
        "outputs",
        "config",
        "start_time",
        "end_time",
        "duration",
    ] {
        assert_eq!(second[key], first[key], "{key} changed");
    }
    let stored = api.server.session(&id).unwrap();
    assert_eq!(stored.event_name.as_deref(), Some("first"));
    assert_eq!(stored.inputs, Some(json!({"q": "one"})));
    assert_eq!(stored.start_time, Some(1000.0));
}

#[tokio::test]
async fn repeated_create_stores_one_session() {
    let api = Api::new();
    let id = Uuid::new_v4().to_string();
    for _ in 0..3 {
        api.create_session(json!({"session_id": id})).await;
    }
    api.create_session(json!({"session_id": id.to_uppercase()}))
        .await;
    assert_eq!(api.server.sessions().len(), 1);
    assert_eq!(api.server.requests().len(), 4);
}

#[tokio::test]
async fn legacy_session_start_accepts_an_object_with_old_sdk_keys() {
    let api = Api::new();
    let body = json!({"session": {
        "project": "legacy-project",
        "session_name": "old sdk",
        "source": "dev",
        "inputs": {"question": "?"},
        "error": null,
        "metrics": {},
        "feedback": {},
        "start_time": "later",
    }});
    let before = now_ms();
    let created = api
        .post("/session/start", body)
        .await
        .ok("create-session-response.json");
    let id = created["session_id"].as_str().unwrap();
    assert_fresh_uuid_v4(id);
    let stored = api.server.session(id).unwrap();
    assert_eq!(stored.event_name.as_deref(), Some("old sdk"));
    assert_eq!(stored.source.as_deref(), Some("dev"));
    assert_eq!(stored.inputs, Some(json!({"question": "?"})));
    assert!(
        stored.start_time.unwrap() >= before,
        "a string start_time becomes now"
    );
    assert!(
        !stored.extra.contains_key("project"),
        "the project key is ignored"
    );
}

#[tokio::test]
async fn legacy_session_start_accepts_a_json_encoded_string() {
    let api = Api::new();
    let id = Uuid::new_v4().to_string();
    let session = json!({"project": "p", "session_id": id, "session_name": "encoded"});
    let created = api
        .post("/session/start", json!({"session": session.to_string()}))
        .await
        .ok("create-session-response.json");
    assert_eq!(created["session_id"], json!(id));
    assert_eq!(created["event_name"], json!("encoded"));
    assert!(api.server.session(&id).is_some());
}

#[tokio::test]
async fn legacy_session_start_without_session_is_400() {
    let api = Api::new();
    for body in [
        json!({}),
        json!({"session_name": "flat"}),
        json!({"sessions": {}}),
    ] {
        let message = api.post("/session/start", body).await.refused(400);
        assert_names(&message, &["session"]);
    }
    let message = api
        .send_raw(Method::POST, "/session/start", "{\"session\": \"{oops\"}")
        .await
        .refused(400);
    assert_names(&message, &["session", "JSON"]);
    assert!(api.server.sessions().is_empty());
}
