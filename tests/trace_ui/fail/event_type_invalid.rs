use tracing_honeyhive::trace;

#[trace(event_type = "llm")]
fn complete(prompt: &str) -> usize {
    prompt.len()
}

fn main() {}
