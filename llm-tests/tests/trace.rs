//! `#[trace]` around and inside rig and genai calls, through the layer and through
//! tracing-opentelemetry into the exporter: the application's own steps and the LLM crates'
//! spans make one tree, each step with its inputs, outputs and error.

use rig_agent::AgentBuilder;
use rig_core::providers::openai::OpenAIConfig;
use serde_json::{Value, json};
use tracing_honeyhive::emulator::Emulator;
use tracing_honeyhive::wire::EventRecord;
use tracing_honeyhive::{HoneyHiveLayer, trace};
use tracing_honeyhive_llm_tests::{ANSWER, FakeOpenAi, MISSING_MODEL};

mod common;
use common::{Door, genai_client, traced};

fn object(value: &Option<Value>) -> Value {
    value.clone().unwrap_or_else(|| json!({}))
}

#[derive(Debug, thiserror::Error)]
#[error("no such order")]
struct NoSuchOrder;

#[derive(Debug, serde::Deserialize, serde::Serialize)]
struct OrderArgs {
    order: u32,
}

#[derive(Debug, serde::Serialize)]
struct Order {
    order: u32,
    status: &'static str,
}

/// The application's own data access, traced inside rig's tool span.
#[trace(event_type = "tool", metadata.store = "orders-db")]
async fn find_order(order: u32) -> Result<Order, NoSuchOrder> {
    tokio::task::yield_now().await;
    Ok(Order {
        order,
        status: "shipped yesterday",
    })
}

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
            "properties": {"order": {"type": "integer"}},
            "required": ["order"],
        })
    }

    async fn call(
        &self,
        _context: &mut rig_core::tool::ToolContext,
        args: OrderArgs,
    ) -> Result<Value, NoSuchOrder> {
        let order = find_order(args.order).await?;
        Ok(json!({"order": order.order, "status": order.status}))
    }
}

/// The application's turn, traced around the agent's run.
#[trace(event_type = "chain")]
async fn support_turn(agent: &rig_agent::Agent, question: &str) -> Result<String, String> {
    let answer = agent.prompt(question).await.map_err(|e| e.to_string())?;
    Ok(answer.to_string())
}

fn rig_agent(model_server: &FakeOpenAi) -> rig_agent::Agent {
    let client = OpenAIConfig::new("sk-test")
        .with_base_url(model_server.url())
        .client();
    AgentBuilder::new(client.chat("gpt-4o-mini"))
        .name("support")
        .preamble("You answer questions about orders.")
        .tool(LookupOrder)
        .default_max_turns(3)
        .record_content_telemetry(true)
        .build()
}

/// The only session's tree, as `name [type]` lines indented by depth.
fn outline(server: &Emulator) -> Vec<String> {
    let sessions = server.sessions();
    assert_eq!(sessions.len(), 1, "{sessions:#?}");
    let tree = server
        .tree(sessions[0].session_id.as_deref().unwrap())
        .unwrap();
    fn walk(node: &tracing_honeyhive::wire::SessionTree, depth: usize, out: &mut Vec<String>) {
        let event = &node.event;
        out.push(format!(
            "{}{} [{}]",
            "  ".repeat(depth),
            event.event_name.as_deref().unwrap_or("?"),
            event.event_type.as_deref().unwrap_or("?")
        ));
        let mut children = node.children.clone();
        children.sort_by(|a, b| a.event.start_time.partial_cmp(&b.event.start_time).unwrap());
        for child in &children {
            walk(child, depth + 1, out);
        }
    }
    let mut out = Vec::new();
    walk(&tree, 0, &mut out);
    out
}

fn named(server: &Emulator, name: &str) -> EventRecord {
    let mut found: Vec<EventRecord> = server
        .sessions()
        .into_iter()
        .chain(server.events())
        .filter(|e| e.event_name.as_deref() == Some(name))
        .collect();
    assert_eq!(found.len(), 1, "{name}: {found:#?}");
    found.remove(0)
}

async fn rig_turn_through(door: Door) -> Emulator {
    let model_server = FakeOpenAi::start();
    let agent = rig_agent(&model_server);
    traced(door, async {
        let answer = support_turn(&agent, "Where is order 7?").await;
        assert_eq!(answer.as_deref(), Ok(ANSWER));
    })
    .await
}

#[track_caller]
fn assert_rig_turn(server: &Emulator) {
    assert_eq!(
        outline(server),
        [
            // rig adopts the span around its run as the run: no `invoke_agent` of its own.
            "support_turn [session]",
            "  chat gpt-4o-mini [model]",
            "  execute_tool lookup_order [tool]",
            "    find_order [tool]",
            "  chat gpt-4o-mini [model]",
        ]
    );
    let turn = named(server, "support_turn");
    println!(
        "support_turn: inputs {} outputs {} metadata {}",
        object(&turn.inputs),
        object(&turn.outputs),
        object(&turn.metadata)
    );
    assert_eq!(object(&turn.inputs)["question"], "Where is order 7?");
    assert_eq!(
        object(&turn.inputs).get("agent"),
        None,
        "rig's Agent is neither Serialize nor Debug"
    );
    assert_eq!(object(&turn.metadata)["omitted"], "inputs.agent");
    assert_eq!(object(&turn.outputs), json!({"result": ANSWER}));
    let find = named(server, "find_order");
    assert_eq!(object(&find.inputs), json!({"order": 7}));
    assert_eq!(
        object(&find.outputs),
        json!({"result": {"order": 7, "status": "shipped yesterday"}})
    );
    assert_eq!(object(&find.metadata)["store"], "orders-db");
}

#[tokio::test]
async fn traced_steps_nest_around_and_inside_a_rig_agent_through_the_layer() {
    let server = rig_turn_through(Door::Layer(Box::new(HoneyHiveLayer::builder()))).await;
    assert_rig_turn(&server);
}

#[tokio::test]
async fn traced_steps_nest_around_and_inside_a_rig_agent_through_the_exporter() {
    let server = rig_turn_through(Door::Exporter).await;
    assert_rig_turn(&server);
}

/// The application's step that asks genai's model, traced around genai's own span.
#[trace(event_type = "chain")]
async fn ask(client: &genai::Client, model: &str, question: &str) -> Result<String, genai::Error> {
    let request = genai::chat::ChatRequest::new(vec![genai::chat::ChatMessage::user(question)]);
    let answer = client.exec_chat(model, request, None).await?;
    Ok(answer.first_text().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_traced_step_around_genai_holds_its_call_and_its_provider_error() {
    let model_server = FakeOpenAi::start();
    let client = genai_client(&model_server);
    let server = traced(Door::Layer(Box::new(HoneyHiveLayer::builder())), async {
        let _turn = tracing::info_span!("support turn").entered();
        let answer = ask(&client, "gpt-4o-mini", "Where is order 7?").await;
        assert!(answer.is_ok(), "{answer:?}");
        assert!(
            ask(&client, MISSING_MODEL, "Where is order 7?")
                .await
                .is_err()
        );
    })
    .await;
    let mut lines = outline(&server);
    lines.sort();
    assert_eq!(
        lines,
        [
            "    chat gpt-4o-mini [model]",
            "    chat missing-model [model]",
            "  ask [chain]",
            "  ask [chain]",
            "support turn [session]",
        ]
    );
    let asks: Vec<EventRecord> = server
        .events()
        .into_iter()
        .filter(|e| e.event_name.as_deref() == Some("ask"))
        .collect();
    let failed = asks
        .iter()
        .find(|e| e.error.is_some())
        .expect("the failing step");
    assert!(
        failed.error.as_deref().unwrap().contains("404"),
        "{failed:#?}"
    );
    assert_eq!(object(&failed.inputs)["model"], MISSING_MODEL);
    assert!(
        object(&failed.metadata)["error_type"]
            .as_str()
            .unwrap()
            .contains("genai")
    );
    println!(
        "failing ask: error {:?} metadata {}",
        failed.error,
        object(&failed.metadata)
    );
    let ok = asks.iter().find(|e| e.error.is_none()).unwrap();
    assert_eq!(object(&ok.inputs)["question"], "Where is order 7?");
    assert!(object(&ok.outputs)["result"].is_string(), "{ok:#?}");
}
