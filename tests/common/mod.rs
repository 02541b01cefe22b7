//! Helpers shared by the integration test binaries.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use jsonschema::Validator;

/// The vendored contract schema `file` (such as `create-session.json`), compiled once per test
/// binary.
pub fn schema(file: &str) -> &'static Validator {
    static CACHE: LazyLock<Mutex<HashMap<String, &'static Validator>>> =
        LazyLock::new(Mutex::default);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache.entry(file.to_owned()).or_insert_with(|| {
        let path = format!("{}/schemas/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let validator = jsonschema::validator_for(&json).unwrap_or_else(|e| panic!("{path}: {e}"));
        Box::leak(Box::new(validator))
    })
}

/// A plain HTTP client, for requests the typed client would never send.
pub fn raw_http() -> reqwest::Client {
    reqwest::Client::new()
}

/// Peak resident memory of this process, in KiB (Linux; 0 elsewhere): the test's own when it
/// runs alone in its process.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

/// The URL of a loopback port nothing listens on: a server that is down.
pub fn closed_url() -> String {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    url
}

/// The names of a tree's nodes, depth first, indented by depth, with their types.
pub fn outline(tree: &tracing_honeyhive::wire::SessionTree) -> Vec<String> {
    fn walk(node: &tracing_honeyhive::wire::SessionTree, depth: usize, out: &mut Vec<String>) {
        let event = &node.event;
        out.push(format!(
            "{}{} [{}]",
            "  ".repeat(depth),
            event.event_name.as_deref().unwrap_or("?"),
            event.event_type.as_deref().unwrap_or("?")
        ));
        for child in &node.children {
            walk(child, depth + 1, out);
        }
    }
    let mut out = Vec::new();
    walk(tree, 0, &mut out);
    out
}

/// An agent run of langchain-rust 7.0.0 as it records one: the names, targets and fields of its
/// spans (`observability.rs`, `agent/executor.rs`, `chain/llm_chain.rs`), usage recorded after
/// the call and a failed tool's `error` with the warning it logs, as its code does. langchain-rust
/// itself is too heavy a dependency for these tests.
pub fn langchain_agent_run() {
    use tracing::field::{Empty, display};
    let run = tracing::info_span!(
        target: "langchain_rust::agent::executor",
        "agent.run",
        max_iterations = Some(10_i32),
        steps = Empty,
        total_tokens = Empty,
        error = Empty,
    );
    let _run = run.enter();
    tracing::info_span!(target: "langchain_rust::agent::executor", "agent.plan", step = 0_usize)
        .in_scope(|| {
            let llm = langchain_llm_span(false);
            llm.record("prompt_tokens", 21_u32);
            llm.record("completion_tokens", 9_u32);
            llm.record("total_tokens", 30_u32);
            llm.record("tool_calls", 1_usize);
        });
    let tool = tracing::info_span!(
        target: "langchain_rust::agent::executor",
        "tool.call",
        tool = %"search",
        error = Empty,
    );
    let failure = "search service timed out";
    tool.record("error", display(failure));
    tool.in_scope(|| {
        tracing::warn!(target: "langchain_rust::observability", error = %failure, "tool.call failed")
    });
    drop(tool);
    drop(tracing::info_span!(
        target: "langchain_rust::observability",
        "embed.documents",
        provider = "openai",
        model = "text-embedding-3-small",
        count = 2_usize,
        error = Empty,
    ));
    tracing::info_span!(
        target: "langchain_rust::chain::llm_chain",
        "chain.call",
        chain = "llm_chain",
        error = Empty,
    )
    .in_scope(|| {
        let llm = langchain_llm_span(true);
        llm.record("prompt_tokens", 5_u32);
        llm.record("completion_tokens", 2_u32);
        llm.record("total_tokens", 7_u32);
    });
    run.record("steps", 1_usize);
    run.record("total_tokens", 37_u32);
}

/// langchain-rust's `llm_span`: an `llm.generate` span, usage and errors recorded later.
fn langchain_llm_span(stream: bool) -> tracing::Span {
    use tracing::field::Empty;
    tracing::info_span!(
        target: "langchain_rust::observability",
        "llm.generate",
        provider = "openai",
        model = "gpt-4o-mini",
        stream,
        prompt_tokens = Empty,
        completion_tokens = Empty,
        total_tokens = Empty,
        tool_calls = Empty,
        error = Empty,
    )
}

/// A span of another crate under one of langchain-rust's names, with the same fields.
pub fn other_crates_llm_generate() {
    drop(tracing::info_span!(
        target: "my_app::llm",
        "llm.generate",
        provider = "openai",
        model = "gpt-4o-mini",
        prompt_tokens = 21_u32,
    ));
}

/// What [`langchain_agent_run`] must become below its session, through either front door:
/// typed events with the figures in HoneyHive's canonical keys.
#[track_caller]
pub fn assert_langchain_agent_run(run: &tracing_honeyhive::wire::SessionTree) {
    use serde_json::{Value, json};
    use tracing_honeyhive::wire::SessionTree;
    // Siblings that start in the same millisecond may be listed in any order: found by name.
    fn child<'a>(node: &'a SessionTree, name: &str) -> &'a SessionTree {
        let found: Vec<&SessionTree> = node
            .children
            .iter()
            .filter(|c| c.event.event_name.as_deref() == Some(name))
            .collect();
        assert_eq!(found.len(), 1, "one {name} below {:?}", outline(node));
        found[0]
    }
    let kind = |node: &SessionTree| node.event.event_type.clone().unwrap_or_default();
    let object = |value: &Option<Value>| value.clone().unwrap_or_else(|| json!({}));
    assert_eq!(run.event.event_name.as_deref(), Some("agent.run"));
    assert_eq!(kind(run), "chain");
    assert_eq!(run.children.len(), 4, "{:?}", outline(run));
    let plan = child(run, "agent.plan");
    let tool = child(run, "tool.call");
    let embed = child(run, "embed.documents");
    let chain = child(run, "chain.call");
    let llm = child(plan, "llm.generate");
    let streamed = child(chain, "llm.generate");
    let kinds: Vec<String> = [plan, tool, embed, chain, llm, streamed]
        .into_iter()
        .map(kind)
        .collect();
    assert_eq!(kinds, ["chain", "tool", "model", "chain", "model", "model"]);

    let agent = &run.event;
    assert_eq!(object(&agent.config)["max_iterations"], json!(10));
    assert_eq!(object(&agent.metadata)["steps"], json!(1));
    assert_eq!(object(&agent.metadata)["total_tokens"], json!(37));
    assert_eq!(object(&plan.event.metadata)["step"], json!(0));
    let config = object(&llm.event.config);
    assert_eq!(
        (&config["model"], &config["provider"], &config["stream"]),
        (&json!("gpt-4o-mini"), &json!("openai"), &json!(false))
    );
    let metadata = object(&llm.event.metadata);
    assert_eq!(
        (
            &metadata["prompt_tokens"],
            &metadata["completion_tokens"],
            &metadata["total_tokens"],
            &metadata["tool_calls"],
        ),
        (&json!(21), &json!(9), &json!(30), &json!(1))
    );
    assert_eq!(object(&tool.event.config)["tool_name"], json!("search"));
    assert_eq!(
        tool.event.error.as_deref(),
        Some("search service timed out")
    );
    assert_eq!(
        object(&embed.event.config)["model"],
        json!("text-embedding-3-small")
    );
    assert_eq!(object(&embed.event.metadata)["count"], json!(2));
    assert_eq!(object(&chain.event.metadata)["chain"], json!("llm_chain"));
    assert_eq!(object(&streamed.event.config)["stream"], json!(true));
    assert_eq!(object(&streamed.event.metadata)["total_tokens"], json!(7));
}
