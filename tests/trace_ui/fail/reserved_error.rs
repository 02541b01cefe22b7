use tracing_honeyhive::trace;

#[trace(error = 1)]
fn step() {}

fn main() {}
