use tracing_honeyhive::traced;

fn main() {
    let _ = traced!("step", name = "other", || 1);
}
