use tracing_honeyhive::trace;

#[trace(level = tracing::Level::LOUD)]
fn step() {}

fn main() {}
