//! Sends one small conversation to HoneyHive with the typed client.
//!
//! With `HH_API_KEY` unset it starts the local HoneyHive-compatible server in-process, sends
//! there and prints what the server stored as a tree; with `HH_API_KEY` set it sends to HoneyHive
//! (at `HH_API_URL` when set). It exits non-zero if anything was not delivered.
//!
//! ```text
//! cargo run --example quickstart --features emulator
//! ```

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;
use tracing_honeyhive::Client;
use tracing_honeyhive::emulator::Emulator;
use tracing_honeyhive::wire::{
    CreateSession, Event, EventType, JsonObject, SessionTree, UpdateEvent,
};
use uuid::Uuid;

fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

fn object(value: serde_json::Value) -> JsonObject {
    value.as_object().cloned().unwrap_or_default()
}

/// A step of the conversation: an event that lasted `ms` milliseconds from `start`.
fn step(kind: EventType, name: &str, parent: Uuid, start: i64, ms: i64) -> Event {
    let mut event = Event::new(kind);
    event.event_id = Some(Uuid::new_v4());
    event.parent_id = Some(parent);
    event.event_name = Some(name.into());
    event.start_time = Some(start);
    event.end_time = Some(start + ms);
    event.duration = Some(ms as f64);
    event
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let local = match std::env::var("HH_API_KEY") {
        Ok(key) if !key.trim().is_empty() => None,
        _ => Some(Emulator::builder().start()?),
    };
    let mut builder = Client::builder();
    if let Some(server) = &local {
        builder = builder.with_api_url(server.url());
    }
    let client = builder.build()?;

    let start = now_ms();
    let mut session = CreateSession::default();
    session.session_id = Some(Uuid::new_v4());
    session.session_name = Some("quickstart: order status".into());
    session.source = Some("example".into());
    session.start_time = Some(start);
    session.inputs = Some(object(json!({"question": "Where is my order #1042?"})));
    let session_id = client.create_session(&session).await?.session_id;

    let mut agent = step(EventType::Chain, "answer question", session_id, start, 740);
    let agent_id = agent.event_id.unwrap_or_default();
    agent.inputs = object(json!({"question": "Where is my order #1042?"}));
    let mut plan = step(EventType::Model, "plan", agent_id, start + 5, 310);
    plan.config = Some(object(
        json!({"model": "gpt-4o-mini", "provider": "openai"}),
    ));
    plan.inputs = object(json!({"chat_history": [
        {"role": "system", "content": "You are a support agent."},
        {"role": "user", "content": "Where is my order #1042?"}
    ]}));
    plan.outputs = Some(object(
        json!({"role": "assistant", "tool_call": "lookup_order"}),
    ));
    plan.metadata = Some(object(json!({"prompt_tokens": 41, "completion_tokens": 9})));
    let mut lookup = step(EventType::Tool, "lookup_order", agent_id, start + 320, 120);
    lookup.inputs = object(json!({"order_id": 1042}));
    lookup.outputs = Some(object(json!({"status": "shipped", "eta_days": 2})));
    let mut reply = step(EventType::Model, "reply", agent_id, start + 445, 290);
    reply.config = plan.config.clone();
    reply.outputs = Some(object(
        json!({"content": "It shipped; it arrives in 2 days."}),
    ));
    client
        .create_session_event_batch(session_id, &[plan, lookup, reply, agent])
        .await?;

    let mut done = UpdateEvent::default();
    done.outputs = Some(object(
        json!({"answer": "It shipped; it arrives in 2 days."}),
    ));
    done.end_time = Some(start + 750);
    done.duration = Some(750.0);
    client.update_event(session_id, &done).await?;

    match &local {
        Some(server) => {
            let tree = server
                .tree(&session_id.to_string())
                .ok_or("session not stored")?;
            println!("The local server at {} received:\n", server.url());
            print_tree(&tree, 0, tree.event.start_time.unwrap_or_default());
            let stored = server.events_of(&session_id.to_string()).len();
            if stored != 4 {
                return Err(format!("expected 4 events, the server has {stored}").into());
            }
        }
        None => println!("Sent session {session_id} to {}", client.api_url()),
    }
    Ok(())
}

/// One line per event: name, type, offset and duration, and a bar on a 50 ms grid.
fn print_tree(node: &SessionTree, depth: usize, origin: f64) {
    let event = &node.event;
    let start = event.start_time.unwrap_or(origin) - origin;
    let duration = event.duration.unwrap_or_default();
    let bar = " ".repeat((start / 50.0) as usize)
        + &"█".repeat((duration / 50.0).ceil().max(1.0) as usize);
    let label = format!(
        "{}{} [{}]",
        "  ".repeat(depth),
        event.event_name.as_deref().unwrap_or("?"),
        event.event_type.as_deref().unwrap_or("?")
    );
    println!("{label:<34} +{start:>5.0} ms {duration:>6.0} ms  {bar}");
    for child in &node.children {
        print_tree(child, depth + 1, origin);
    }
}
