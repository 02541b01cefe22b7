use tracing_honeyhive::traced;

fn main() {
    let _ = traced!(event_type = "tool", || 1);
}
