use tracing_honeyhive::trace;

#[trace(name = "first", name = "second")]
fn step() {}

fn main() {}
