use tracing_honeyhive::trace;

#[trace("name")]
fn step() {}

fn main() {}
