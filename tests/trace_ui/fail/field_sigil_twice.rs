use tracing_honeyhive::trace;

#[trace(metadata.step = %?1)]
fn step() {}

fn main() {}
