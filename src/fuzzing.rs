//! The mapping driven from arbitrary input, for the `cargo fuzz` target `mapping` (built only
//! with `--cfg fuzzing`, which cargo-fuzz sets, and the `emulator` feature for the contract's
//! schemas).

use std::sync::Arc;

use serde_json::{Value, json};
use tracing::Level;
use uuid::Uuid;

use crate::emulator::schema::Body;
use crate::limits;
use crate::limits::bounded;
use crate::mapping::Mapper;
use crate::recorded::{Bucket, Children, FieldValue, FinishedSpan, Recorded, Role, SessionSeed};

/// Field names the mapping routes or treats specially; a field is given by its index here.
pub const NAMES: [&str; 56] = [
    "inputs",
    "inputs.question",
    "outputs",
    "outputs.content",
    "config.model",
    "metadata.note",
    "metrics.score",
    "feedback.rating",
    "user_properties.user_id",
    "error",
    "honeyhive.event_type",
    "honeyhive.event_name",
    "honeyhive.session_name",
    "honeyhive.session_id",
    "otel.name",
    "otel.status_code",
    "otel.status_message",
    "gen_ai.request.model",
    "gen_ai.system",
    "gen_ai.operation.name",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.total_tokens",
    "gen_ai.prompt",
    "gen_ai.completion",
    "gen_ai.tool.name",
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.request.temperature",
    "gen_ai.tool.definitions",
    "gen_ai.tool.call.outcome",
    "gen_ai.tool.call.result",
    "error.type",
    "gen_ai.prompt.0.role",
    "gen_ai.prompt.0.content",
    "gen_ai.prompt.1.tool_calls.0.arguments",
    "gen_ai.completion.0.content",
    "gen_ai.completion.0.tool_calls.0.name",
    "openinference.span.kind",
    "llm.input_messages.0.message.role",
    "llm.input_messages.0.message.contents.0.message_content.text",
    "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments",
    "llm.invocation_parameters",
    "llm.token_count.prompt",
    "input.value",
    "metadata",
    "traceloop.span.kind",
    "traceloop.entity.input",
    "langfuse.observation.type",
    "langfuse.observation.input",
    "langfuse.observation.usage_details",
    "langfuse.usage",
    "honeyhive_inputs.chat_history.0.role",
    "plain",
    "a.b.c",
];

/// A field value, as a span can record it.
#[derive(Debug, Clone)]
pub enum FuzzValue {
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(String),
}

/// One span, as arbitrary input describes it.
#[derive(Debug, Clone)]
pub struct FuzzSpan {
    /// Fields, by index into [`NAMES`] (modulo its length), in recording order.
    pub fields: Vec<(u8, FuzzValue)>,
    /// Structured values (parsed from the input as JSON), by bucket index modulo 7.
    pub json: Vec<(u8, Value)>,
    /// The span is a session's root.
    pub root: bool,
    pub start_ms: i64,
    pub duration_ms: f64,
    /// How many children it had.
    pub children: u16,
    /// The field-size bound, at least 64.
    pub max_field_bytes: u16,
}

/// Maps the span as the exporter would and panics unless every body is valid against the
/// contract's schemas and within the size policy.
pub fn check(input: FuzzSpan) {
    let max_field_bytes = usize::from(input.max_field_bytes).max(64);
    let mut recorded = Recorded::default();
    let mut truncated = 0u32;
    for (index, value) in input.fields {
        let name = NAMES[usize::from(index) % NAMES.len()];
        let value = match value {
            FuzzValue::Bool(b) => FieldValue::Bool(b),
            FuzzValue::I64(n) => FieldValue::I64(n),
            FuzzValue::U64(n) => FieldValue::U64(n),
            FuzzValue::F64(n) => FieldValue::F64(n),
            FuzzValue::Str(s) => FieldValue::Str(bounded(&s, max_field_bytes, &mut truncated)),
        };
        recorded.put(name.into(), value);
    }
    for (index, mut value) in input.json {
        limits::bound_depth(&mut value, limits::MAX_DEPTH);
        recorded
            .json
            .push((Bucket::ALL[usize::from(index) % 7], value));
    }
    let session = Arc::new(SessionSeed {
        id: Uuid::from_u128(1),
        joined: false,
        trace: false,
        name: "fuzz".into(),
        source: None,
        start_ms: input.start_ms,
        fields: recorded.fields.clone(),
    });
    let mut children = Children::default();
    for i in 0..input.children {
        children.push(Uuid::from_u128(u128::from(i) + 2));
    }
    let span = FinishedSpan {
        session: Arc::clone(&session),
        role: if input.root {
            Role::Session
        } else {
            Role::Event { parent: session.id }
        },
        event_id: Uuid::from_u128(u128::MAX),
        name: "fuzz span".into(),
        target: "fuzz".into(),
        level: Level::INFO,
        start_ms: input.start_ms,
        start_fraction: 0.0,
        duration_ms: input.duration_ms,
        recorded,
        draft: Default::default(),
        owns_joined_session: false,
        session_json: Vec::new(),
        trace_session: None,
        held_bytes: 0,
        late: None,
    };
    let mapper = Mapper {
        source: "fuzz".into(),
        project: Some("fuzz".into()),
        max_field_bytes,
        capture_content: true,
    };
    let valid = |body: Body, value: Value| {
        if let Err(error) = body.check(&value) {
            panic!("{error}: {value}");
        }
    };
    if input.root {
        let end = mapper.session_end(span.clone(), &span.session, &children, &mut truncated);
        valid(
            Body::CreateSession,
            serde_json::to_value(&end.create).unwrap(),
        );
        valid(
            Body::UpdateEvent,
            serde_json::to_value(&end.update).unwrap(),
        );
        let start = mapper.session_start(&session, &mut truncated);
        valid(Body::CreateSession, serde_json::to_value(&start).unwrap());
    } else {
        let mapped = mapper.event(span.clone(), session.id, &children, &mut truncated);
        let mut direct = Vec::new();
        mapped.write(&mut direct);
        let mut event = mapped.into_event();
        assert_eq!(
            direct,
            serde_json::to_vec(&event).unwrap(),
            "a mapped event is written as the whole event serialises"
        );
        let (size, _) = limits::fit_event(&mut event, limits::MAX_EVENT_BYTES);
        let text = serde_json::to_vec(&event).unwrap();
        assert_eq!(size, text.len(), "the measured size is the real one");
        let mut written = Vec::new();
        crate::wire::json::write_event(&event, &mut written);
        assert_eq!(
            written, text,
            "the event writer writes what serde_json writes"
        );
        assert!(
            event
                .children_ids
                .as_ref()
                .is_none_or(|ids| ids.len() <= Children::MAX),
            "child lists are bounded"
        );
        let value: Value = serde_json::from_slice(&text).unwrap();
        valid(Body::SessionEventBatch, json!({ "events": [value] }));
    }
}
