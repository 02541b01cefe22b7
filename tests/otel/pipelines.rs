//! SDK pipelines into the exporter: batch and simple processors, `tracing` spans through
//! tracing-opentelemetry, and every kind of runtime around them.

use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::trace::{Span, Tracer, TracerProvider};
use opentelemetry_sdk::error::OTelSdkError;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanExporter};
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;

use super::*;
use crate::common::closed_url;

/// A trace of a root and two model calls, through `provider`'s tracer.
fn one_turn(provider: &SdkTracerProvider) {
    let tracer = provider.tracer("bot");
    tracer.in_span("turn", |_| {
        for _ in 0..2 {
            let mut llm = tracer.start("chat");
            llm.set_attribute(KeyValue::new("gen_ai.operation.name", "chat"));
            llm.set_attribute(KeyValue::new("gen_ai.request.model", "gpt-4o-mini"));
            llm.end();
        }
    });
}

/// The one session holds the turn and its two calls.
#[track_caller]
fn assert_one_turn(server: &Emulator) {
    let tree = only_tree(server);
    assert_eq!(
        outline(&tree),
        // Spans named only by their operation get the conventional name.
        [
            "turn [session]",
            "  chat gpt-4o-mini [model]",
            "  chat gpt-4o-mini [model]"
        ]
    );
}

#[test]
fn a_batch_processor_in_a_plain_main_delivers_and_shuts_down_cleanly() {
    let server = server();
    let exporter = exporter(&server, |b| b);
    let handle = exporter.handle();
    let provider = batch_provider(exporter, "bot");
    one_turn(&provider);
    provider
        .shutdown_with_timeout(PATIENCE)
        .expect("shutdown delivers everything");
    let stats = handle.stats();
    assert_all_delivered(&stats);
    assert_eq!((stats.sessions_completed, stats.events_sent), (1, 2));
    assert_one_turn(&server);
    // After shutdown the exporter refuses, and counts nothing more.
    assert!(matches!(
        provider.shutdown(),
        Err(OTelSdkError::AlreadyShutdown)
    ));
}

#[test]
fn a_simple_processor_exports_on_the_application_thread_without_a_runtime() {
    let server = server();
    let exporter = exporter(&server, |b| b);
    let handle = exporter.handle();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter)
        .build();
    one_turn(&provider);
    // Every span was handed over as it ended.
    assert_eq!(handle.stats().spans_queued, 3);
    provider.shutdown().expect("shutdown delivers everything");
    assert_all_delivered(&handle.stats());
    assert_one_turn(&server);
}

#[test]
fn force_flush_of_the_exporter_waits_for_delivery() {
    let server = server();
    let exporter = exporter(&server, |b| b);
    export(&exporter, vec![vec![Made::new(1, 1, 0, "root").data()]]);
    exporter.force_flush().expect("delivered");
    assert_eq!(server.sessions().len(), 1);
    exporter.shutdown().unwrap();
    assert!(matches!(
        exporter.shutdown_with_timeout(Duration::from_secs(1)),
        Err(OTelSdkError::AlreadyShutdown)
    ));
    assert!(matches!(
        futures_executor_block_on(exporter.export(vec![Made::new(2, 1, 0, "late").data()])),
        Err(OTelSdkError::AlreadyShutdown)
    ));
    assert_eq!(exporter.stats().produced(), 1);
}

#[test]
fn shutdown_with_the_server_down_keeps_its_deadline_and_counts_what_was_lost() {
    let exporter = HoneyHiveExporter::builder()
        .with_api_key(KEY)
        .with_api_url(closed_url())
        .with_shutdown_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let handle = exporter.handle();
    let provider = batch_provider(exporter, "bot");
    one_turn(&provider);
    // The batch processor shuts its exporter down with `shutdown()`, which is given the
    // exporter's own deadline, and does not pass the result on: the counters tell.
    provider
        .shutdown()
        .expect("the processor itself shuts down");
    // On a loaded machine the exporter may answer after the deadline's grace: its counters are
    // then final once it has stopped, a moment later.
    let mut stats = handle.stats();
    let patience = std::time::Instant::now() + PATIENCE;
    while stats.pending() > 0 && std::time::Instant::now() < patience {
        std::thread::sleep(Duration::from_millis(20));
        stats = handle.stats();
    }
    assert_eq!(stats.produced(), 3);
    assert_eq!(stats.dropped.shutdown, 3, "{stats:#?}");
    assert_eq!(stats.pending(), 0);
}

#[test]
fn tracing_spans_through_tracing_opentelemetry_become_the_same_session_and_events() {
    let server = server();
    let exporter = exporter(&server, |b| b);
    let handle = exporter.handle();
    let provider = batch_provider(exporter, "bot");
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bot")));
    tracing::subscriber::with_default(subscriber, || {
        let turn = tracing::info_span!("turn", inputs.question = "Where is my order?");
        let _turn = turn.enter();
        let llm = tracing::info_span!(
            "llm",
            otel.name = "chat gpt-4o-mini",
            gen_ai.operation.name = "chat",
            gen_ai.request.model = "gpt-4o-mini",
            gen_ai.usage.input_tokens = 41,
            gen_ai.usage.output_tokens = 7,
            outputs.content = "It shipped yesterday.",
        );
        llm.in_scope(|| tracing::info!(attempt = 1, "calling the model"));
        drop(llm);
        tracing::info_span!("lookup", gen_ai.tool.name = "orders")
            .in_scope(|| tracing::error!("the order service timed out"));
    });
    provider.shutdown().unwrap();
    let stats = handle.stats();
    assert_all_delivered(&stats);

    // Only the application's spans arrived: the exporter's own HTTP spans did not loop back.
    let tree = only_tree(&server);
    assert_eq!(
        outline(&tree),
        [
            "turn [session]",
            "  chat gpt-4o-mini [model]",
            "  lookup [tool]"
        ]
    );
    assert_eq!(
        tree.event.inputs,
        Some(json!({"question": "Where is my order?"}))
    );
    let llm = &tree.children[0].event;
    assert_eq!(llm.config.clone().unwrap()["model"], json!("gpt-4o-mini"));
    let metadata = llm.metadata.clone().unwrap();
    assert_eq!(metadata["prompt_tokens"], json!(41));
    assert_eq!(metadata["total_tokens"], json!(48));
    assert_eq!(metadata["logs"][0]["message"], json!("calling the model"));
    assert_eq!(metadata["logs"][0]["level"], json!("INFO"));
    assert_eq!(
        llm.outputs,
        Some(json!({"content": "It shipped yesterday."}))
    );
    let lookup = &tree.children[1].event;
    assert_eq!(lookup.error.as_deref(), Some("the order service timed out"));
}

#[test]
fn a_current_thread_runtime_neither_deadlocks_nor_needs_the_exporter_to_have_a_reactor() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = server();
    let stats = runtime.block_on(async {
        let exporter = exporter(&server, |b| b);
        let handle = exporter.handle();
        let provider = batch_provider(exporter, "bot");
        one_turn(&provider);
        tokio::task::yield_now().await;
        // Called from inside the runtime's only thread: the exporter sends on its own.
        provider
            .shutdown_with_timeout(PATIENCE)
            .expect("shutdown delivers everything");
        handle.stats()
    });
    println!("counters of an exporter shut down on a current-thread runtime: {stats:#?}");
    assert_all_delivered(&stats);
    assert_one_turn(&server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_thread_runtime_with_a_simple_processor_delivers_and_shuts_down() {
    let server = server();
    let exporter = exporter(&server, |b| b);
    let handle = exporter.handle();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter)
        .build();
    let spawned = {
        let provider = provider.clone();
        tokio::spawn(async move { one_turn(&provider) })
    };
    spawned.await.unwrap();
    provider.shutdown().expect("shutdown delivers everything");
    assert_all_delivered(&handle.stats());
    assert_one_turn(&server);
}

#[test]
fn a_full_queue_drops_and_counts_instead_of_blocking_export() {
    let exporter = HoneyHiveExporter::builder()
        .with_api_key(KEY)
        .with_api_url(closed_url())
        .with_queue_capacity(10)
        .build()
        .unwrap();
    let batch: Vec<_> = (1..=50u64)
        .map(|i| Made::new(9, i, 0, "root").data())
        .collect();
    export(&exporter, vec![batch]);
    let stats = exporter.stats();
    assert_eq!(stats.produced(), 50);
    assert_eq!(stats.dropped.queue_full, 40, "{stats:#?}");
    let _ = exporter.shutdown_with_timeout(Duration::from_millis(100));
    let stats = exporter.stats();
    assert_eq!(
        stats.dropped.queue_full + stats.dropped.shutdown,
        50,
        "{stats:#?}"
    );
}

#[test]
fn a_burst_of_a_hundred_traces_through_the_default_batch_processor_loses_nothing() {
    // 1,100 spans of tracing-opentelemetry, about half the SDK's own queue, handed over in
    // 512-span batches within milliseconds: about 2.2 KB each in the exporter's queue. With a
    // 2 MiB budget up to 165 were dropped (`queue_bytes`).
    let server = server();
    let exporter = exporter(&server, |b| b);
    let handle = exporter.handle();
    let provider = batch_provider(exporter, "bot");
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bot")));
    tracing::subscriber::with_default(subscriber, || {
        for turn in 0..100 {
            let _root =
                tracing::info_span!("turn", turn, inputs.question = "Where is it?").entered();
            for call in 0..10 {
                let _llm = tracing::info_span!(
                    "llm_call",
                    call,
                    gen_ai.operation.name = "chat",
                    gen_ai.request.model = "gpt-4o-mini",
                    gen_ai.usage.input_tokens = 41,
                    gen_ai.usage.output_tokens = 7,
                    outputs.content = "It shipped yesterday.",
                )
                .entered();
                tracing::info!("answered");
            }
        }
    });
    provider.shutdown_with_timeout(PATIENCE).unwrap();
    let stats = handle.stats();
    assert_all_delivered(&stats);
    assert_eq!(stats.produced(), 1100, "{stats:#?}");
    assert_eq!(server.sessions().len(), 100);
}
