//! Issue 11's workload, which every throughput and cost figure in `BENCHMARKS.md` runs, and
//! `tests/memory_budget.rs` and `tests/allocations.rs` too (they include this file with
//! `#[path]`).

/// Spans in one workload: the root and its ten children.
pub const SPANS: u64 = 11;

/// The 200-byte prompt every `llm_call` span carries.
pub fn prompt() -> String {
    "p".repeat(200)
}

/// Issue 11's workload, once: a root span `request` with 3 fields, entered; inside it 10
/// `llm_call` spans with 6 fields (`gen_ai.system` and `gen_ai.request.model`, a 200-byte
/// `gen_ai.prompt`, two integers and a float), each entered, with one `info!` event, exited and
/// closed; then the root closes.
pub fn workload(prompt: &str) {
    let root = tracing::info_span!("request", user = "u-1", route = "/chat", attempt = 1);
    let _root = root.enter();
    for i in 0..10_i64 {
        let call = tracing::info_span!(
            "llm_call",
            gen_ai.system = "openai",
            gen_ai.request.model = "gpt-4o-mini",
            gen_ai.prompt = prompt,
            gen_ai.usage.input_tokens = 120 + i,
            gen_ai.usage.output_tokens = 40 + i,
            gen_ai.request.temperature = 0.2,
        );
        let _call = call.enter();
        tracing::info!(i, "calling the model");
    }
}
