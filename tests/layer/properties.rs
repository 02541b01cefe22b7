//! Property tests over random span trees and values: whatever the shape of the trace and whatever
//! the values recorded, every request body is valid against the vendored contract schemas, every
//! span lands once with the right parent, and the books balance.

use std::collections::HashMap;

use proptest::prelude::*;
use serde_json::Value;
use tracing::field::Empty;
use tracing_honeyhive::HoneyHiveSpanExt;

use crate::{Harness, PATIENCE};

/// One span of a random tree.
#[derive(Debug, Clone)]
struct Node {
    /// The parent's index (every node but the root has one, lower than its own).
    parent: usize,
    text: Option<String>,
    number: Option<i64>,
    float: Option<f64>,
    flag: Option<bool>,
    model: Option<String>,
    inputs: Option<Value>,
    outputs: Option<Value>,
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn node(index: usize) -> impl Strategy<Value = Node> {
    let parent = if index == 0 {
        Just(0).boxed()
    } else {
        (0..index).boxed()
    };
    (
        parent,
        proptest::option::of(any::<String>()),
        proptest::option::of(any::<i64>()),
        proptest::option::of(any::<f64>()),
        proptest::option::of(any::<bool>()),
        proptest::option::of("[a-z0-9.-]{1,20}"),
        proptest::option::of(json()),
        proptest::option::of(json()),
    )
        .prop_map(
            |(parent, text, number, float, flag, model, inputs, outputs)| Node {
                parent,
                text,
                number,
                float,
                flag,
                model,
                inputs,
                outputs,
            },
        )
}

fn tree() -> impl Strategy<Value = (Vec<Node>, Vec<usize>)> {
    (1usize..24).prop_flat_map(|size| {
        let nodes: Vec<_> = (0..size).map(node).collect();
        (
            nodes,
            Just((0..size).collect::<Vec<usize>>()).prop_shuffle(),
        )
    })
}

/// The bodies of every request, each checked against its contract schema.
fn assert_bodies_valid(harness: &Harness) {
    for request in harness.server.requests() {
        let schema = match (request.method.as_str(), request.path.as_str()) {
            ("POST", "/v1/sessions") => "create-session.json",
            ("POST", path) if path.ends_with("/events/batch") => "session-event-batch.json",
            ("PUT", _) => "update-event.json",
            other => panic!("unexpected request {other:?}"),
        };
        let body = request.json().expect("every body is JSON");
        let validator = crate::common::schema(schema);
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "{} {}: {errors:?}",
            request.method,
            request.path
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_tree_of_any_values_lands_whole_and_valid((nodes, close_order) in tree()) {
        let harness = Harness::new();
        harness.run(|| {
            let mut spans: Vec<tracing::Span> = Vec::new();
            for (i, node) in nodes.iter().enumerate() {
                let name = format!("n{i}");
                let span = if i == 0 {
                    tracing::info_span!(
                        "node", honeyhive.event_name = name.as_str(),
                        inputs.text = Empty, metadata.number = Empty, metrics.float = Empty,
                        outputs.flag = Empty, gen_ai.request.model = Empty,
                    )
                } else {
                    tracing::info_span!(
                        parent: &spans[node.parent], "node",
                        honeyhive.event_name = name.as_str(),
                        inputs.text = Empty, metadata.number = Empty, metrics.float = Empty,
                        outputs.flag = Empty, gen_ai.request.model = Empty,
                    )
                };
                if let Some(text) = &node.text { span.record("inputs.text", text.as_str()); }
                if let Some(n) = node.number { span.record("metadata.number", n); }
                if let Some(f) = node.float { span.record("metrics.float", f); }
                if let Some(b) = node.flag { span.record("outputs.flag", b); }
                if let Some(m) = &node.model { span.record("gen_ai.request.model", m.as_str()); }
                if let Some(v) = &node.inputs { span.set_inputs(v.clone()); }
                if let Some(v) = &node.outputs { span.set_outputs(v.clone()); }
                spans.push(span);
            }
            // Close in a random order: the registry closes a parent only after its children.
            let mut slots: Vec<Option<tracing::Span>> = spans.into_iter().map(Some).collect();
            for i in close_order {
                drop(slots[i].take());
            }
        });
        let report = match harness.guard.flush(PATIENCE) {
            Ok(report) => report,
            Err(error) => panic!("{error:?}"),
        };
        prop_assert_eq!(report.stats.delivered(), nodes.len() as u64, "{:?}", report);
        assert_bodies_valid(&harness);
        let sessions = harness.server.sessions();
        prop_assert_eq!(sessions.len(), 1);
        let session_id = sessions[0].session_id.clone().unwrap();
        let events = harness.server.events_of(&session_id);
        prop_assert_eq!(events.len(), nodes.len() - 1);
        prop_assert_eq!(harness.server.repeated_events(), 0);
        let ids: HashMap<String, String> = events
            .iter()
            .map(|e| (e.event_name.clone().unwrap(), e.event_id.clone().unwrap()))
            .collect();
        for event in &events {
            let name = event.event_name.as_deref().unwrap();
            let index: usize = name[1..].parse().unwrap();
            let parent = nodes[index].parent;
            let expected = if parent == 0 { session_id.clone() } else { ids[&format!("n{parent}")].clone() };
            prop_assert_eq!(event.parent_id.as_deref(), Some(expected.as_str()), "{}", name);
        }
        let (_, report) = harness.shutdown(PATIENCE);
        prop_assert_eq!(report.stats.pending(), 0);
        prop_assert_eq!(report.stats.lost(), 0, "{:?}", report.stats);
    }
}
