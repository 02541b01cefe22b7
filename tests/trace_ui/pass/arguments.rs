//! Arguments of every shape: generics with and without bounds, `impl Trait`, closures,
//! references, slices, destructuring patterns, `mut`.

use std::fmt::Debug;

use serde::Serialize;
use tracing_honeyhive::trace;

#[derive(Serialize)]
struct Query {
    text: String,
}

#[derive(Debug)]
struct Opaque(u32);

struct Neither;

#[derive(Clone, Copy)]
struct Point {
    x: i32,
    y: i32,
}

#[trace]
fn serialisable<T: Serialize>(value: T) -> T {
    value
}

#[trace]
fn debuggable<T: Debug>(value: T) -> T {
    value
}

#[trace]
fn unbounded<T>(value: T) -> T {
    value
}

#[trace]
fn where_clause<T>(value: T) -> usize
where
    T: AsRef<str>,
{
    value.as_ref().len()
}

#[trace]
fn apply(f: impl Fn(u32) -> u32, x: u32) -> u32 {
    f(x)
}

#[trace]
fn total(bytes: impl Iterator<Item = u8>) -> u32 {
    bytes.map(u32::from).sum()
}

#[trace]
fn call_twice<F: FnMut() -> u32>(mut f: F) -> u32 {
    f() + f()
}

#[trace]
fn boxed(f: Box<dyn Fn(&str) -> String>) -> String {
    f("boxed")
}

#[trace]
fn borrowed(text: &str, count: &usize, point: &mut i32) -> usize {
    *point += 1;
    text.len() + *count
}

#[trace]
fn optional(name: Option<&str>) -> String {
    name.unwrap_or("anonymous").to_owned()
}

#[trace]
fn joined(items: &[String]) -> String {
    items.join(", ")
}

#[trace]
fn tuple((a, b): (u32, u32)) -> u32 {
    a + b
}

#[trace]
fn structure(Point { x, y }: Point, [first, _second]: [u8; 2]) -> i32 {
    x + y + i32::from(first)
}

#[trace]
fn mutable(mut count: u32, mut items: Vec<u32>) -> (u32, Vec<u32>) {
    count += 1;
    items.push(count);
    (count, items)
}

#[trace(skip(key), event_type = "tool")]
fn skipping(key: &str, query: Query) -> usize {
    key.len() + query.text.len()
}

#[trace(skip_all, ret = false, level = "debug", target = "ui", metadata.step = 2)]
fn everything(r#type: &str, opaque: Opaque, neither: Neither) -> u32 {
    let _ = neither;
    r#type.len() as u32 + opaque.0
}

#[trace(skip(r#type), config.model = %"gpt-4o", metadata.tag = ?Some(1))]
fn raw_identifier(r#type: &str) -> usize {
    r#type.len()
}

fn main() {
    assert_eq!(serialisable(Query { text: "q".into() }).text, "q");
    assert_eq!(debuggable(Opaque(3)).0, 3);
    let Neither = unbounded(Neither);
    assert_eq!(where_clause("four"), 4);
    let offset = 10;
    assert_eq!(apply(move |x| x + offset, 1), 11);
    assert_eq!(total(vec![1u8, 2, 3].into_iter()), 6);
    let mut calls = 0;
    assert_eq!(
        call_twice(|| {
            calls += 1;
            calls
        }),
        3
    );
    assert_eq!(boxed(Box::new(|s| s.to_uppercase())), "BOXED");
    let mut point = 0;
    assert_eq!(borrowed("abc", &2, &mut point), 5);
    assert_eq!(point, 1);
    assert_eq!(optional(Some("ada")), "ada");
    assert_eq!(optional(None), "anonymous");
    assert_eq!(joined(&["a".to_owned(), "b".to_owned()]), "a, b");
    assert_eq!(tuple((1, 2)), 3);
    assert_eq!(structure(Point { x: 1, y: 2 }, [3, 4]), 6);
    assert_eq!(mutable(1, vec![]), (2, vec![2]));
    assert_eq!(skipping("key", Query { text: "q".into() }), 4);
    assert_eq!(everything("ab", Opaque(1), Neither), 3);
    assert_eq!(raw_identifier("abc"), 3);
}
