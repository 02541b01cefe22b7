//! `traced!` on a closure, a `move` closure, an `async` block, an `async move` block and a
//! stream.

use futures_util::StreamExt;
use tracing_honeyhive::traced;

fn rerank(query: &str, documents: &[String]) -> Vec<String> {
    traced!(
        "rerank",
        event_type = "tool",
        inputs(query, count = documents.len()),
        || {
            let mut ranked = documents.to_vec();
            ranked.sort_by_key(|d| !d.contains(query));
            ranked
        }
    )
}

fn checked(text: &str) -> Result<u32, std::num::ParseIntError> {
    traced!("checked", || {
        let n: u32 = text.parse()?;
        Ok(n * 2)
    })
}

fn moved(owned: String) -> usize {
    traced!(
        "moved",
        level = "debug",
        ret = false,
        metadata.step = 1,
        move || owned.len()
    )
}

async fn answer(question: String) -> String {
    traced!("answer", inputs(question, length = question.len()), async {
        format!("{question}: it shipped")
    })
    .await
}

async fn answer_moved(question: String) -> usize {
    traced!("answer_moved", event_type = "chain", async move { question.len() }).await
}

async fn streamed() -> String {
    let chunks = futures_util::stream::iter(["It ", "shipped", "."]);
    let answer = traced!("stream_answer", event_type = "model", stream = chunks);
    answer.collect::<String>().await
}

async fn streamed_numbers() -> Vec<u32> {
    traced!(
        "numbers",
        target = "ui",
        stream = futures_util::stream::iter(vec![1, 2, 3])
    )
    .collect()
    .await
}

fn main() {
    let documents = vec!["no".to_owned(), "shipped".to_owned()];
    assert_eq!(rerank("shipped", &documents)[0], "shipped");
    assert_eq!(checked("21").unwrap(), 42);
    assert!(checked("x").is_err());
    assert_eq!(moved("abc".to_owned()), 3);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        assert_eq!(answer("where".into()).await, "where: it shipped");
        assert_eq!(answer_moved("where".into()).await, 5);
        assert_eq!(streamed().await, "It shipped.");
        assert_eq!(streamed_numbers().await, vec![1, 2, 3]);
    });
}
