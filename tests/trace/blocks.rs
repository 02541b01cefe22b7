use futures_util::{FutureExt, StreamExt};
use serde_json::json;
use tracing_honeyhive::traced;

use crate::{Harness, object};

trait Tool {
    fn call(&self, query: &str) -> Result<String, std::io::Error>;
}

struct Orders;

impl Tool for Orders {
    fn call(&self, query: &str) -> Result<String, std::io::Error> {
        Ok(format!("{query}: shipped"))
    }
}

#[test]
fn a_closure_and_a_trait_object_call_are_traced_where_no_attribute_fits() {
    let harness = Harness::new();
    let tool: Box<dyn Tool> = Box::new(Orders);
    let documents = ["a".to_owned(), "b".to_owned(), "c".to_owned()];
    harness.run(|| {
        let _root = tracing::info_span!("root").entered();
        let query = "A-17";
        let answer = traced!("lookup", event_type = "tool", inputs(query), || tool
            .call(query));
        assert_eq!(answer.unwrap(), "A-17: shipped");
        let ranked = traced!("rerank", inputs(query, count = documents.len()), || {
            documents.iter().rev().cloned().collect::<Vec<_>>()
        });
        assert_eq!(ranked, ["c", "b", "a"]);
    });
    harness.flush();
    let lookup = harness.event("lookup");
    assert_eq!(lookup.event_type.as_deref(), Some("tool"));
    assert_eq!(object(&lookup.inputs), json!({"query": "A-17"}));
    assert_eq!(object(&lookup.outputs), json!({"result": "A-17: shipped"}));
    let rerank = harness.event("rerank");
    assert_eq!(object(&rerank.inputs), json!({"query": "A-17", "count": 3}));
    assert_eq!(object(&rerank.outputs), json!({"result": ["c", "b", "a"]}));
}

#[test]
fn an_async_block_is_a_traced_future_and_one_dropped_early_reads_as_cancelled() {
    let harness = Harness::new();
    harness.block_on(async {
        let root = tracing::info_span!("root");
        let _entered = root.enter();
        let question = "Where is it?".to_owned();
        let answer = traced!("answer", event_type = "model", inputs(question), async {
            tokio::task::yield_now().await;
            "It shipped.".to_owned()
        })
        .await;
        assert_eq!(answer, "It shipped.");
        // Polled once, then dropped: a timeout, a `select!` that took another branch.
        let never = traced!("slow", async { std::future::pending::<u32>().await });
        assert!(never.now_or_never().is_none());
    });
    harness.flush();
    let answer = harness.event("answer");
    assert_eq!(object(&answer.outputs), json!({"result": "It shipped."}));
    assert_eq!(object(&answer.metadata).get("cancelled"), None);
    let slow = harness.event("slow");
    assert_eq!(object(&slow.metadata)["cancelled"], true);
    assert_eq!(object(&slow.outputs), json!({}));
}

#[test]
fn a_stream_records_what_it_yielded_when_it_ends_fails_or_is_dropped() {
    let harness = Harness::new();
    harness.block_on(async {
        let root = tracing::info_span!("root");
        let _entered = root.enter();
        let chunks = futures_util::stream::iter(["It ", "shipped", "."]);
        let text: String = traced!("streamed", event_type = "model", stream = chunks)
            .collect()
            .await;
        assert_eq!(text, "It shipped.");

        let numbers = futures_util::stream::iter([1, 2, 3]);
        let _: Vec<i32> = traced!("numbers", stream = numbers).collect().await;

        let failing = futures_util::stream::iter([
            Ok("partial "),
            Err(std::io::Error::other("connection reset")),
        ]);
        let _: Vec<_> = traced!("failing", stream = failing).collect().await;

        let mut dropped = Box::pin(traced!(
            "dropped",
            stream = futures_util::stream::iter(["one ", "two ", "three"])
        ));
        assert_eq!(dropped.next().await, Some("one "));
        assert_eq!(dropped.next().await, Some("two "));
    });
    harness.flush();
    let streamed = harness.event("streamed");
    assert_eq!(object(&streamed.outputs), json!({"result": "It shipped."}));
    assert_eq!(object(&streamed.metadata)["stream_items"], 3);
    assert_eq!(
        object(&harness.event("numbers").outputs),
        json!({"result": [1, 2, 3]})
    );
    let failing = harness.event("failing");
    assert_eq!(failing.error.as_deref(), Some("connection reset"));
    assert_eq!(object(&failing.outputs), json!({"result": "partial "}));
    let dropped = harness.event("dropped");
    assert_eq!(object(&dropped.metadata)["cancelled"], true);
    assert_eq!(object(&dropped.metadata)["stream_items"], 2);
    assert_eq!(object(&dropped.outputs), json!({"result": "one two "}));
}

#[test]
fn a_stream_with_content_off_reads_hidden() {
    let harness = Harness::with(|b| b.with_capture_content(false));
    harness.block_on(async {
        let root = tracing::info_span!("root");
        let _entered = root.enter();
        let chunks = futures_util::stream::iter(["secret ", "answer"]);
        let _: String = traced!("streamed", stream = chunks).collect().await;
    });
    harness.flush();
    let streamed = harness.event("streamed");
    assert_eq!(object(&streamed.outputs), json!({"result": "[hidden]"}));
    assert_eq!(object(&streamed.metadata)["stream_items"], 2);
}
