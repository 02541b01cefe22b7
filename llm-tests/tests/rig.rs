//! rig (`rig-core` and `rig-agent`) against the fake OpenAI server, traced by the layer and by
//! tracing-opentelemetry into the exporter: what a HoneyHive user sees of an agent turn.

use rig_agent::AgentBuilder;
use rig_core::providers::openai::OpenAIConfig;
use serde_json::{Value, json};
use tracing_honeyhive::HoneyHiveLayer;
use tracing_honeyhive::emulator::Emulator;
use tracing_honeyhive::wire::EventRecord;
use tracing_honeyhive_llm_tests::FakeOpenAi;

mod common;
use common::{Door, traced};

#[derive(Debug, thiserror::Error)]
#[error("no such order")]
struct NoSuchOrder;

#[derive(serde::Deserialize)]
struct OrderArgs {
    order: u32,
}

/// The agent's one tool.
struct LookupOrder;

impl rig_core::tool::Tool for LookupOrder {
    const NAME: &'static str = "lookup_order";
    type Args = OrderArgs;
    type Output = Value;
    type Error = NoSuchOrder;

    fn description(&self) -> String {
        "Looks an order up by its number".into()
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"order": {"type": "integer", "description": "The order number"}},
            "required": ["order"],
        })
    }

    async fn call(
        &self,
        _context: &mut rig_core::tool::ToolContext,
        args: OrderArgs,
    ) -> Result<Value, NoSuchOrder> {
        Ok(json!({"order": args.order, "status": "shipped yesterday"}))
    }
}

/// Which API of OpenAI's the agent's model speaks.
#[derive(Clone, Copy)]
enum Api {
    ChatCompletions,
    Responses,
}

/// The support agent, on a model the fake server answers.
fn agent(
    model_server: &FakeOpenAi,
    api: Api,
    model: &str,
    record_content: bool,
) -> rig_agent::Agent {
    let client = OpenAIConfig::new("sk-test")
        .with_base_url(model_server.url())
        .client();
    let builder = match api {
        Api::ChatCompletions => AgentBuilder::new(client.chat(model)),
        Api::Responses => AgentBuilder::new(client.responses(model)),
    };
    builder
        .name("support")
        .preamble("You answer questions about orders.")
        .tool(LookupOrder)
        .default_max_turns(3)
        .record_content_telemetry(record_content)
        .build()
}

/// The events of the only session, in start order, and the session.
fn one_session(server: &Emulator) -> (EventRecord, Vec<EventRecord>) {
    let sessions = server.sessions();
    assert_eq!(sessions.len(), 1, "{sessions:#?}");
    let mut events = server.events();
    events.sort_by(|a, b| a.start_time.partial_cmp(&b.start_time).unwrap());
    (sessions.into_iter().next().unwrap(), events)
}

fn names(events: &[EventRecord]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            format!(
                "{} [{}]",
                e.event_name.as_deref().unwrap_or("?"),
                e.event_type.as_deref().unwrap_or("?")
            )
        })
        .collect()
}

fn object(value: &Option<Value>) -> Value {
    value.clone().unwrap_or_else(|| json!({}))
}

/// What the closing note shows of a turn.
fn summary(session: &EventRecord, events: &[EventRecord]) -> String {
    let mut out = format!(
        "session {:?}: inputs {} outputs {}\n",
        session.event_name,
        object(&session.inputs),
        object(&session.outputs)
    );
    for event in events {
        let metadata = object(&event.metadata);
        out.push_str(&format!(
            "  {} [{}] chat_history {} outputs {} tokens {}/{}/{} cache_read {} reasoning {} error {:?}\n",
            event.event_name.as_deref().unwrap_or("?"),
            event.event_type.as_deref().unwrap_or("?"),
            object(&event.inputs).get("chat_history").cloned().unwrap_or(Value::Null),
            object(&event.outputs),
            metadata["prompt_tokens"],
            metadata["completion_tokens"],
            metadata["total_tokens"],
            metadata["cache_read_input_tokens"],
            metadata["reasoning_tokens"],
            event.error,
        ));
    }
    out
}

const TURN: [&str; 3] = [
    "chat gpt-4o-mini [model]",
    "execute_tool lookup_order [tool]",
    "chat gpt-4o-mini [model]",
];

/// The structure, names, types and tokens every variant shares.
#[track_caller]
fn assert_turn_structure(session: &EventRecord, events: &[EventRecord]) {
    // The agent's run is the root: a session named after the agent.
    assert_eq!(session.event_name.as_deref(), Some("invoke_agent support"));
    assert_eq!(names(events), TURN);
    for chat in [&events[0], &events[2]] {
        let metadata = object(&chat.metadata);
        let (prompt, completion, cached, reasoning) = tracing_honeyhive_llm_tests::USAGE;
        assert_eq!(metadata["prompt_tokens"], json!(prompt), "{metadata}");
        assert_eq!(metadata["completion_tokens"], json!(completion));
        assert_eq!(metadata["total_tokens"], json!(prompt + completion));
        assert_eq!(metadata["cache_read_input_tokens"], json!(cached));
        assert_eq!(metadata["reasoning_tokens"], json!(reasoning));
        assert_eq!(metadata["agent_name"], json!("support"));
        assert_eq!(object(&chat.config)["model"], json!("gpt-4o-mini"));
        assert_eq!(chat.error, None);
    }
    let tool = &events[1];
    assert_eq!(object(&tool.config)["tool_name"], json!("lookup_order"));
    assert_eq!(
        object(&tool.metadata)["tool_call_id"],
        json!("call_lookup_1")
    );
    // Crate-internal fields stay in metadata, out of the headline fields.
    for event in events {
        for bucket in [&event.inputs, &event.outputs, &event.config] {
            assert!(!object(bucket).to_string().contains("rig."), "{event:#?}");
        }
    }
}

#[tokio::test]
async fn an_agent_turn_with_a_tool_call_reads_as_honeyhive_shows_it() {
    let model_server = FakeOpenAi::start();
    let agent = agent(&model_server, Api::ChatCompletions, "gpt-4o-mini", true);
    let server = traced(Door::Layer(Box::new(HoneyHiveLayer::builder())), async {
        let answer = agent
            .prompt("Where is order 7?")
            .await
            .expect("the agent answers");
        assert_eq!(answer.to_string(), tracing_honeyhive_llm_tests::ANSWER);
    })
    .await;
    let (session, events) = one_session(&server);
    println!(
        "content on, through the layer:\n{}",
        summary(&session, &events)
    );
    assert_turn_structure(&session, &events);
    let system = json!({"role": "system", "content": "You answer questions about orders."});
    let user = json!({"role": "user", "content": "Where is order 7?"});
    assert_eq!(
        object(&session.inputs)["chat_history"],
        json!([system, user])
    );
    assert_eq!(
        object(&session.outputs)["content"],
        json!(tracing_honeyhive_llm_tests::ANSWER)
    );
    // The model asks for the tool ...
    let asks = &events[0];
    assert_eq!(
        object(&asks.inputs)["chat_history"],
        json!([system, user]),
        "one system message"
    );
    let outputs = object(&asks.outputs);
    assert_eq!(outputs["role"], json!("assistant"));
    assert_eq!(
        outputs["tool_calls"],
        json!([{"id": "call_lookup_1", "type": "function",
                "function": {"name": "lookup_order", "arguments": tracing_honeyhive_llm_tests::TOOL_ARGUMENTS}}])
    );
    assert!(outputs.get("content").is_none());
    // ... the tool runs ...
    let tool = &events[1];
    assert_eq!(object(&tool.inputs)["arguments"], json!({"order": 7}));
    assert_eq!(
        object(&tool.outputs)["result"],
        json!({"order": 7, "status": "shipped yesterday"})
    );
    // ... and the model answers from its result.
    let answers = &events[2];
    let history = object(&answers.inputs)["chat_history"].clone();
    assert_eq!(history[2]["tool_calls"][0]["id"], json!("call_lookup_1"));
    assert_eq!(history[3]["role"], json!("tool"));
    assert_eq!(history[3]["tool_call_id"], json!("call_lookup_1"));
    assert_eq!(
        object(&answers.outputs)["content"],
        json!(tracing_honeyhive_llm_tests::ANSWER)
    );
}

#[tokio::test]
async fn with_content_off_in_rig_nothing_of_the_conversation_arrives() {
    let model_server = FakeOpenAi::start();
    let agent = agent(&model_server, Api::ChatCompletions, "gpt-4o-mini", false);
    let server = traced(Door::Layer(Box::new(HoneyHiveLayer::builder())), async {
        agent
            .prompt("Where is order 7?")
            .await
            .expect("the agent answers");
    })
    .await;
    let (session, events) = one_session(&server);
    println!(
        "content off in rig, through the layer:\n{}",
        summary(&session, &events)
    );
    assert_turn_structure(&session, &events);
    let sent = server.received_bodies();
    for secret in [
        "Where is order 7?",
        "shipped yesterday",
        "You answer questions",
    ] {
        assert!(!sent.contains(secret), "{secret} left the process: {sent}");
    }
}

#[tokio::test]
async fn with_the_layers_content_switch_off_the_structure_arrives_and_the_text_does_not() {
    let model_server = FakeOpenAi::start();
    let agent = agent(&model_server, Api::ChatCompletions, "gpt-4o-mini", true);
    let door = Door::Layer(Box::new(
        HoneyHiveLayer::builder().with_capture_content(false),
    ));
    let server = traced(door, async {
        agent
            .prompt("Where is order 7?")
            .await
            .expect("the agent answers");
    })
    .await;
    let (session, events) = one_session(&server);
    assert_turn_structure(&session, &events);
    let history = object(&events[2].inputs)["chat_history"].clone();
    assert_eq!(history[0], json!({"role": "system", "content": "[hidden]"}));
    assert_eq!(history[3]["role"], json!("tool"));
    assert_eq!(history[3]["tool_call_id"], json!("call_lookup_1"));
    assert_eq!(
        object(&events[0].outputs)["tool_calls"][0]["function"]["name"],
        json!("lookup_order")
    );
    let sent = server.received_bodies();
    assert!(!sent.contains("Where is order 7?") && !sent.contains("shipped yesterday"));
}

#[tokio::test]
async fn the_responses_api_through_tracing_opentelemetry_and_the_exporter_reads_the_same() {
    let model_server = FakeOpenAi::start();
    let agent = agent(&model_server, Api::Responses, "gpt-4o-mini", true);
    let server = traced(Door::Exporter, async {
        agent
            .prompt("Where is order 7?")
            .await
            .expect("the agent answers");
    })
    .await;
    assert!(
        model_server
            .requests()
            .iter()
            .all(|r| r.get("input").is_some()),
        "the Responses API was used"
    );
    let (session, events) = one_session(&server);
    println!(
        "Responses API, through the exporter:\n{}",
        summary(&session, &events)
    );
    assert_turn_structure(&session, &events);
    assert_eq!(
        object(&events[0].outputs)["tool_calls"][0]["function"]["name"],
        json!("lookup_order")
    );
    assert_eq!(
        object(&events[2].outputs)["content"],
        json!(tracing_honeyhive_llm_tests::ANSWER)
    );
}

#[tokio::test]
async fn a_provider_error_is_on_the_span_the_application_records_it_on() {
    let model_server = FakeOpenAi::start();
    let agent = agent(
        &model_server,
        Api::ChatCompletions,
        tracing_honeyhive_llm_tests::MISSING_MODEL,
        true,
    );
    let server = traced(Door::Layer(Box::new(HoneyHiveLayer::builder())), async {
        // rig 0.44 records no error on its own spans: the application says it on its span,
        // which rig adopts as the agent's run.
        let turn = tracing::info_span!("support turn", error = tracing::field::Empty);
        // rig takes the current span when the run is made.
        let run = turn
            .in_scope(|| std::future::IntoFuture::into_future(agent.prompt("Where is order 7?")));
        let result = tracing::Instrument::instrument(run, turn.clone()).await;
        let error = result.expect_err("the model does not exist");
        turn.record("error", tracing::field::display(&error));
    })
    .await;
    let (session, events) = one_session(&server);
    println!("provider error:\n{}", summary(&session, &events));
    assert_eq!(session.event_name.as_deref(), Some("support turn"));
    let error = object(&session.metadata)["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        error.contains("404") || error.contains("does not exist"),
        "{error}"
    );
    let chat = &events[0];
    assert_eq!(chat.event_type.as_deref(), Some("model"));
    assert_eq!(object(&chat.outputs), json!({}), "no answer came");
}
