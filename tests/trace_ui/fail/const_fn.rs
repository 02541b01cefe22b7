use tracing_honeyhive::trace;

#[trace]
const fn answer() -> u32 {
    42
}

fn main() {}
