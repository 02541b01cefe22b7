use tracing_honeyhive::traced;

fn main() {
    traced!("step", event_type = "tool");
}
