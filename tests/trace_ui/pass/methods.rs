//! Methods: `&self`, `&mut self`, `self`, async methods, and trait impl methods.

use tracing_honeyhive::trace;

#[derive(Debug, Default)]
struct Counter {
    count: u32,
}

impl Counter {
    #[trace]
    fn new(start: u32) -> Self {
        Counter { count: start }
    }

    #[trace]
    fn get(&self) -> u32 {
        self.count
    }

    #[trace(name = "counter.bump")]
    fn bump(&mut self, by: u32) -> u32 {
        self.count += by;
        self.count
    }

    #[trace]
    fn into_count(self) -> u32 {
        self.count
    }

    #[trace]
    fn boxed(self: Box<Self>) -> u32 {
        self.count
    }

    #[trace(event_type = "tool")]
    async fn fetch(&self, extra: u32) -> u32 {
        self.count + extra
    }

    #[trace]
    async fn fetch_mut(&mut self) -> u32 {
        self.count += 1;
        self.count
    }

    #[trace]
    async fn consume(self) -> u32 {
        self.count
    }
}

trait Tool {
    fn call(&self, query: &str) -> String;
    fn describe() -> &'static str;
    async fn call_async(&self, query: String) -> usize;
}

struct Search;

impl Tool for Search {
    #[trace(event_type = "tool")]
    fn call(&self, query: &str) -> String {
        format!("found {query}")
    }

    #[trace]
    fn describe() -> &'static str {
        "search"
    }

    #[trace]
    async fn call_async(&self, query: String) -> usize {
        query.len()
    }
}

struct Wrapper<T>(T);

impl<T: Clone + std::fmt::Debug> Wrapper<T> {
    #[trace]
    fn inner(&self, times: usize) -> Vec<T> {
        vec![self.0.clone(); times]
    }
}

fn main() {
    let mut counter = Counter::new(1);
    assert_eq!(counter.get(), 1);
    assert_eq!(counter.bump(2), 3);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(counter.fetch(1)), 4);
    assert_eq!(runtime.block_on(counter.fetch_mut()), 4);
    assert_eq!(counter.into_count(), 4);
    assert_eq!(Box::new(Counter::default()).boxed(), 0);
    assert_eq!(runtime.block_on(Counter::new(7).consume()), 7);
    assert_eq!(Search.call("orders"), "found orders");
    assert_eq!(Search::describe(), "search");
    assert_eq!(runtime.block_on(Search.call_async("abc".into())), 3);
    assert_eq!(Wrapper('x').inner(2), vec!['x', 'x']);
}
