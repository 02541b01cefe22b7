use tracing_honeyhive::traced;

fn main() {
    let query = "shipped?";
    let _ = traced!("step", skip(query), || query.len());
}
