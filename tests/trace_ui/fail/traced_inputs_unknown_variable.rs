use tracing_honeyhive::traced;

fn main() {
    let query = "shipped?";
    let _ = traced!("step", inputs(nope), || query.len());
}
