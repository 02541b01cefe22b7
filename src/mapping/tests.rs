use std::sync::Arc;

use serde_json::json;
use tracing::Level;

use super::*;
use crate::recorded::{Fields, Role, SessionSeed};
use crate::wire::UpdateEvent;

/// The whole event, once the writer is checked to write what `serde_json` writes for it.
fn whole(mapped: Mapped) -> Event {
    let mut written = Vec::new();
    mapped.write(&mut written);
    let event = mapped.into_event();
    assert_eq!(
        String::from_utf8(written).unwrap(),
        serde_json::to_string(&event).unwrap(),
        "the mapped event is written as the whole event serialises"
    );
    event
}

fn mapper() -> Mapper {
    Mapper {
        source: "test".into(),
        project: None,
        max_field_bytes: 64,
        capture_content: true,
    }
}

fn seed(fields: Fields) -> Arc<SessionSeed> {
    Arc::new(SessionSeed {
        id: Uuid::new_v4(),
        joined: false,
        trace: false,
        name: "session".into(),
        source: None,
        start_ms: 1_700_000_000_000,
        fields,
    })
}

fn span(
    role: Role,
    session: Arc<SessionSeed>,
    fields: Vec<(&'static str, FieldValue)>,
) -> FinishedSpan {
    FinishedSpan {
        event_id: match role {
            Role::Session => session.id,
            Role::Event { .. } => Uuid::new_v4(),
        },
        session,
        role,
        name: "span".into(),
        target: "tests".into(),
        level: Level::INFO,
        start_ms: 1_700_000_000_000,
        start_fraction: 0.0,
        duration_ms: 12.345_678,
        recorded: Recorded {
            fields: Fields(fields.into_iter().map(|(n, v)| (n.into(), v)).collect()),
            ..Recorded::default()
        },
        draft: Default::default(),
        owns_joined_session: false,
        session_json: Vec::new(),
        trace_session: None,
        held_bytes: 0,
        late: None,
    }
}

#[test]
fn a_span_that_ends_within_another_never_reads_as_ending_after_it() {
    // The parent starts at 100.9 ms and lasts 5.2 ms; its child starts at 101.0 ms and lasts
    // 5.0 ms, so ends 0.1 ms before it. Cutting the start alone to the millisecond, the parent
    // read as ending at 105 and its child at 106.
    let session = seed(Fields::default());
    let mut parent = span(Role::Event { parent: session.id }, session.clone(), vec![]);
    (parent.start_ms, parent.start_fraction, parent.duration_ms) = (100, 0.9, 5.2);
    let mut child = span(
        Role::Event {
            parent: parent.event_id,
        },
        session.clone(),
        vec![],
    );
    (child.start_ms, child.start_fraction, child.duration_ms) = (101, 0.0, 5.0);
    let end = |span: FinishedSpan| {
        let event = whole(mapper().event(span, session.id, &Children::default(), &mut 0));
        (event.start_time.unwrap(), event.end_time.unwrap())
    };
    let (parent, child) = (end(parent), end(child));
    assert_eq!(parent, (100, 106));
    assert_eq!(child, (101, 106));
}

#[test]
fn times_are_integer_milliseconds_and_the_duration_keeps_microseconds() {
    let session = seed(Fields::default());
    let span = span(Role::Event { parent: session.id }, session.clone(), vec![]);
    let event = whole(mapper().event(span.clone(), session.id, &Children::default(), &mut 0));
    assert_eq!(event.start_time, Some(1_700_000_000_000));
    assert_eq!(event.end_time, Some(1_700_000_000_012));
    assert_eq!(event.duration, Some(12.346));
    assert_eq!(event.parent_id, Some(session.id));
    assert_eq!(event.session_id, Some(session.id));
    assert_eq!(
        event.children_ids, None,
        "no children: the field is omitted"
    );
}

#[test]
fn non_finite_floats_become_strings_and_serialise_to_valid_json() {
    let session = seed(Fields::default());
    let span = span(
        Role::Event { parent: session.id },
        session.clone(),
        vec![
            ("metrics.a", FieldValue::F64(f64::NAN)),
            ("metrics.b", FieldValue::F64(f64::NEG_INFINITY)),
            ("metrics.c", FieldValue::F64(1.5)),
        ],
    );
    let event = whole(mapper().event(span.clone(), session.id, &Children::default(), &mut 0));
    let text = serde_json::to_string(&event).unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["metrics"], json!({"a": "NaN", "b": "-inf", "c": 1.5}));
}

#[test]
fn a_bare_bucket_field_is_merged_and_a_structured_value_is_cut_to_the_bound() {
    let session = seed(Fields::default());
    let mut span = span(
        Role::Event { parent: session.id },
        session.clone(),
        vec![("outputs", FieldValue::Str("plain".into()))],
    );
    span.recorded
        .json
        .push((Bucket::Inputs, json!({"doc": "z".repeat(500), "n": 1})));
    let mut truncated = 0;
    let event = whole(mapper().event(
        span.clone(),
        session.id,
        &Children::default(),
        &mut truncated,
    ));
    assert_eq!(
        event.outputs,
        Some(json!({"value": "plain"}).as_object().unwrap().clone())
    );
    let doc = event.inputs["doc"].as_str().unwrap();
    assert!(
        doc.starts_with("zzz") && doc.ends_with("…[truncated 436 bytes]"),
        "{doc}"
    );
    assert_eq!(truncated, 1);
}

#[test]
fn a_session_with_metrics_needs_an_update_after_its_create() {
    let session = seed(Fields::default());
    let root = span(
        Role::Session,
        session.clone(),
        vec![("outputs.answer", FieldValue::Str("ok".into()))],
    );
    let end = mapper().session_end(root.clone(), &root.session, &Children::default(), &mut 0);
    assert!(!end.update_after_create);
    assert_eq!(end.create.end_time, Some(end.end_ms));
    assert_eq!(end.create.session_name.as_deref(), Some("session"));
    assert_eq!(end.update.outputs, end.create.outputs);

    let root = span(
        Role::Session,
        session.clone(),
        vec![("metrics.turns", FieldValue::I64(3))],
    );
    let end = mapper().session_end(root.clone(), &root.session, &Children::default(), &mut 0);
    assert!(end.update_after_create);
    assert_eq!(
        end.update.metrics,
        Some(json!({"turns": 3}).as_object().unwrap().clone())
    );
}

#[test]
fn inputs_recorded_after_an_early_create_are_kept_in_the_update_metadata() {
    let session = seed(Fields(vec![(
        "inputs.q".into(),
        FieldValue::Str("first".into()),
    )]));
    let unchanged = span(
        Role::Session,
        session.clone(),
        vec![("inputs.q", FieldValue::Str("first".into()))],
    );
    let end = mapper().session_end(
        unchanged.clone(),
        &unchanged.session,
        &Children::default(),
        &mut 0,
    );
    assert_eq!(end.update.metadata, None);
    let later = span(
        Role::Session,
        session,
        vec![
            ("inputs.q", FieldValue::Str("first".into())),
            ("inputs.extra", FieldValue::Bool(true)),
        ],
    );
    let end = mapper().session_end(later.clone(), &later.session, &Children::default(), &mut 0);
    let metadata = end.update.metadata.unwrap();
    assert_eq!(metadata["inputs"], json!({"q": "first", "extra": true}));
    assert_eq!(
        end.create.metadata, None,
        "the create carries them as inputs"
    );
}

#[test]
fn the_project_is_recorded_in_session_metadata_only() {
    let mapper = Mapper {
        project: Some("support-bot".into()),
        ..mapper()
    };
    let session = seed(Fields::default());
    let start = mapper.session_start(&session, &mut 0);
    assert_eq!(start.metadata.unwrap()["project"], json!("support-bot"));
    let child = span(Role::Event { parent: session.id }, session.clone(), vec![]);
    assert_eq!(
        whole(mapper.event(child.clone(), session.id, &Children::default(), &mut 0)).metadata,
        None
    );
}

#[test]
fn later_updates_merge_objects_replace_outputs_and_keep_the_latest_end() {
    let object = |v: Value| v.as_object().cloned();
    let mut update = UpdateEvent {
        metadata: object(json!({"a": 1, "b": 1})),
        outputs: object(json!({"first": true})),
        end_time: Some(10),
        ..UpdateEvent::default()
    };
    merge_updates(
        &mut update,
        UpdateEvent {
            metadata: object(json!({"b": 2})),
            outputs: object(json!({"second": true})),
            end_time: Some(5),
            ..UpdateEvent::default()
        },
    );
    assert_eq!(update.metadata, object(json!({"a": 1, "b": 2})));
    assert_eq!(update.outputs, object(json!({"second": true})));
    assert_eq!(update.end_time, Some(10));
}

#[test]
fn honeyhive_sdk_attribute_names_are_re_nested_into_their_buckets() {
    let session = seed(Fields::default());
    let span = span(
        Role::Event { parent: session.id },
        session.clone(),
        vec![
            (
                "honeyhive_inputs.chat_history.0.role",
                FieldValue::Str("user".into()),
            ),
            (
                "honeyhive_inputs.chat_history.0.content",
                FieldValue::Str("hi".into()),
            ),
            (
                "honeyhive_inputs.chat_history.1.role",
                FieldValue::Str("assistant".into()),
            ),
            (
                "honeyhive_inputs.chat_history.1.content",
                FieldValue::Str("hello".into()),
            ),
            (
                "honeyhive_metadata.customer.tier",
                FieldValue::Str("gold".into()),
            ),
            ("honeyhive_metadata.customer.seats", FieldValue::I64(3)),
            ("honeyhive_config.model", FieldValue::Str("gpt-4o".into())),
            ("honeyhive_metrics.score", FieldValue::F64(0.5)),
            // Numbered keys that are not 0..n stay an object.
            ("honeyhive_outputs.by_id.7", FieldValue::Bool(true)),
            // The dotted form without the SDK prefix keeps its flat key, as before.
            ("inputs.a.b", FieldValue::I64(1)),
        ],
    );
    let event = whole(mapper().event(span.clone(), session.id, &Children::default(), &mut 0));
    assert_eq!(
        Value::Object(event.inputs),
        json!({
            "chat_history": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "hello"},
            ],
            "a.b": 1,
        })
    );
    assert_eq!(
        event.metadata,
        Some(
            json!({"customer": {"tier": "gold", "seats": 3}})
                .as_object()
                .unwrap()
                .clone()
        )
    );
    assert_eq!(event.config.unwrap()["model"], "gpt-4o");
    assert_eq!(event.metrics.unwrap()["score"], 0.5);
    assert_eq!(event.outputs.unwrap()["by_id"], json!({"7": true}));
}

#[test]
fn an_error_status_with_only_an_http_code_reads_as_one() {
    let session = seed(Fields::default());
    let mapper = mapper();
    let error_of = |error_type: &str| {
        let mut span = span(
            Role::Event { parent: session.id },
            Arc::clone(&session),
            vec![("error.type", FieldValue::Str(error_type.into()))],
        );
        span.recorded.otel_status_error = true;
        whole(mapper.event(span.clone(), session.id, &Children::default(), &mut 0)).error
    };
    assert_eq!(error_of("404").as_deref(), Some("HTTP 404 Not Found"));
    assert_eq!(
        error_of("429").as_deref(),
        Some("HTTP 429 Too Many Requests")
    );
    assert_eq!(
        error_of("RateLimitError").as_deref(),
        Some("RateLimitError")
    );
    assert_eq!(error_of("1234").as_deref(), Some("1234"));
}

mod written {
    use proptest::prelude::*;

    use super::*;
    use crate::recorded::Log;

    /// Names that take every path of the mapping: routed, nested, a dialect's, `gen_ai.*`, plain,
    /// and those that compete with the span's events for `metadata.logs`.
    const NAMES: [&str; 16] = [
        "inputs.question",
        "outputs",
        "metadata.logs",
        "metadata.user",
        "honeyhive_metadata.logs.a",
        "honeyhive_inputs.chat.0.role",
        "gen_ai.prompt",
        "gen_ai.request.model",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.request.top_k",
        "llm.input_messages.0.message.content",
        "input.value",
        "logs",
        "zeta",
        "a\"b",
    ];

    fn field_value() -> impl Strategy<Value = FieldValue> {
        let leaf = prop_oneof![
            any::<bool>().prop_map(FieldValue::Bool),
            any::<i64>().prop_map(FieldValue::I64),
            any::<u64>().prop_map(FieldValue::U64),
            any::<f64>().prop_map(FieldValue::F64),
            prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(-0.0)].prop_map(FieldValue::F64),
            any::<String>().prop_map(FieldValue::Str),
            "[\\[{\"a-z0-9:,\\]} ]{0,24}".prop_map(FieldValue::Str),
        ];
        leaf.prop_recursive(2, 8, 4, |inner| {
            prop::collection::vec(inner, 0..4).prop_map(FieldValue::List)
        })
    }

    fn fields() -> impl Strategy<Value = Vec<(&'static str, FieldValue)>> {
        prop::collection::vec((prop::sample::select(&NAMES[..]), field_value()), 0..8)
    }

    fn log() -> impl Strategy<Value = Log> {
        (any::<i64>(), any::<String>(), fields()).prop_map(|(time_ms, message, fields)| Log {
            time_ms,
            level: Level::WARN,
            target: "tests".into(),
            message,
            // Repeated names too: the later value wins, as in a map.
            fields: Fields(fields.into_iter().map(|(n, v)| (n.into(), v)).collect()),
        })
    }

    proptest! {
        #[test]
        fn any_mapped_event_is_written_as_the_whole_event_serialises(
            fields in fields(),
            logs in prop::collection::vec(log(), 0..3),
            json in prop::option::of(prop::sample::select(&[
                r#"{"logs": 1, "b": [2]}"#,
                r#"{"x": {"y": "z"}}"#,
                r#""plain""#,
            ][..])),
            hide in any::<bool>(),
        ) {
            let session = seed(Fields::default());
            let mut span = span(Role::Event { parent: session.id }, session.clone(), fields);
            span.recorded.logs = logs;
            if let Some(json) = json {
                let value: Value = serde_json::from_str(json).unwrap();
                span.recorded.json.push((Bucket::Metadata, value));
            }
            let mut mapper = mapper();
            mapper.capture_content = !hide;
            // `whole` asserts it.
            whole(mapper.event(span, session.id, &Children::default(), &mut 0));
        }
    }
}

#[test]
fn a_span_joining_under_a_callers_event_leaves_the_sessions_end_to_the_caller() {
    let session = seed(Fields::default());
    let mut turn = span(Role::Event { parent: session.id }, session.clone(), vec![]);
    let ended = mapper().joined_end(&turn, &mut 0);
    assert_eq!(
        ended.end_time,
        Some(1_700_000_000_012),
        "a turn ends the session"
    );
    let caller = Uuid::new_v4();
    turn.role = Role::Event { parent: caller };
    turn.recorded.parent_id = Some(caller);
    turn.session_json
        .push((Bucket::Metrics, json!({"answered": true})));
    let handled = mapper().joined_end(&turn, &mut 0);
    assert_eq!(handled.end_time, None, "the caller ends the session, after");
    assert_eq!(
        handled.metrics,
        Some(json!({"answered": true}).as_object().unwrap().clone())
    );
}

/// A span langchain-rust records (`observability.rs`), by its exact name and target.
fn langchain_span(
    session: &Arc<SessionSeed>,
    target: &'static str,
    name: &'static str,
    fields: Vec<(&'static str, FieldValue)>,
) -> FinishedSpan {
    let mut span = span(Role::Event { parent: session.id }, session.clone(), fields);
    span.name = name.into();
    span.target = target.into();
    span
}

#[test]
fn langchain_rust_spans_become_typed_events_with_the_figures_in_canonical_keys() {
    let session = seed(Fields::default());
    let generate = langchain_span(
        &session,
        "langchain_rust::observability",
        "llm.generate",
        vec![
            ("provider", FieldValue::Str("openai".into())),
            ("model", FieldValue::Str("gpt-4o-mini".into())),
            ("stream", FieldValue::Bool(false)),
            ("prompt_tokens", FieldValue::U64(7)),
            ("completion_tokens", FieldValue::Str("3".into())),
            ("total_tokens", FieldValue::U64(10)),
            ("tool_calls", FieldValue::U64(2)),
        ],
    );
    let event = whole(mapper().event(generate, session.id, &Children::default(), &mut 0));
    assert_eq!(event.event_type, EventType::Model);
    assert_eq!(event.event_name.as_deref(), Some("llm.generate"));
    assert_eq!(
        event.config.map(Value::Object),
        Some(json!({"provider": "openai", "model": "gpt-4o-mini", "stream": false}))
    );
    assert_eq!(
        event.metadata.map(Value::Object),
        Some(
            json!({"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10,
                    "tool_calls": 2})
        )
    );
    let tool = langchain_span(
        &session,
        "langchain_rust::agent::executor",
        "tool.call",
        vec![("tool", FieldValue::Str("search".into()))],
    );
    let event = whole(mapper().event(tool, session.id, &Children::default(), &mut 0));
    assert_eq!(event.event_type, EventType::Tool);
    assert_eq!(
        event.config.map(Value::Object),
        Some(json!({"tool_name": "search"}))
    );
}

#[test]
fn the_same_span_name_from_another_target_maps_as_any_span() {
    let session = seed(Fields::default());
    let other = langchain_span(
        &session,
        "my_app::llm",
        "llm.generate",
        vec![
            ("model", FieldValue::Str("gpt-4o-mini".into())),
            ("prompt_tokens", FieldValue::Str("7".into())),
        ],
    );
    let event = whole(mapper().event(other, session.id, &Children::default(), &mut 0));
    assert_eq!(event.event_type, EventType::Chain);
    assert_eq!(event.config, None);
    assert_eq!(
        event.metadata.map(Value::Object),
        Some(json!({"model": "gpt-4o-mini", "prompt_tokens": "7"}))
    );
}

#[test]
fn an_explicit_event_type_still_wins_over_langchain_rusts_span() {
    let session = seed(Fields::default());
    let mut agent = langchain_span(
        &session,
        "langchain_rust::agent::executor",
        "agent.run",
        vec![("max_iterations", FieldValue::I64(10))],
    );
    agent.recorded.event_type = Some("tool".into());
    let event = whole(mapper().event(agent, session.id, &Children::default(), &mut 0));
    assert_eq!(event.event_type, EventType::Tool);
    assert_eq!(
        event.config.map(Value::Object),
        Some(json!({"max_iterations": 10}))
    );
}
