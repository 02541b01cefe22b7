use tracing_honeyhive::trace;

#[trace(skip_all, skip(a))]
fn add(a: u32, b: u32) -> u32 {
    a + b
}

fn main() {}
