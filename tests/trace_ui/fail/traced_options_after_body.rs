use tracing_honeyhive::traced;

fn main() {
    let _ = traced!("step", || 1, event_type = "tool");
}
