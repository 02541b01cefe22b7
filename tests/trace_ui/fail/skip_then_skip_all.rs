use tracing_honeyhive::trace;

#[trace(skip(a), skip_all)]
fn add(a: u32, b: u32) -> u32 {
    a + b
}

fn main() {}
