use tracing_honeyhive::trace;

#[trace(level = "loud")]
fn step() {}

fn main() {}
