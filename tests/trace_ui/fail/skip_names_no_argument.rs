use tracing_honeyhive::trace;

#[trace(skip(nope))]
fn search(query: &str, top_k: usize) -> usize {
    query.len() + top_k
}

fn main() {}
