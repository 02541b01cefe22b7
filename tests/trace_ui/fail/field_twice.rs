use tracing_honeyhive::trace;

#[trace(metadata.step = 1, metadata.step = 2)]
fn step() {}

fn main() {}
