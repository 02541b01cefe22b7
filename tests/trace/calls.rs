use serde::Serialize;
use serde_json::json;
use tracing_honeyhive::trace;

use serde_json::Value;
use tracing_subscriber::layer::SubscriberExt;

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
    // An `Err` is the error, not an output.
    assert_eq!(object(&failed.outputs), json!({}));
}

#[trace]
fn parse_all(items: &[&str]) -> Result<Vec<u32>, std::num::ParseIntError> {
    let mut parsed = Vec::new();
    for item in items {
        if item.is_empty() {
            return Ok(parsed); // an early return
        }
        parsed.push(item.parse()?); // and a `?`
    }
    Ok(parsed)
}

#[test]
fn the_result_is_recorded_whatever_path_the_function_leaves_by() {
    let harness = Harness::new();
    harness.run(|| {
        let _root = tracing::info_span!("root").entered();
        assert_eq!(parse_all(&["1", "", "3"]), Ok(vec![1]));
        assert!(parse_all(&["1", "x"]).is_err());
        assert_eq!(parse_all(&["4"]), Ok(vec![4]));
    });
    harness.flush();
    let events = harness.server.events();
    let mut seen: Vec<(Value, Option<String>, Value)> = events
        .iter()
        .filter(|e| e.event_name.as_deref() == Some("parse_all"))
        .map(|e| {
            (
                object(&e.inputs)["items"].clone(),
                e.error.clone(),
                object(&e.outputs),
            )
        })
        .collect();
    seen.sort_by_key(|(inputs, _, _)| inputs.to_string());
    assert_eq!(
        seen,
        vec![
            (json!(["1", "", "3"]), None, json!({"result": [1]})),
            (
                json!(["1", "x"]),
                Some("invalid digit found in string".to_owned()),
                json!({})
            ),
            (json!(["4"]), None, json!({"result": [4]})),
        ]
    );
    let failed = events.iter().find(|e| e.error.is_some()).unwrap();
    assert_eq!(
        object(&failed.metadata)["error_type"],
        "core::num::error::ParseIntError"
    );
}

#[trace]
fn explode(n: u32) -> u32 {
    if n > 0 {
        panic!("index {n} out of range");
    }
    n
}

#[test]
fn a_panic_is_recorded_as_the_error_and_goes_on_unwinding() {
    let harness = Harness::new();
    let unwound = harness.run(|| {
        std::panic::catch_unwind(|| {
            let _root = tracing::info_span!("root").entered();
            explode(3)
        })
    });
    let payload = unwound.expect_err("the panic reached the caller");
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("index 3 out of range")
    );
    harness.flush();
    let event = harness.event("explode");
    assert_eq!(
        event.error.as_deref(),
        Some("panicked: index 3 out of range")
    );
    assert_eq!(object(&event.metadata)["error_type"], "panic");
    assert_eq!(object(&event.inputs), json!({"n": 3}));
    assert_eq!(object(&event.outputs), json!({}));
}

/// Counts its serialisations: content must not be serialised when it is not sent.
struct Counted(&'static std::sync::atomic::AtomicUsize);

impl Serialize for Counted {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        serializer.serialize_str("counted")
    }
}

#[trace(skip(secret), name = "log in", metadata.attempt = attempt)]
fn login(user: &str, secret: &str, attempt: u32) -> bool {
    !user.is_empty() && !secret.is_empty() && attempt < 3
}

#[trace(skip_all, ret = false)]
fn quiet(value: u32) -> Result<u32, std::io::Error> {
    if value == 0 {
        return Err(std::io::Error::other("zero"));
    }
    Ok(value)
}

#[trace(level = "debug")]
fn verbose(counted: Counted) -> u32 {
    let _ = counted;
    7
}

#[test]
fn options_skip_rename_silence_and_filter() {
    static SERIALISED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let harness = Harness::new();
    harness.run(|| {
        let _root = tracing::info_span!("root").entered();
        assert!(login("ada", "hunter2", 1));
        assert_eq!(quiet(5).unwrap(), 5);
        assert!(quiet(0).is_err());
    });
    // A level filter turns the span off: the body still runs, nothing is serialised.
    let filtered = tracing_subscriber::registry().with(tracing::level_filters::LevelFilter::INFO);
    let value = tracing::subscriber::with_default(filtered, || verbose(Counted(&SERIALISED)));
    assert_eq!(value, 7);
    assert_eq!(SERIALISED.load(std::sync::atomic::Ordering::SeqCst), 0);
    harness.flush();

    let login = harness.event("log in");
    assert_eq!(object(&login.inputs), json!({"user": "ada", "attempt": 1}));
    assert_eq!(object(&login.outputs), json!({"result": true}));
    assert_eq!(object(&login.metadata)["attempt"], 1);
    let quiet: Vec<_> = harness
        .server
        .events()
        .into_iter()
        .filter(|e| e.event_name.as_deref() == Some("quiet"))
        .collect();
    assert_eq!(quiet.len(), 2);
    for event in &quiet {
        assert_eq!(object(&event.inputs), json!({}), "{event:#?}");
        assert_eq!(object(&event.outputs), json!({}), "{event:#?}");
    }
    assert_eq!(
        quiet
            .iter()
            .filter_map(|e| e.error.as_deref())
            .collect::<Vec<_>>(),
        ["zero"]
    );
}

#[test]
fn with_content_off_nothing_is_serialised_and_the_structure_and_errors_remain() {
    static SERIALISED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    #[trace(event_type = "tool")]
    fn fetch(counted: Counted, client: &Neither, id: u32) -> Result<Counted, NotFound> {
        let _ = client;
        if id == 0 {
            return Err(NotFound("0".into()));
        }
        Ok(counted)
    }
    let harness = Harness::with(|b| b.with_capture_content(false));
    harness.run(|| {
        let _root = tracing::info_span!("root").entered();
        assert!(fetch(Counted(&SERIALISED), &Neither, 1).is_ok());
        assert!(fetch(Counted(&SERIALISED), &Neither, 0).is_err());
    });
    harness.flush();
    assert_eq!(SERIALISED.load(std::sync::atomic::Ordering::SeqCst), 0);
    let events = harness.server.events();
    let fetches: Vec<_> = events
        .iter()
        .filter(|e| e.event_name.as_deref() == Some("fetch"))
        .collect();
    assert_eq!(fetches.len(), 2);
    for event in &fetches {
        assert_eq!(
            object(&event.inputs),
            json!({"counted": "[hidden]", "id": "[hidden]"})
        );
        assert_eq!(object(&event.metadata)["omitted"], "inputs.client");
        assert_eq!(event.event_type.as_deref(), Some("tool"));
    }
    let ok = fetches.iter().find(|e| e.error.is_none()).unwrap();
    assert_eq!(object(&ok.outputs), json!({"result": "[hidden]"}));
    let failed = fetches.iter().find(|e| e.error.is_some()).unwrap();
    assert_eq!(failed.error.as_deref(), Some("order 0 not found"));
}

#[test]
fn an_argument_larger_than_an_event_is_fitted_and_its_event_delivered() {
    #[trace]
    fn summarise(documents: Vec<String>, note: &str) -> usize {
        documents.len() + note.len()
    }
    let harness = Harness::new();
    let documents: Vec<String> = (0..3).map(|i| format!("{i}").repeat(900 * 1024)).collect();
    harness.run(|| {
        let _root = tracing::info_span!("root").entered();
        summarise(documents, "kept");
    });
    harness.flush();
    let event = harness.event("summarise");
    let inputs = object(&event.inputs);
    assert_eq!(inputs["note"], "kept");
    let size = serde_json::to_vec(&inputs).unwrap().len();
    assert!(size <= tracing_honeyhive::limits::MAX_EVENT_BYTES, "{size}");
    assert!(
        inputs["documents"].to_string().contains("truncated")
            || inputs["documents"].to_string().contains("cut"),
        "{}",
        &inputs["documents"].to_string()[..200]
    );
    assert_eq!(object(&event.outputs), json!({"result": 3 + 4}));
}
