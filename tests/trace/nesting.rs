use std::fmt::Debug;

use serde::Serialize;
use serde_json::json;
use tracing::Instrument;
use tracing_honeyhive::trace;

use crate::{Harness, object};

#[derive(Debug, thiserror::Error)]
#[error("no documents for {0:?}")]
struct NothingFound(Vec<String>);

#[trace]
async fn agent_turn(question: String) -> Result<String, NothingFound> {
    let plan = plan(&question).await;
    // A spawned task, instrumented, nests under the step that spawned it.
    let found = tokio::spawn(retrieve(plan).in_current_span())
        .await
        .expect("the task ran")?;
    Ok(polish(&found).await)
}

#[trace(event_type = "chain")]
async fn plan(question: &str) -> Vec<String> {
    tokio::task::yield_now().await;
    question.split_whitespace().map(str::to_owned).collect()
}

#[trace(event_type = "tool")]
async fn retrieve(plan: Vec<String>) -> Result<String, NothingFound> {
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    if plan.is_empty() {
        return Err(NothingFound(plan));
    }
    Ok(format!("{} documents", plan.len()))
}

#[tracing::instrument]
async fn polish(found: &str) -> String {
    tokio::task::yield_now().await;
    shout(found)
}

#[trace(event_type = "model", config.model = "fake-1")]
fn shout(text: &str) -> String {
    text.to_uppercase()
}

#[test]
fn async_steps_nest_across_await_spawned_tasks_and_instrument() {
    let harness = Harness::new();
    let answer = harness.block_on(agent_turn("where is my order".to_owned()));
    assert_eq!(answer.unwrap(), "4 DOCUMENTS");
    harness.flush();
    assert_eq!(
        harness.outline(),
        [
            "agent_turn [session]",
            "  plan [chain]",
            "  retrieve [tool]",
            "  polish [chain]",
            "    shout [model]",
        ]
    );
    let session = harness.event("agent_turn");
    assert_eq!(
        object(&session.inputs),
        json!({"question": "where is my order"})
    );
    assert_eq!(object(&session.outputs), json!({"result": "4 DOCUMENTS"}));
    let retrieve = harness.event("retrieve");
    assert_eq!(
        object(&retrieve.inputs),
        json!({"plan": ["where", "is", "my", "order"]})
    );
    assert_eq!(object(&harness.event("shout").config)["model"], "fake-1");
}

#[test]
fn an_error_returned_through_await_and_question_mark_is_on_the_event_that_failed() {
    let harness = Harness::new();
    let answer = harness.block_on(agent_turn(String::new()));
    assert!(answer.is_err());
    harness.flush();
    assert_eq!(
        harness.event("retrieve").error.as_deref(),
        Some("no documents for []")
    );
    let session = harness.event("agent_turn");
    assert_eq!(
        object(&session.metadata)["error"],
        "no documents for []",
        "{session:#?}"
    );
}

struct Agent {
    name: String,
    turns: u32,
}

impl Agent {
    #[trace]
    fn greet(&self, who: &str) -> String {
        format!("{} greets {who}", self.name)
    }

    #[trace(event_type = "chain")]
    async fn take_turn(&mut self, question: &str) -> u32 {
        tokio::task::yield_now().await;
        self.turns += question.len() as u32;
        self.turns
    }
}

#[trace]
fn factorial(n: u64) -> u64 {
    if n <= 1 { 1 } else { n * factorial(n - 1) }
}

#[trace]
fn as_json<T: Serialize>(item: T) -> usize {
    serde_json::to_string(&item).map_or(0, |s| s.len())
}

#[trace]
fn as_debug<T: Debug>(item: T) -> String {
    format!("{item:?}")
}

#[trace]
fn opaque<T>(item: T, apply: impl Fn(T) -> u32) -> u32 {
    apply(item)
}

#[test]
fn methods_generics_closures_and_recursion() {
    let harness = Harness::new();
    harness.block_on(async {
        let _root = tracing::info_span!("root");
        async {
            let mut agent = Agent {
                name: "ada".into(),
                turns: 0,
            };
            agent.greet("bob");
            agent.take_turn("hello").await;
            factorial(3);
            as_json(vec![1, 2]);
            as_debug(std::time::Duration::from_millis(5));
            opaque(4u8, |x| u32::from(x) * 2);
        }
        .instrument(_root)
        .await;
    });
    harness.flush();
    assert_eq!(
        harness.outline(),
        [
            "root [session]",
            "  greet [chain]",
            "  take_turn [chain]",
            "  factorial [chain]",
            "    factorial [chain]",
            "      factorial [chain]",
            "  as_json [chain]",
            "  as_debug [chain]",
            "  opaque [chain]",
        ]
    );
    let greet = harness.event("greet");
    assert_eq!(
        object(&greet.inputs),
        json!({"who": "bob"}),
        "self is left out"
    );
    assert_eq!(object(&greet.outputs), json!({"result": "ada greets bob"}));
    assert_eq!(
        object(&harness.event("take_turn").outputs),
        json!({"result": 5})
    );
    assert_eq!(
        object(&harness.event("as_json").inputs),
        json!({"item": [1, 2]})
    );
    assert_eq!(
        object(&harness.event("as_debug").inputs),
        json!({"item": "5ms"})
    );
    let opaque = harness.event("opaque");
    assert_eq!(object(&opaque.inputs), json!({}));
    assert_eq!(
        object(&opaque.metadata)["omitted"],
        "inputs.item, inputs.apply"
    );
    assert_eq!(object(&opaque.outputs), json!({"result": 8}));
}
