use tracing_honeyhive::trace;

#[trace]
struct Step;

fn main() {}
