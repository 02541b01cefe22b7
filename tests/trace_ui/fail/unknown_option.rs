use tracing_honeyhive::trace;

#[trace(event_typ = "tool")]
fn search(query: &str) -> usize {
    query.len()
}

fn main() {}
