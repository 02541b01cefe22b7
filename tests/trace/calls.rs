use serde::Serialize;
use serde_json::json;
use tracing_honeyhive::trace;

use crate::{Harness, object};

#[derive(Debug, Serialize)]
struct Query {
    text: String,
    top_k: u32,
}

#[derive(Debug)]
struct OnlyDebug(#[allow(dead_code)] u8);

struct Neither;

#[derive(Debug, thiserror::Error)]
#[error("order {0} not found")]
struct NotFound(String);

#[trace(event_type = "tool", config.index = "orders", metadata.step = 2)]
fn lookup(
    query: &Query,
    debug: OnlyDebug,
    _client: &Neither,
    missing: Option<&str>,
) -> Result<Vec<String>, NotFound> {
    let _ = (debug, missing);
    if query.text.is_empty() {
        return Err(NotFound("(empty)".into()));
    }
    Ok(vec![format!("{}: shipped", query.text)])
}

#[trace]
fn turn(question: &str) -> String {
    let found = lookup(
        &Query {
            text: question.to_owned(),
            top_k: 3,
        },
        OnlyDebug(7),
        &Neither,
        None,
    );
    let _ = lookup(
        &Query {
            text: String::new(),
            top_k: 1,
        },
        OnlyDebug(1),
        &Neither,
        Some("x"),
    );
    found.map(|v| v.join(", ")).unwrap_or_default()
}

#[test]
fn a_traced_call_records_arguments_result_and_error_on_the_same_event() {
    let harness = Harness::new();
    let answer = harness.run(|| turn("A-17"));
    assert_eq!(answer, "A-17: shipped");
    harness.flush();
    let events = harness.server.events();
    let root = harness.event("turn");
    assert_eq!(object(&root.inputs), json!({"question": "A-17"}));
    assert_eq!(object(&root.outputs), json!({"result": "A-17: shipped"}));
    let lookups: Vec<_> = events
        .iter()
        .filter(|e| e.event_name.as_deref() == Some("lookup"))
        .collect();
    assert_eq!(lookups.len(), 2, "{events:#?}");
    let ok = lookups.iter().find(|e| e.error.is_none()).unwrap();
    assert_eq!(ok.event_type.as_deref(), Some("tool"));
    assert_eq!(
        object(&ok.inputs),
        json!({"query": {"text": "A-17", "top_k": 3}, "debug": "OnlyDebug(7)", "missing": null})
    );
    assert_eq!(object(&ok.outputs), json!({"result": ["A-17: shipped"]}));
    let metadata = object(&ok.metadata);
    assert_eq!(metadata["omitted"], "inputs._client", "{metadata}");
    assert_eq!(metadata["step"], 2);
    assert_eq!(object(&ok.config)["index"], "orders");
    let failed = lookups.iter().find(|e| e.error.is_some()).unwrap();
    assert_eq!(failed.error.as_deref(), Some("order (empty) not found"));
    assert!(
        object(&failed.metadata)["error_type"]
            .as_str()
            .unwrap()
            .ends_with("NotFound")
    );
    assert_eq!(
        failed.outputs,
        None::<serde_json::Value>.or(failed.outputs.clone())
    );
}
