use tracing_honeyhive::traced;

fn main() {
    let a = 1;
    let _ = traced!("step", inputs(a), inputs(b = 2), || a);
}
