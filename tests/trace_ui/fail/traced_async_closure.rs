use tracing_honeyhive::traced;

fn main() {
    let _ = traced!("answer", async || 1);
}
