//! Return types and control flow: `impl Display`, a borrowed return with an elided lifetime,
//! recursion, `Result` through an alias, boxed errors, an early `return` and `?` in sync and
//! async bodies.

use std::fmt::{self, Display};

use tracing_honeyhive::trace;

#[derive(Debug)]
struct MyError(String);

impl Display for MyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "my error: {}", self.0)
    }
}

impl std::error::Error for MyError {}

impl From<std::num::ParseIntError> for MyError {
    fn from(e: std::num::ParseIntError) -> Self {
        MyError(e.to_string())
    }
}

type Res<T> = Result<T, MyError>;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[trace]
fn shown(n: u32) -> impl Display {
    format!("#{n}")
}

#[trace]
fn first(items: &[String]) -> &str {
    items.first().map(String::as_str).unwrap_or("")
}

#[trace]
fn longest<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.len() >= b.len() { a } else { b }
}

#[trace]
fn factorial(n: u64) -> u64 {
    if n <= 1 { 1 } else { n * factorial(n - 1) }
}

#[trace]
fn parse(text: &str) -> Res<u32> {
    let n: u32 = text.trim().parse()?;
    if n == 0 {
        return Err(MyError("zero".into()));
    }
    Ok(n)
}

#[trace]
fn parse_boxed(text: &str) -> Result<u32, BoxError> {
    let n: u32 = text.parse()?;
    if n > 100 {
        return Err("too large".into());
    }
    Ok(n)
}

#[trace]
fn anyhow_like(text: &str) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
    Ok(parse(text)? + 1)
}

#[trace]
fn early(n: i32) -> &'static str {
    if n < 0 {
        return "negative";
    }
    "non-negative"
}

#[trace]
fn unit_early(n: i32) {
    if n < 0 {
        return;
    }
    let _ = n;
}

#[trace]
fn optional(text: &str) -> Option<char> {
    let c = text.chars().next()?;
    Some(c.to_ascii_uppercase())
}

#[trace]
fn never_returns_normally() -> Res<()> {
    Err(MyError("always".into()))
}

#[trace]
async fn parse_async(text: String) -> Res<u32> {
    let n = parse(&text)?;
    if n == 1 {
        return Ok(100);
    }
    Ok(n)
}

#[trace]
async fn boxed_async(text: &str) -> Result<u32, BoxError> {
    let n: u32 = text.parse()?;
    if n == 7 {
        // An unsizing coercion at a `return` of a traced `async fn`: the body's returns coerce
        // to the declared type.
        return Err(Box::new(MyError("seven".into())));
    }
    Ok(n)
}

#[trace]
async fn boxed_display_async() -> Box<dyn Display> {
    Box::new(1)
}

#[trace]
async fn display_async() -> impl Display {
    42
}

#[trace]
async fn first_async(items: &[String]) -> &str {
    items.first().map(String::as_str).unwrap_or("")
}

fn main() {
    assert_eq!(shown(3).to_string(), "#3");
    let items = vec!["a".to_owned(), "b".to_owned()];
    assert_eq!(first(&items), "a");
    assert_eq!(longest("abc", "de"), "abc");
    assert_eq!(factorial(5), 120);
    assert_eq!(parse("12").unwrap(), 12);
    assert_eq!(parse("0").unwrap_err().to_string(), "my error: zero");
    assert!(parse("x").is_err());
    assert_eq!(parse_boxed("5").unwrap(), 5);
    assert_eq!(parse_boxed("500").unwrap_err().to_string(), "too large");
    assert!(parse_boxed("x").is_err());
    assert_eq!(anyhow_like("1").unwrap(), 2);
    assert!(anyhow_like("x").is_err());
    assert_eq!(early(-1), "negative");
    assert_eq!(early(1), "non-negative");
    unit_early(-1);
    unit_early(1);
    assert_eq!(optional("abc"), Some('A'));
    assert_eq!(optional(""), None);
    assert!(never_returns_normally().is_err());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        assert_eq!(parse_async("1".into()).await.unwrap(), 100);
        assert_eq!(parse_async("5".into()).await.unwrap(), 5);
        assert!(parse_async("x".into()).await.is_err());
        assert_eq!(boxed_async("3").await.unwrap(), 3);
        assert_eq!(
            boxed_async("7").await.unwrap_err().to_string(),
            "my error: seven"
        );
        assert!(boxed_async("x").await.is_err());
        assert_eq!(display_async().await.to_string(), "42");
        assert_eq!(boxed_display_async().await.to_string(), "1");
        assert_eq!(first_async(&items).await, "a");
    });
}
