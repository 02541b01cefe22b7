//! `GET /v1/sessions/{session_id}`: the session as a tree of events (§8).

use serde_json::{Value, json};
use uuid::Uuid;

use crate::Api;

/// A session with `chain` (two children: `model`, `tool`), a root-level `model`, and a `tool`
/// under `model`; (session id, event ids by name).
async fn nested_session(api: &Api) -> (String, Vec<(&'static str, String)>) {
    let session_id = api.new_session().await;
    let ids: Vec<(&str, String)> = ["chain", "model", "tool", "root model", "deep tool"]
        .into_iter()
        .map(|name| (name, Uuid::new_v4().to_string()))
        .collect();
    let id = |name: &str| ids.iter().find(|(n, _)| *n == name).unwrap().1.clone();
    let node = |event_type: &str, name: &str, parent: Option<String>, start: u64| {
        let mut event = json!({
            "event_type": event_type,
            "event_id": id(name),
            "event_name": name,
            "inputs": {},
            "start_time": start,
            "end_time": start + 10,
        });
        if let Some(parent) = parent {
            event["parent_id"] = json!(parent);
        }
        event
    };
    // Children arrive before their parent, as spans close inner-first.
    let events = json!([
        node("tool", "deep tool", Some(id("model")), 1_030),
        node("model", "model", Some(id("chain")), 1_010),
        node("tool", "tool", Some(id("chain")), 1_050),
        node("chain", "chain", Some(session_id.clone()), 1_000),
        node("model", "root model", None, 1_100),
    ]);
    api.batch(&session_id, events)
        .await
        .ok("session-event-batch-response.json");
    (session_id, ids)
}

fn children(node: &Value) -> &Vec<Value> {
    node["children"].as_array().expect("children is an array")
}

fn names(nodes: &[Value]) -> Vec<&str> {
    nodes
        .iter()
        .map(|n| n["event_name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn session_tree_nests_events_under_their_parents() {
    let api = Api::new();
    let (session_id, _) = nested_session(&api).await;
    let tree = api
        .get(&format!("/v1/sessions/{session_id}"))
        .await
        .ok("get-session-response.json");
    assert_eq!(tree["event_id"], json!(session_id));
    assert_eq!(tree["event_type"], json!("session"));
    let top = children(&tree);
    assert_eq!(names(top), ["chain", "root model"]);
    let under_chain = children(&top[0]);
    assert_eq!(names(under_chain), ["model", "tool"]);
    assert_eq!(names(children(&under_chain[0])), ["deep tool"]);
    assert!(children(&under_chain[1]).is_empty());
    assert!(children(&top[1]).is_empty());
    assert_eq!(top[0]["event_type"], json!("chain"));
    assert_eq!(under_chain[0]["event_type"], json!("model"));
    assert_eq!(under_chain[1]["event_type"], json!("tool"));
}

#[tokio::test]
async fn session_tree_root_metadata_counts_events() {
    let api = Api::new();
    let (session_id, _) = nested_session(&api).await;
    let tree = api
        .get(&format!("/v1/sessions/{session_id}"))
        .await
        .ok("get-session-response.json");
    assert_eq!(tree["metadata"]["num_events"], json!(5));
    assert_eq!(tree["metadata"]["num_model_events"], json!(2));
    assert_eq!(tree["metadata"]["has_feedback"], json!(false));
}

#[tokio::test]
async fn session_tree_matches_the_inspection_api_and_its_schema() {
    let api = Api::new();
    let (session_id, _) = nested_session(&api).await;
    let empty = api.new_session().await;
    for id in [&session_id, &empty] {
        let tree = api
            .get(&format!("/v1/sessions/{id}"))
            .await
            .ok("get-session-response.json");
        let inspected = serde_json::to_value(api.server.tree(id).unwrap()).unwrap();
        assert_eq!(tree, inspected);
    }
}

#[tokio::test]
async fn session_tree_of_unknown_session_is_404() {
    let api = Api::new();
    api.new_session().await;
    for id in [Uuid::new_v4().to_string(), "not-a-uuid".to_owned()] {
        let reply = api.get(&format!("/v1/sessions/{id}")).await;
        assert_eq!(reply.refused(404), "Session not found");
    }
}
