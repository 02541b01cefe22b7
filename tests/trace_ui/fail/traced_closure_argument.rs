use tracing_honeyhive::traced;

fn main() {
    let _ = traced!("double", |x: u32| x * 2);
}
