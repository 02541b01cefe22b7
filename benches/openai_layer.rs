//! What `tracing_honeyhive::async_openai::TraceLayer` costs one chat completion call made through
//! a real `async_openai::Client` (`with_http_service`, `chat().create(...)`), the transport an
//! inner tower service that answers at once from memory: it builds the request
//! (`HttpRequestFactory::build`) and returns a canned `reqwest::Response`. async-openai's own
//! work (serialising the request, parsing the answer) is in every subject alike, so what differs
//! is the layer. Side by side, for a whole answer and for a streamed one (an SSE body of 20
//! chunks, read to the end):
//!
//! 1. no layer (the floor, and the ratio's denominator);
//! 2. the layer, with no subscriber at all (nothing wants its span: a check, nothing parsed);
//! 3. under `HoneyHiveLayer` sending to the local server, each call inside a root span (a
//!    session): the root with an untraced call (the floor of this case), and the root with the
//!    traced call, so that the difference is the layer's span, recorded, mapped and exported.
//!    The exporter is flushed, untimed, every [`BATCH`] calls, so that every trace is taken.
//!
//! Each call runs on a current-thread tokio runtime (`block_on`). The run ends with a markdown
//! table for BENCHMARKS.md: the median (and fastest) of criterion's samples in ns per call, and
//! the ratio to the call without the layer in the same body and case.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-main cargo bench --all-features --bench openai_layer
//! ```

mod common;

use common::measure::median;

use std::hint::black_box;
use std::time::{Duration, Instant};

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
use async_openai::types::chat::{
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
    CreateChatCompletionRequest, CreateChatCompletionRequestArgs,
};
use bytes::Bytes;
use criterion::{Criterion, SamplingMode, criterion_group};
use futures_util::StreamExt as _;
use serde_json::json;
use tokio::runtime::Runtime;
use tracing::Dispatch;
use tracing::dispatcher::with_default;
use tracing_honeyhive::HoneyHiveLayer;
use tracing_honeyhive::async_openai::TraceLayer;
use tracing_honeyhive::emulator::Emulator;
use tracing_subscriber::layer::SubscriberExt;

/// Calls under the layer between two flushes of the exporter.
const BATCH: u64 = 500;
/// Content chunks of the streamed answer (with the role, the finish and the usage: 23 events).
const CHUNKS: usize = 20;

/// A whole answer or a streamed one.
#[derive(Clone, Copy, PartialEq)]
enum Body {
    Whole,
    Stream,
}

impl Body {
    fn name(self) -> &'static str {
        match self {
            Body::Whole => "whole answer",
            Body::Stream => "streamed, 20 chunks",
        }
    }
}

/// The canned answer's body, as OpenAI writes it.
fn answer(body: Body) -> Bytes {
    let top = json!({"id": "chatcmpl-canned", "created": 1_760_000_000, "model": "gpt-4o-mini"});
    let text =
        "Your order 7 left our warehouse yesterday and should arrive within three working days.";
    let usage = json!({"prompt_tokens": 42, "completion_tokens": 18, "total_tokens": 60});
    match body {
        Body::Whole => {
            let mut whole = top;
            whole["object"] = json!("chat.completion");
            whole["choices"] = json!([{"index": 0, "finish_reason": "stop",
                "message": {"role": "assistant", "content": text}}]);
            whole["usage"] = usage;
            Bytes::from(whole.to_string())
        }
        Body::Stream => {
            let chunk = |choices: serde_json::Value, usage: serde_json::Value| {
                let mut chunk = top.clone();
                chunk["object"] = json!("chat.completion.chunk");
                chunk["choices"] = choices;
                chunk["usage"] = usage;
                format!("data: {chunk}\n\n")
            };
            let words: Vec<&str> = text.split(' ').collect();
            let mut events = chunk(
                json!([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]),
                serde_json::Value::Null,
            );
            for i in 0..CHUNKS {
                let piece = format!(" {}", words[i % words.len()]);
                events += &chunk(
                    json!([{"index": 0, "delta": {"content": piece}, "finish_reason": null}]),
                    serde_json::Value::Null,
                );
            }
            events += &chunk(
                json!([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
                serde_json::Value::Null,
            );
            events += &chunk(json!([]), usage);
            events += "data: [DONE]\n\n";
            Bytes::from(events)
        }
    }
}

/// The transport: builds the request as a real one would, then answers `body` at once.
fn canned(
    body: Body,
) -> impl tower::Service<
    HttpRequestFactory,
    Response = reqwest::Response,
    Error = OpenAIError,
    Future = impl Future<Output = Result<reqwest::Response, OpenAIError>> + Send + 'static,
> + Clone
+ Send
+ Sync
+ 'static {
    let bytes = answer(body);
    let content_type = match body {
        Body::Whole => "application/json",
        Body::Stream => "text/event-stream",
    };
    tower::service_fn(move |factory: HttpRequestFactory| {
        let bytes = bytes.clone();
        async move {
            let request = factory.build().await?;
            black_box(&request);
            let response = http::Response::builder()
                .status(200)
                .header("content-type", content_type)
                .body(bytes)
                .expect("a valid response");
            Ok(reqwest::Response::from(response))
        }
    })
}

fn client(body: Body, traced: bool) -> Client<OpenAIConfig> {
    let config = OpenAIConfig::new().with_api_key("sk-bench");
    let client = Client::with_config(config);
    if traced {
        use tower::Layer as _;
        client.with_http_service(TraceLayer::new().layer(canned(body)))
    } else {
        client.with_http_service(canned(body))
    }
}

fn request() -> CreateChatCompletionRequest {
    CreateChatCompletionRequestArgs::default()
        .model("gpt-4o-mini")
        .temperature(0.2)
        .max_completion_tokens(200_u32)
        .messages(vec![
            ChatCompletionRequestSystemMessage::from(
                "You are a support agent for an online shop. Look orders up before answering.",
            )
            .into(),
            ChatCompletionRequestUserMessage::from("Where is my order 7? I ordered it last week.")
                .into(),
        ])
        .build()
        .expect("a valid request")
}

/// One call, its answer read to the end.
async fn call(client: &Client<OpenAIConfig>, request: &CreateChatCompletionRequest, body: Body) {
    match body {
        Body::Whole => {
            let answer = client
                .chat()
                .create(request.clone())
                .await
                .expect("answered");
            black_box(answer.choices.len());
        }
        Body::Stream => {
            let mut stream = client
                .chat()
                .create_stream(request.clone())
                .await
                .expect("a stream");
            let mut chunks = 0;
            while let Some(chunk) = stream.next().await {
                chunk.expect("a chunk");
                chunks += 1;
            }
            assert_eq!(chunks, CHUNKS + 3, "every chunk arrives");
        }
    }
}

/// One line of the final table.
struct Row {
    case: &'static str,
    body: Body,
    subject: &'static str,
    /// Criterion's measured samples, ns per call.
    samples: Vec<f64>,
}

const NO_LAYER: &str = "no layer";

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Cases 1 and 2: the call bare, without and with the layer, no subscriber.
fn bare(c: &mut Criterion, body: Body, rows: &mut Vec<Row>) {
    let case = "no subscriber";
    let rt = runtime();
    let request = request();
    let mut group = c.benchmark_group(format!("{case}, {}", body.name()));
    settings(&mut group);
    for (subject, traced) in [(NO_LAYER, false), ("TraceLayer", true)] {
        let client = client(body, traced);
        let mut samples = Vec::new();
        group.bench_function(subject, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    rt.block_on(call(&client, &request, body));
                }
                let elapsed = start.elapsed();
                samples.push(elapsed.as_nanos() as f64 / iters as f64);
                elapsed
            });
        });
        rows.push(Row {
            case,
            body,
            subject,
            samples: samples.split_off(samples.len().saturating_sub(SAMPLES)),
        });
    }
    group.finish();
}

/// Case 3: a root span around each call, under `HoneyHiveLayer` sending to the local server.
fn layered(c: &mut Criterion, body: Body, rows: &mut Vec<Row>) {
    let case = "HoneyHiveLayer -> local server, a session per call";
    let server = Emulator::builder()
        .start()
        .expect("the local server starts");
    let (layer, guard) = HoneyHiveLayer::builder()
        .with_api_url(server.url())
        .build()
        .expect("the layer builds");
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    let rt = runtime();
    let request = request();
    let mut group = c.benchmark_group(format!("{case}, {}", body.name()));
    settings(&mut group);
    let subjects = [
        ("root + untraced call (floor)", false),
        ("root + TraceLayer", true),
    ];
    for (subject, traced) in subjects {
        let client = client(body, traced);
        let mut samples = Vec::new();
        group.bench_function(subject, |b| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                for first in (0..iters).step_by(BATCH as usize) {
                    let n = BATCH.min(iters - first);
                    elapsed += with_default(&dispatch, || {
                        let start = Instant::now();
                        for _ in 0..n {
                            let root = tracing::info_span!("support turn");
                            let _entered = root.enter();
                            rt.block_on(call(&client, &request, body));
                        }
                        start.elapsed()
                    });
                    guard
                        .flush(Duration::from_secs(60))
                        .expect("the exporter keeps up when flushed");
                    server.clear();
                }
                samples.push(elapsed.as_nanos() as f64 / iters as f64);
                elapsed
            });
        });
        rows.push(Row {
            case,
            body,
            subject,
            samples: samples.split_off(samples.len().saturating_sub(SAMPLES)),
        });
    }
    group.finish();
    let stats = guard.stats();
    println!(
        "\nthe layer ({}): {} spans produced, {} delivered, {} dropped",
        body.name(),
        stats.produced(),
        stats.delivered(),
        stats.dropped.total(),
    );
}

const SAMPLES: usize = 20;

fn settings(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group
        .sample_size(SAMPLES)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
}

fn table(rows: &[Row]) {
    println!("\n| case | answer | subject | ns per call, median (fastest) | × no layer |");
    println!("|---|---|---|---:|---:|");
    for row in rows {
        let Some(ns) = median(&row.samples) else {
            continue; // filtered out of this run
        };
        let fastest = row.samples.iter().copied().fold(f64::INFINITY, f64::min);
        // The denominator: the untraced call of the same case and body.
        let floor = rows
            .iter()
            .find(|other| other.case == row.case && other.body == row.body)
            .and_then(|other| median(&other.samples));
        let ratio = floor.map_or_else(|| "–".to_owned(), |f| format!("{:.2}", ns / f));
        println!(
            "| {} | {} | {} | {ns:.0} ({fastest:.0}) | {ratio} |",
            row.case,
            row.body.name(),
            row.subject
        );
    }
}

fn openai_layer(c: &mut Criterion) {
    let mut rows = Vec::new();
    // Without a subscriber first: once one has existed, callsites have been registered with it.
    for body in [Body::Whole, Body::Stream] {
        bare(c, body, &mut rows);
    }
    for body in [Body::Whole, Body::Stream] {
        layered(c, body, &mut rows);
    }
    table(&rows);
}

criterion_group!(benches, openai_layer);

fn main() {
    benches();
    Criterion::default().final_summary();
}
