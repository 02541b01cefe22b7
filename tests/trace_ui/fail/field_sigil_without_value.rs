use tracing_honeyhive::trace;

#[trace(metadata.step = ?)]
fn step() {}

fn main() {}
