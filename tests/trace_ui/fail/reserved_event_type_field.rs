use tracing_honeyhive::trace;

#[trace(honeyhive.event_type = "tool")]
fn step() {}

fn main() {}
