//! What LLM-sized bursts cost and what arrives: each scenario of issue "HoneyHive as it really
//! answers" runs with the default settings in a child process of its own (so that its peak RSS
//! is the pipeline's alone), against the local server in this process, and is reported as a
//! markdown row: the requests sent, what the server holds, what the exporter counted, and the
//! child's peak RSS (`VmHWM`).
//!
//! ```text
//! cargo bench --all-features --bench bursts
//! ```
//!
//! Not timed: the figures are counts, and RSS.

mod common;

use std::process::Command;
use std::time::Duration;

use opentelemetry::trace::TracerProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::json;
use tracing::info_span;
use tracing_honeyhive::emulator::{Emulator, KeyRefusal};
use tracing_honeyhive::otel::HoneyHiveExporter;
use tracing_honeyhive::{Enrichment, Guard, HoneyHiveLayer, HoneyHiveSpanExt, Stats};
use tracing_subscriber::layer::SubscriberExt;

use common::measure::peak_rss_kib;

/// The argument that makes this binary a child running one scenario.
const CHILD: &str = "--bursts-child";
const KEY: &str = "hh_bursts_0123456789abcdef";
const PATIENCE: Duration = Duration::from_secs(120);

/// Each scenario: its name, and what it does.
const SCENARIOS: [(&str, &str); 7] = [
    (
        "revoked-key",
        "a revoked key (every request answered 404): 10 sessions, then one every 100 ms for 5 s",
    ),
    ("turns-600kb", "60 model turns of 600 KB closing together"),
    ("value-40mb", "one span with a 40 MB structured value"),
    (
        "open-10k",
        "10,000 conversations open at once, then closed together",
    ),
    (
        "children-30k",
        "a root with 30,000 children in a tight loop",
    ),
    (
        "otel-burst",
        "100 traces of 11 spans through tracing-opentelemetry and the SDK's batch processor",
    ),
    (
        "late-feedback",
        "100 sessions, then feedback for each by its key after they ended",
    ),
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(CHILD) {
        return child(&args[1], &args[2]);
    }
    // `cargo bench` passes `--bench`; a filter naming no scenario runs them all.
    let picked: Vec<&str> = SCENARIOS
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| args.iter().any(|a| a == name))
        .collect();
    println!(
        "| scenario | requests sent (create / batch / update) | arrived (sessions, ended, events) | counted | peak RSS MiB |"
    );
    println!("|---|---|---|---|---:|");
    for (name, what) in SCENARIOS {
        if !picked.is_empty() && !picked.contains(&name) {
            continue;
        }
        let mut server = Emulator::builder().with_api_key(KEY);
        if name == "revoked-key" {
            server = server.with_key_refusal(KeyRefusal::NotFound);
        }
        let server = server.start().expect("the local server starts");
        let output = Command::new(std::env::current_exe().unwrap())
            .args([CHILD, name, &server.url()])
            .output()
            .expect("the child runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let counted = stdout.lines().last().unwrap_or("(no report)").to_owned();
        assert!(
            output.status.success(),
            "{name}: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let requests = server.requests();
        let count = |method: &str, ends: &str| {
            requests
                .iter()
                .filter(|r| r.method == method && r.path.ends_with(ends))
                .count()
        };
        let sessions = server.sessions();
        let ended = sessions.iter().filter(|s| s.end_time.is_some()).count();
        println!(
            "| {what} | {} ({} / {} / {}) | {}, {}, {} | {counted} |",
            requests.len(),
            count("POST", "/v1/sessions"),
            count("POST", "/events/batch"),
            count("PUT", ""),
            sessions.len(),
            ended,
            server.events().len(),
        );
    }
}

/// Runs scenario `name` against `url` and prints what was counted and the peak RSS, as the last
/// cells of its row.
fn child(name: &str, url: &str) {
    let key = if name == "revoked-key" {
        "hh_revoked_0123456789abcdef"
    } else {
        KEY
    };
    let builder = HoneyHiveLayer::builder()
        .with_api_key(key)
        .with_api_url(url)
        .with_shutdown_timeout(PATIENCE);
    if name == "otel-burst" {
        return otel_burst(url);
    }
    let (layer, guard) = builder.build().expect("the layer builds");
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, || run(name, &guard));
    let report = guard.shutdown(PATIENCE);
    report_row(&report.stats);
}

fn run(name: &str, guard: &Guard) {
    match name {
        "revoked-key" => {
            for i in 0..10 {
                let _turn = info_span!("turn", i).entered();
                drop(info_span!("step").entered());
            }
            for i in 0..50 {
                {
                    let _turn = info_span!("turn", i).entered();
                    drop(info_span!("step").entered());
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        "turns-600kb" => {
            let context = "c".repeat(200_000);
            let _agent = info_span!("agent").entered();
            let turns: Vec<tracing::Span> = (0..60)
                .map(|i| {
                    let turn = info_span!("chat", honeyhive.event_type = "model", turn = i);
                    turn.set_inputs(json!({"chat_history": [
                        {"role": "system", "content": context},
                        {"role": "user", "content": context},
                        {"role": "tool", "content": context},
                    ]}));
                    turn
                })
                .collect();
            drop(turns);
        }
        "value-40mb" => {
            let _root = info_span!("ingest").entered();
            let step = info_span!("summarise");
            step.set_inputs(json!({"document": "d".repeat(40 << 20), "question": "?"}));
        }
        "open-10k" => {
            let open: Vec<tracing::Span> =
                (0..10_000).map(|i| info_span!("conversation", i)).collect();
            for conversation in &open {
                drop(info_span!(parent: conversation, "answer").entered());
            }
        }
        "children-30k" => {
            let root = info_span!("batch job");
            for i in 0..30_000 {
                drop(info_span!(parent: &root, "item", i).entered());
            }
        }
        "late-feedback" => {
            for i in 0..100 {
                let key = format!("conversation-{i}");
                let _turn = info_span!("turn", honeyhive.session_id = key.as_str()).entered();
            }
            guard.flush(PATIENCE).expect("the turns are delivered");
            let handle = guard.handle();
            for i in 0..100 {
                handle.enrich_session(
                    format!("conversation-{i}"),
                    Enrichment::new().with_feedback(json!({"liked": i % 2 == 0})),
                );
            }
        }
        other => panic!("no scenario {other}"),
    }
}

/// The OpenTelemetry path: `tracing` spans through tracing-opentelemetry, the SDK's default
/// batch processor, and the exporter with its default settings.
fn otel_burst(url: &str) {
    let exporter = HoneyHiveExporter::builder()
        .with_api_key(KEY)
        .with_api_url(url)
        .build()
        .expect("the exporter builds");
    let handle = exporter.handle();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bursts")));
    tracing::subscriber::with_default(subscriber, || {
        for turn in 0..100 {
            let _root = info_span!("turn", turn).entered();
            for call in 0..10 {
                let _llm = info_span!(
                    "llm_call",
                    call,
                    gen_ai.request.model = "gpt-4o-mini",
                    gen_ai.usage.input_tokens = 41,
                    outputs.content = "It shipped yesterday.",
                )
                .entered();
                tracing::info!("answered");
            }
        }
    });
    provider
        .shutdown_with_timeout(PATIENCE)
        .expect("the provider shuts down");
    report_row(&handle.stats());
}

fn report_row(stats: &Stats) {
    let d = &stats.dropped;
    println!(
        "{} of {} delivered; dropped: queue_full {}, queue_bytes {}, unauthorized {}, shutdown {}; \
         values cut {} | {:.1}",
        stats.delivered(),
        stats.produced(),
        d.queue_full,
        d.queue_bytes,
        d.unauthorized,
        d.shutdown,
        stats.fields_truncated,
        peak_rss_kib() as f64 / 1024.0
    );
}
