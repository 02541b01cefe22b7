use tracing_honeyhive::trace;

#[trace(ret = "no")]
fn step() -> u32 {
    1
}

fn main() {}
