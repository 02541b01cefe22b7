use tracing_honeyhive::trace;

#[trace(honeyhive.inputs = 1)]
fn step() {}

fn main() {}
