//! End-to-end throughput, CPU and memory of whole pipelines on issue 11's workload (a root span
//! `request` with 3 fields and 10 `llm_call` children with 6 fields and one `info!` event each:
//! 11 spans; see `benches/common/mod.rs`), each pipeline delivering to the loopback sink of
//! `benches/common/sink.rs`, and of the peers issue 23 names (`naive`, `noop`), which send
//! nothing.
//!
//! Subjects:
//! - `honeyhive`: this crate's layer with its defaults (`HoneyHiveLayer::builder()
//!   .with_api_url(sink)`), over the registry;
//! - `honeyhive-across`: the same with `with_cross_session_batches(true)`: the events of several
//!   sessions in each `POST /v1/events/batch`;
//! - `otlp`: tracing-opentelemetry, the SDK's `BatchSpanProcessor` with its defaults, and
//!   opentelemetry-otlp's HTTP/protobuf exporter (blocking reqwest client) to `/v1/traces`;
//! - `otel-discard`: the same bridge and batch processor with an exporter that discards: the floor
//!   of the bridge's background CPU;
//! - `honeyhive-exporter`: the same bridge and batch processor with this crate's
//!   `HoneyHiveExporter`;
//! - `naive`: the straightforward layer of `benches/common/naive.rs` (fields into extensions,
//!   `try_send` into a bounded channel on close, `serde_json` on a thread, the bytes discarded),
//!   over the registry: what a span costs without this crate's design;
//! - `noop`: the registry and a layer that does nothing: the floor of the application thread's
//!   CPU and of memory. It delivers nothing by design: its delivered count is 0 and loss does not
//!   apply (shown as –), so its CPU per delivered span is – too.
//!
//! How: the parent process starts the sink, then runs each subject in a child process (this
//! binary again, with `__throughput_child <subject> <run>` and the sink's URL in `TP_SINK_URL`),
//! so that peak RSS and CPU time are the subject's alone. The child runs the workload on its
//! main thread (the subscriber is that thread's default), shuts its pipeline down (deadline
//! 30 s), and prints one `TP_RESULT {json}` line with:
//! - spans produced, delivered and dropped (by reason where the subject tells);
//! - the workload's wall time, and the total with the shutdown;
//! - the CPU time of all the child's threads over both (`getrusage`);
//! - the main thread's own CPU time over the workload (`CLOCK_THREAD_CPUTIME_ID`; in a paced run
//!   only inside the workloads, and the pacing's own CPU is taken out of the all-threads figure);
//! - peak RSS (`VmHWM`).
//!
//! Delivered spans are counted by the pipelines: this crate's counters (`Guard::shutdown`'s
//! report, `Handle::stats`), for the SDK subjects an exporter wrapper that adds up the spans of
//! each export answered `Ok`, and the naive layer's own count of spans serialised. The parent
//! cross-checks them against what the sink counted (nothing, for `otel-discard`, `naive` and
//! `noop`). The sink runs in the parent, on the same cores: its parsing is not in the child's CPU
//! time.
//!
//! Modes, each run in rounds (subjects interleaved, the order rotating each round), reported as
//! median (min–max):
//! - `flood`: the workload as fast as the main thread goes for `TP_SECONDS` (default 5): offered
//!   and delivered spans per second (delivered over the workload and the shutdown's drain), the
//!   share lost, CPU per delivered span (all threads, and all but the main thread), main-thread
//!   CPU per span produced;
//! - `rate`: a fixed offered rate (`TP_RATES`, default 5000,20000 spans/s, paced by 1 ms ticks
//!   on the main thread) for `TP_RATE_SECONDS` (default 3): delivered and lost (0 for a healthy
//!   pipeline), CPU per delivered span, main-thread CPU per span;
//! - `rss`: a fixed number of workloads as fast as possible (`TP_RSS_WORKLOADS`, default
//!   5000,20000,80000: 55k, 220k and 880k spans): peak RSS, delivered and lost.
//!
//! `TP_ROUNDS` (default 3) sets the rounds. Arguments after `--` pick modes and subjects (default
//! all); arguments this bench does not know are ignored, and when none is known it runs nothing
//! (so that a criterion filter meant for `span_cost` does not start it). The child removes
//! the API key and URL variables (`HH_INGESTION_API_KEY`, `HH_PROJECT_API_KEY`, `HH_API_KEY`,
//! `HH_DATA_PLANE_URL`, `HH_API_URL`), `HH_DISABLE_TRACING`, `OTEL_SDK_DISABLED` and
//! `OTEL_EXPORTER_OTLP_*`, and keeps other `HH_*` and `OTEL_*` settings, which the header lists.
//! The default run takes 4 to 6 minutes on 2 cores:
//!
//! ```text
//! cargo bench --all-features --bench throughput
//! cargo bench --all-features --bench throughput -- flood honeyhive otlp
//! TP_SECONDS=10 TP_ROUNDS=5 cargo bench --all-features --bench throughput -- flood
//! ```

mod common;
// Only this bench's: not in `common/mod.rs`, which every bench compiles.
#[path = "common/naive.rs"]
mod naive;

use std::fmt::Write as _;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry::trace::TracerProvider;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanExporter};
use serde::{Deserialize, Serialize};
use tracing::Dispatch;
use tracing_honeyhive::otel::HoneyHiveExporter;
use tracing_honeyhive::{Guard, Handle, HoneyHiveLayer, Stats};
use tracing_subscriber::layer::SubscriberExt;

use common::measure::{peak_rss_kib, process_cpu, thousands, thread_cpu, utc_now};
use common::sink::{Counts, Sink};
use common::{Counted, Discard, ExportCounts, Noop, SPANS};

/// The first argument of a child process.
const CHILD: &str = "__throughput_child";
/// The prefix of the child's result line.
const RESULT: &str = "TP_RESULT ";
/// How long a child's pipeline may take to deliver what it holds at the end.
const DEADLINE: Duration = Duration::from_secs(30);

const SUBJECTS: [&str; 7] = [
    "honeyhive",
    "honeyhive-across",
    "otlp",
    "otel-discard",
    "honeyhive-exporter",
    "naive",
    "noop",
];
/// The subject that delivers nothing by design (the registry and a layer that does nothing):
/// loss does not apply to it.
const FLOOR: &str = "noop";
const MODES: [&str; 3] = ["flood", "rate", "rss"];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(CHILD) {
        child(&args[1..]);
    } else {
        parent(&args);
    }
}

// ---------------------------------------------------------------------------------------------
// What one child does

/// What a child runs.
#[derive(Debug, Clone, Copy)]
enum Run {
    /// As fast as possible, for this long.
    Flood { seconds: f64 },
    /// At this many spans per second, for this long.
    Rate { spans_per_s: f64, seconds: f64 },
    /// This many workloads, as fast as possible.
    Count { workloads: u64 },
}

impl Run {
    fn to_arg(self) -> String {
        match self {
            Run::Flood { seconds } => format!("flood:{seconds}"),
            Run::Rate {
                spans_per_s,
                seconds,
            } => format!("rate:{spans_per_s}:{seconds}"),
            Run::Count { workloads } => format!("count:{workloads}"),
        }
    }

    fn parse(arg: &str) -> Option<Run> {
        let parts: Vec<&str> = arg.split(':').collect();
        match parts.as_slice() {
            ["flood", seconds] => Some(Run::Flood {
                seconds: seconds.parse().ok()?,
            }),
            ["rate", rate, seconds] => Some(Run::Rate {
                spans_per_s: rate.parse().ok()?,
                seconds: seconds.parse().ok()?,
            }),
            ["count", workloads] => Some(Run::Count {
                workloads: workloads.parse().ok()?,
            }),
            _ => None,
        }
    }

    /// The longest a healthy child takes, with room for a slow shutdown.
    fn limit(self) -> Duration {
        let work = match self {
            Run::Flood { seconds } | Run::Rate { seconds, .. } => seconds,
            Run::Count { workloads } => workloads as f64 / 1_000.0,
        };
        Duration::from_secs_f64(work) + DEADLINE + Duration::from_secs(60)
    }
}

/// What the pipeline says it sent, to compare with what the sink received.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
struct Sent {
    sessions: u64,
    events: u64,
    session_updates: u64,
    /// OTLP exports answered `Ok`.
    otlp_exports: u64,
}

/// The child's result line.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Measured {
    /// Spans the workload made (workloads × 11).
    produced: u64,
    /// Spans the pipeline says it produced (this crate's `Stats::produced`), when it counts them.
    pipeline_produced: Option<u64>,
    delivered: u64,
    dropped: u64,
    /// Why spans were lost, where the subject tells (only reasons with a count).
    reasons: Vec<(String, u64)>,
    sent: Sent,
    /// Whether the shutdown delivered or settled everything in time.
    shutdown_complete: bool,
    /// The workload's wall time.
    workload_s: f64,
    /// The workload and the shutdown.
    total_s: f64,
    /// CPU time of all threads over the workload and the shutdown, less the pacing's.
    cpu_s: f64,
    /// CPU time of the main thread in the workload (for a paced run, inside the workloads only).
    app_cpu_s: f64,
    /// CPU time of the main thread pacing a paced run (its sleeps and clock reads), taken out of
    /// `cpu_s`: the harness's, not the subject's.
    pacing_cpu_s: f64,
    /// Peak RSS just before the workload started, KiB.
    rss_start_kib: u64,
    /// Peak RSS at the end, KiB.
    peak_rss_kib: u64,
}

/// A subject's pipeline, kept until the shutdown.
enum Pipeline {
    /// This crate's layer.
    Layer(Guard),
    /// tracing-opentelemetry and a `BatchSpanProcessor`; this crate's counters when its exporter
    /// is the SDK's.
    Otel {
        provider: SdkTracerProvider,
        counts: Option<Arc<ExportCounts>>,
        handle: Option<Handle>,
    },
    /// The naive layer of `benches/common/naive.rs`.
    Naive(naive::Handle),
    /// The registry and a layer that does nothing.
    Noop,
}

fn bridge(provider: &SdkTracerProvider) -> Dispatch {
    Dispatch::new(
        tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"))),
    )
}

/// tracing-opentelemetry over a `BatchSpanProcessor` with its defaults, exporting to `exporter`.
fn batched(
    exporter: impl SpanExporter + 'static,
    counts: Option<Arc<ExportCounts>>,
    handle: Option<Handle>,
) -> (Pipeline, Dispatch) {
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .build();
    let dispatch = bridge(&provider);
    let pipeline = Pipeline::Otel {
        provider,
        counts,
        handle,
    };
    (pipeline, dispatch)
}

fn build(subject: &str, sink_url: &str) -> (Pipeline, Dispatch) {
    match subject {
        "honeyhive" | "honeyhive-across" => {
            let (layer, guard) = HoneyHiveLayer::builder()
                .with_api_url(sink_url)
                .with_cross_session_batches(subject == "honeyhive-across")
                .build()
                .expect("the layer builds");
            let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
            (Pipeline::Layer(guard), dispatch)
        }
        "otlp" => {
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_protocol(Protocol::HttpBinary)
                .with_endpoint(format!("{sink_url}/v1/traces"))
                .build()
                .expect("the OTLP exporter builds");
            let (exporter, counts) = Counted::new(exporter);
            batched(exporter, Some(counts), None)
        }
        "otel-discard" => {
            let (exporter, counts) = Counted::new(Discard);
            batched(exporter, Some(counts), None)
        }
        "honeyhive-exporter" => {
            let exporter = HoneyHiveExporter::builder()
                .with_api_url(sink_url)
                .with_shutdown_timeout(DEADLINE)
                .build()
                .expect("the exporter builds");
            let handle = exporter.handle();
            batched(exporter, None, Some(handle))
        }
        "naive" => {
            let (layer, handle) = naive::layer();
            let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
            (Pipeline::Naive(handle), dispatch)
        }
        "noop" => {
            let dispatch = Dispatch::new(tracing_subscriber::registry().with(Noop));
            (Pipeline::Noop, dispatch)
        }
        other => panic!("unknown subject `{other}`"),
    }
}

/// This crate's loss counters, by reason, the non-zero ones; `other` for any the bench does not
/// name.
fn reasons_of(stats: &Stats) -> Vec<(String, u64)> {
    let d = &stats.dropped;
    let mut reasons = vec![
        ("queue_full", d.queue_full),
        ("queue_bytes", d.queue_bytes),
        ("shutdown", d.shutdown),
        ("after_shutdown", d.after_shutdown),
        ("unauthorized", d.unauthorized),
        ("redacted", d.redacted),
        ("refused", stats.refused()),
        ("failed", stats.failed()),
    ];
    let named: u64 = reasons.iter().map(|(_, n)| n).sum();
    reasons.push(("other", stats.lost().saturating_sub(named)));
    reasons
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(reason, n)| (reason.to_owned(), n))
        .collect()
}

fn sent_of(stats: &Stats) -> Sent {
    Sent {
        sessions: stats.sessions_sent,
        events: stats.events_sent,
        session_updates: stats.session_updates_sent,
        otlp_exports: 0,
    }
}

impl Pipeline {
    /// Shuts the pipeline down and says what became of the `produced` spans. `dispatch` is the
    /// subscriber the workload ran under: a pipeline that needs it gone to shut down takes it
    /// (the naive layer's channel closes with it); the others leave it to the caller.
    fn finish(self, dispatch: &mut Option<Dispatch>, produced: u64, measured: &mut Measured) {
        measured.produced = produced;
        match self {
            Pipeline::Layer(guard) => {
                let report = guard.shutdown(DEADLINE);
                let stats = report.stats;
                measured.pipeline_produced = Some(stats.produced());
                measured.delivered = stats.delivered();
                measured.dropped = stats.lost();
                measured.reasons = reasons_of(&stats);
                measured.sent = sent_of(&stats);
                measured.shutdown_complete = report.is_complete();
            }
            Pipeline::Otel {
                provider,
                counts,
                handle,
            } => {
                // The batch processor exports what it holds; this crate's exporter then needs
                // its own flush, which the processor does not pass on.
                let flushed = provider.force_flush().is_ok();
                let delivered_in_time = handle
                    .as_ref()
                    .is_none_or(|handle| handle.flush(DEADLINE).is_ok());
                let shut = provider.shutdown_with_timeout(DEADLINE).is_ok();
                measured.shutdown_complete = flushed && delivered_in_time && shut;
                if let Some(counts) = counts {
                    let (delivered, failed, exports) = counts.get();
                    measured.delivered = delivered;
                    measured.dropped = produced.saturating_sub(delivered);
                    measured.sent.otlp_exports = exports;
                    let not_exported = produced.saturating_sub(delivered + failed);
                    measured.reasons = [
                        ("export_failed", failed),
                        ("not_exported (batch processor queue full)", not_exported),
                    ]
                    .into_iter()
                    .filter(|(_, n)| *n > 0)
                    .map(|(reason, n)| (reason.to_owned(), n))
                    .collect();
                }
                if let Some(handle) = handle {
                    let stats = handle.stats();
                    measured.pipeline_produced = Some(stats.produced());
                    measured.delivered = stats.delivered();
                    let never_exported = produced.saturating_sub(stats.produced());
                    measured.dropped = never_exported + stats.lost();
                    measured.reasons = reasons_of(&stats);
                    if never_exported > 0 {
                        measured.reasons.insert(
                            0,
                            (
                                "not_exported (batch processor queue full)".to_owned(),
                                never_exported,
                            ),
                        );
                    }
                    measured.sent = sent_of(&stats);
                }
            }
            Pipeline::Naive(handle) => {
                // The layer holds the channel's only sender: its thread ends once the layer is
                // dropped with the subscriber.
                drop(dispatch.take());
                let report = handle.shutdown(DEADLINE);
                measured.delivered = report.delivered;
                measured.dropped = report.dropped.iter().map(|(_, n)| n).sum();
                measured.reasons = report
                    .dropped
                    .into_iter()
                    .filter(|(_, n)| *n > 0)
                    .map(|(reason, n)| (reason.to_owned(), n))
                    .collect();
                measured.shutdown_complete = report.complete;
            }
            // Nothing delivered, nothing dropped, nothing to shut down.
            Pipeline::Noop => measured.shutdown_complete = true,
        }
    }
}

/// Runs the workload as `run` says; returns how many workloads ran, and for a paced run the
/// calling thread's CPU time inside the workloads (without the pacing's own).
fn drive(run: Run, prompt: &str) -> (u64, Option<Duration>) {
    let start = Instant::now();
    match run {
        Run::Flood { seconds } => {
            let end = start + Duration::from_secs_f64(seconds);
            let mut done = 0;
            while Instant::now() < end {
                common::workload(prompt);
                done += 1;
            }
            (done, None)
        }
        Run::Rate {
            spans_per_s,
            seconds,
        } => {
            let per_second = spans_per_s / SPANS as f64;
            let length = Duration::from_secs_f64(seconds);
            let tick = Duration::from_millis(1);
            let mut done = 0_u64;
            let mut ticks = 0_u32;
            let mut inside = Duration::ZERO;
            loop {
                let elapsed = start.elapsed().min(length);
                let due = (elapsed.as_secs_f64() * per_second) as u64;
                if done < due {
                    let before = thread_cpu();
                    while done < due {
                        common::workload(prompt);
                        done += 1;
                    }
                    inside += thread_cpu() - before;
                }
                if elapsed >= length {
                    return (done, Some(inside));
                }
                ticks += 1;
                let next = start + tick * ticks;
                let now = Instant::now();
                if next > now {
                    std::thread::sleep(next - now);
                }
            }
        }
        Run::Count { workloads } => {
            for _ in 0..workloads {
                common::workload(prompt);
            }
            (workloads, None)
        }
    }
}

fn child(args: &[String]) {
    let (Some(subject), Some(run)) = (args.first(), args.get(1).and_then(|a| Run::parse(a))) else {
        eprintln!("usage: {CHILD} <subject> <run>");
        std::process::exit(2);
    };
    let sink_url = std::env::var("TP_SINK_URL").expect("TP_SINK_URL names the sink");
    let prompt = common::prompt();
    let (pipeline, dispatch) = build(subject, &sink_url);
    let mut measured = Measured {
        rss_start_kib: peak_rss_kib(),
        ..Measured::default()
    };

    let cpu_start = process_cpu();
    let start = Instant::now();
    let app_start = thread_cpu();
    let (workloads, inside) = tracing::dispatcher::with_default(&dispatch, || drive(run, &prompt));
    let main_thread = thread_cpu() - app_start;
    measured.pacing_cpu_s = inside.map_or(0.0, |inside| (main_thread - inside).as_secs_f64());
    measured.app_cpu_s = inside.unwrap_or(main_thread).as_secs_f64();
    measured.workload_s = start.elapsed().as_secs_f64();
    let mut dispatch = Some(dispatch);
    pipeline.finish(&mut dispatch, workloads * SPANS, &mut measured);
    measured.total_s = start.elapsed().as_secs_f64();
    measured.cpu_s = (process_cpu() - cpu_start).as_secs_f64() - measured.pacing_cpu_s;
    measured.peak_rss_kib = peak_rss_kib();
    drop(dispatch);

    let line = serde_json::to_string(&measured).expect("the result serialises");
    println!("{RESULT}{line}");
}

// ---------------------------------------------------------------------------------------------
// The parent: selection, children, tables

/// What the user asked for.
struct Settings {
    modes: Vec<&'static str>,
    subjects: Vec<&'static str>,
    rounds: usize,
    flood_seconds: f64,
    rate_seconds: f64,
    rates: Vec<f64>,
    rss_workloads: Vec<u64>,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(value) => value.trim().parse().unwrap_or_else(|_| {
            eprintln!("throughput: {name}={value} is not understood; using the default");
            default
        }),
        Err(_) => default,
    }
}

fn env_list<T: std::str::FromStr>(name: &str, default: &str) -> Vec<T> {
    let parse = |text: &str| -> Option<Vec<T>> {
        text.split(',')
            .map(|item| item.trim().parse().ok())
            .collect()
    };
    match std::env::var(name) {
        Ok(value) => parse(&value).unwrap_or_else(|| {
            eprintln!("throughput: {name}={value} is not understood; using {default}");
            parse(default).expect("the default parses")
        }),
        Err(_) => parse(default).expect("the default parses"),
    }
}

/// The settings, or `None` when arguments were given and none is this bench's.
fn settings(args: &[String]) -> Option<Settings> {
    let mut modes = Vec::new();
    let mut subjects = Vec::new();
    let mut positional = 0;
    for arg in args.iter().filter(|a| !a.starts_with('-')) {
        positional += 1;
        if let Some(mode) = MODES.iter().find(|m| **m == arg) {
            modes.push(*mode);
        } else if let Some(subject) = SUBJECTS.iter().find(|s| **s == arg) {
            subjects.push(*subject);
        } else {
            eprintln!(
                "throughput: ignoring `{arg}` (modes: {}; subjects: {})",
                MODES.join(", "),
                SUBJECTS.join(", ")
            );
        }
    }
    if positional > 0 && modes.is_empty() && subjects.is_empty() {
        return None;
    }
    if modes.is_empty() {
        modes = MODES.to_vec();
    }
    if subjects.is_empty() {
        subjects = SUBJECTS.to_vec();
    }
    // In the order of MODES and SUBJECTS, each once.
    modes = MODES.into_iter().filter(|m| modes.contains(m)).collect();
    subjects = SUBJECTS
        .into_iter()
        .filter(|s| subjects.contains(s))
        .collect();
    Some(Settings {
        modes,
        subjects,
        rounds: env_or("TP_ROUNDS", 3_usize).max(1),
        flood_seconds: env_or("TP_SECONDS", 5.0_f64),
        rate_seconds: env_or("TP_RATE_SECONDS", 3.0_f64),
        rates: env_list("TP_RATES", "5000,20000"),
        rss_workloads: env_list("TP_RSS_WORKLOADS", "5000,20000,80000"),
    })
}

/// One child's run: what it measured and what the sink received meanwhile; `None` if it failed.
struct Sample {
    subject: &'static str,
    measured: Option<Measured>,
    sink: Counts,
}

/// Variables the children drop, so that they send to the sink with the defaults.
fn dropped_variable(name: &str) -> bool {
    matches!(
        name,
        "HH_INGESTION_API_KEY"
            | "HH_PROJECT_API_KEY"
            | "HH_API_KEY"
            | "HH_DATA_PLANE_URL"
            | "HH_API_URL"
            | "HH_DISABLE_TRACING"
            | "OTEL_SDK_DISABLED"
    ) || name.starts_with("OTEL_EXPORTER_OTLP_")
}

fn run_child(subject: &'static str, run: Run, sink: &Sink) -> Sample {
    let before = sink.counts();
    let started = Instant::now();
    let measured = spawn_child(subject, run, sink).map_err(|e| {
        eprintln!("throughput: {subject} {}: {e}", run.to_arg());
    });
    let sample = Sample {
        subject,
        measured: measured.ok(),
        sink: sink.counts().since(&before),
    };
    if let Some(m) = &sample.measured {
        eprintln!(
            "  {:<19} {:>13} {:>9} spans produced, {:>9} delivered, {:.1} s",
            subject,
            run.to_arg(),
            thousands(m.produced),
            thousands(m.delivered),
            started.elapsed().as_secs_f64()
        );
    }
    sample
}

fn spawn_child(subject: &str, run: Run, sink: &Sink) -> Result<Measured, String> {
    let exe = std::env::current_exe().map_err(|e| format!("no current_exe: {e}"))?;
    // `TP_CHILD_WRAPPER="valgrind --tool=callgrind"` runs each child under a profiler.
    let wrapper = std::env::var("TP_CHILD_WRAPPER").unwrap_or_default();
    let mut words = wrapper.split_whitespace();
    let mut command = match words.next() {
        Some(program) => {
            let mut command = Command::new(program);
            command.args(words).arg(exe);
            command
        }
        None => Command::new(exe),
    };
    command
        .arg(CHILD)
        .arg(subject)
        .arg(run.to_arg())
        .env("TP_SINK_URL", sink.url())
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(dropped_variable) {
            command.env_remove(name);
        }
    }
    let mut child = command.spawn().map_err(|e| format!("spawn: {e}"))?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + run.limit();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("killed after {:?}", run.limit()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("wait: {e}")),
        }
    };
    let text = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("exited with {status}"));
    }
    let line = text
        .lines()
        .find_map(|line| line.strip_prefix(RESULT))
        .ok_or("no result line")?;
    serde_json::from_str(line).map_err(|e| format!("unreadable result line: {e}"))
}

/// Runs every subject `rounds` times, interleaved, the order rotating each round.
fn rounds(settings: &Settings, run: Run, sink: &Sink) -> Vec<Sample> {
    let mut samples = Vec::new();
    let n = settings.subjects.len();
    for round in 0..settings.rounds {
        eprintln!("round {}/{}, {}:", round + 1, settings.rounds, run.to_arg());
        for i in 0..n {
            let subject = settings.subjects[(i + round) % n];
            samples.push(run_child(subject, run, sink));
        }
    }
    samples
}

/// Median, min and max.
#[derive(Debug, Clone, Copy)]
struct Spread {
    median: f64,
    min: f64,
    max: f64,
}

fn spread(mut values: Vec<f64>) -> Option<Spread> {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    };
    Some(Spread {
        median,
        min: values[0],
        max: values[n - 1],
    })
}

/// `median (min–max)` of `metric` over the subject's runs, with `digits` decimals.
fn cell(
    samples: &[Sample],
    subject: &str,
    digits: usize,
    metric: impl Fn(&Measured) -> f64,
) -> String {
    let values = samples
        .iter()
        .filter(|s| s.subject == subject)
        .filter_map(|s| s.measured.as_ref())
        .map(metric)
        .collect();
    match spread(values) {
        None => "–".into(),
        Some(s) if digits == 0 => format!(
            "{} ({}–{})",
            thousands(s.median.round() as u64),
            thousands(s.min.round() as u64),
            thousands(s.max.round() as u64)
        ),
        Some(s) => format!("{:.d$} ({:.d$}–{:.d$})", s.median, s.min, s.max, d = digits),
    }
}

/// The values of `metric` in each run, in order.
fn each(samples: &[Sample], subject: &str, metric: impl Fn(&Measured) -> u64) -> String {
    let values: Vec<String> = samples
        .iter()
        .filter(|s| s.subject == subject)
        .map(|s| match &s.measured {
            Some(m) => thousands(metric(m)),
            None => "failed".into(),
        })
        .collect();
    values.join(", ")
}

/// A loss column's cell: – for the subject that delivers nothing by design.
fn loss(subject: &str, cell: impl FnOnce() -> String) -> String {
    if subject == FLOOR {
        "–".into()
    } else {
        cell()
    }
}

/// What the tables say of the floor, when it ran.
fn floor_note(subjects: &[&str]) -> String {
    if subjects.contains(&FLOOR) {
        format!(
            "\n`{FLOOR}` (the registry and a layer that does nothing) delivers nothing by design: \
             the floor of app-thread CPU and of memory; loss and CPU per delivered span do not \
             apply to it (–).\n"
        )
    } else {
        String::new()
    }
}

fn per(numerator: f64, denominator: u64) -> f64 {
    if denominator == 0 {
        f64::NAN
    } else {
        numerator / denominator as f64
    }
}

/// All-threads CPU per delivered span, µs.
fn cpu_us_per_delivered(m: &Measured) -> f64 {
    per(m.cpu_s * 1e6, m.delivered)
}

/// CPU of every thread but the application's, per delivered span, µs.
fn background_us_per_delivered(m: &Measured) -> f64 {
    per((m.cpu_s - m.app_cpu_s) * 1e6, m.delivered)
}

/// Application-thread CPU per span produced, ns.
fn app_ns_per_span(m: &Measured) -> f64 {
    per(m.app_cpu_s * 1e9, m.produced)
}

/// Whether what the pipeline says it sent is what the sink received, and the accounting adds up.
fn check(sample: &Sample) -> Result<(), String> {
    let Some(m) = &sample.measured else {
        return Err("the run failed".into());
    };
    let sink = &sample.sink;
    let mut problems = Vec::new();
    if sample.subject == FLOOR {
        if m.delivered + m.dropped > 0 {
            problems.push(format!(
                "delivered {} and dropped {}, where it delivers nothing",
                m.delivered, m.dropped
            ));
        }
    } else if m.delivered + m.dropped != m.produced {
        problems.push(format!(
            "delivered + dropped = {} ≠ produced {}",
            m.delivered + m.dropped,
            m.produced
        ));
    }
    if sample.subject.starts_with("honeyhive") && sample.subject != "honeyhive-exporter" {
        if let Some(p) = m.pipeline_produced.filter(|p| *p != m.produced) {
            problems.push(format!("the layer counted {p} produced"));
        }
    }
    let expected = match sample.subject {
        "honeyhive" | "honeyhive-across" | "honeyhive-exporter" => {
            (m.sent.sessions, m.sent.events, m.sent.session_updates, 0)
        }
        "otlp" => (0, 0, 0, m.sent.otlp_exports),
        // otel-discard, naive and noop send nothing.
        _ => (0, 0, 0, 0),
    };
    let received = (
        sink.sessions,
        sink.events,
        sink.session_updates,
        sink.otlp_requests,
    );
    if expected != received {
        problems.push(format!(
            "sent (sessions, events, updates, OTLP requests) {expected:?}, sink received {received:?}"
        ));
    }
    if sink.not_found + sink.malformed > 0 {
        problems.push(format!(
            "the sink answered {} 404 and {} 400/413",
            sink.not_found, sink.malformed
        ));
    }
    if !m.shutdown_complete {
        problems.push("the shutdown did not complete in time".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// The accounting table: per subject, the sums over its runs, and the cross-check.
fn accounting(title: &str, samples: &[Sample], subjects: &[&'static str]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n{title}: accounting, summed over the rounds\n");
    let _ = writeln!(
        out,
        "| subject | produced | delivered | dropped (by reason) | the sink received | checks |"
    );
    let _ = writeln!(out, "|---|---:|---:|---|---|---|");
    for subject in subjects {
        let runs: Vec<&Sample> = samples.iter().filter(|s| s.subject == *subject).collect();
        let measured: Vec<&Measured> = runs.iter().filter_map(|s| s.measured.as_ref()).collect();
        let sum = |f: &dyn Fn(&Measured) -> u64| measured.iter().map(|m| f(m)).sum::<u64>();
        let mut reasons: Vec<(String, u64)> = Vec::new();
        for m in &measured {
            for (reason, n) in &m.reasons {
                match reasons.iter_mut().find(|(r, _)| r == reason) {
                    Some((_, total)) => *total += n,
                    None => reasons.push((reason.clone(), *n)),
                }
            }
        }
        let dropped = sum(&|m| m.dropped);
        let reasons = if *subject == FLOOR {
            "– (delivers nothing by design)".to_owned()
        } else if reasons.is_empty() {
            thousands(dropped)
        } else {
            let list: Vec<String> = reasons
                .iter()
                .map(|(r, n)| format!("{r} {}", thousands(*n)))
                .collect();
            format!("{} ({})", thousands(dropped), list.join(", "))
        };
        let sink = runs
            .iter()
            .fold(Counts::default(), |total, s| total.plus(&s.sink));
        let received = if sink.requests == 0 {
            "nothing".to_owned()
        } else if sink.otlp_requests > 0 {
            format!(
                "{} requests on {} connections, {:.1} MiB; {} OTLP exports",
                thousands(sink.requests),
                thousands(sink.connections),
                sink.bytes as f64 / 1048576.0,
                thousands(sink.otlp_requests)
            )
        } else {
            format!(
                "{} requests on {} connections, {:.1} MiB; {} sessions, {} events in {} batches, \
                 {} updates",
                thousands(sink.requests),
                thousands(sink.connections),
                sink.bytes as f64 / 1048576.0,
                thousands(sink.sessions),
                thousands(sink.events),
                thousands(sink.event_batches),
                thousands(sink.session_updates)
            )
        };
        let problems: Vec<String> = runs
            .iter()
            .enumerate()
            .filter_map(|(i, s)| check(s).err().map(|e| format!("run {}: {e}", i + 1)))
            .collect();
        let checks = if problems.is_empty() {
            format!("ok ({} runs)", runs.len())
        } else {
            problems.join("; ")
        };
        let _ = writeln!(
            out,
            "| {subject} | {} | {} | {reasons} | {received} | {checks} |",
            thousands(sum(&|m| m.produced)),
            thousands(sum(&|m| m.delivered)),
        );
    }
    out
}

fn flood(settings: &Settings, sink: &Sink) {
    let run = Run::Flood {
        seconds: settings.flood_seconds,
    };
    let samples = rounds(settings, run, sink);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n## flood: the workload as fast as the application thread goes, {} s, {} rounds\n",
        settings.flood_seconds, settings.rounds
    );
    let _ = writeln!(
        out,
        "Median (min–max). Delivered spans/s is over the workload and the shutdown's drain; CPU \
         is all the child's threads over both, and background CPU the same without the \
         application thread; app-thread CPU is over the workload, per span produced. Spans a \
         pipeline drops at once are cheap: where most are dropped (see the accounting), the \
         app-thread figure is mostly the cost of a drop.\n"
    );
    let _ = writeln!(
        out,
        "| subject | offered spans/s | delivered spans/s | lost % | CPU µs / delivered span | background CPU µs / delivered span | app-thread ns / span |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
    for subject in &settings.subjects {
        let _ = writeln!(
            out,
            "| {subject} | {} | {} | {} | {} | {} | {} |",
            cell(&samples, subject, 0, |m| m.produced as f64 / m.workload_s),
            cell(&samples, subject, 0, |m| m.delivered as f64 / m.total_s),
            loss(subject, || cell(&samples, subject, 1, |m| per(
                m.dropped as f64 * 100.0,
                m.produced
            ))),
            cell(&samples, subject, 2, cpu_us_per_delivered),
            cell(&samples, subject, 2, background_us_per_delivered),
            cell(&samples, subject, 0, app_ns_per_span),
        );
    }
    out.push_str(&floor_note(&settings.subjects));
    out.push_str(&accounting("flood", &samples, &settings.subjects));
    println!("{out}");
}

fn rate(settings: &Settings, sink: &Sink) {
    let mut all = Vec::new();
    for &spans_per_s in &settings.rates {
        let run = Run::Rate {
            spans_per_s,
            seconds: settings.rate_seconds,
        };
        all.push((spans_per_s, rounds(settings, run, sink)));
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n## rate: a fixed offered rate, {} s, {} rounds\n",
        settings.rate_seconds, settings.rounds
    );
    let _ = writeln!(
        out,
        "Median (min–max); lost is each round's count (0 for a healthy pipeline). CPU is all the \
         child's threads over the run and the shutdown, less the pacing loop's own (its sleeps), \
         per delivered span; app-thread CPU is the application thread's inside the workloads, \
         per span produced.\n"
    );
    let _ = writeln!(
        out,
        "| offered spans/s | subject | achieved spans/s | delivered | lost, each round | CPU µs / delivered span | background CPU µs / delivered span | app-thread ns / span |"
    );
    let _ = writeln!(out, "|---:|---|---:|---:|---:|---:|---:|---:|");
    for (spans_per_s, samples) in &all {
        for subject in &settings.subjects {
            let _ = writeln!(
                out,
                "| {} | {subject} | {} | {} | {} | {} | {} | {} |",
                thousands(*spans_per_s as u64),
                cell(samples, subject, 0, |m| m.produced as f64 / m.workload_s),
                cell(samples, subject, 0, |m| m.delivered as f64),
                loss(subject, || each(samples, subject, |m| m.dropped)),
                cell(samples, subject, 2, cpu_us_per_delivered),
                cell(samples, subject, 2, background_us_per_delivered),
                cell(samples, subject, 0, app_ns_per_span),
            );
        }
    }
    out.push_str(&floor_note(&settings.subjects));
    for (spans_per_s, samples) in &all {
        let title = format!("rate {} spans/s", thousands(*spans_per_s as u64));
        out.push_str(&accounting(&title, samples, &settings.subjects));
    }
    println!("{out}");
}

fn rss(settings: &Settings, sink: &Sink) {
    let mut all = Vec::new();
    for &workloads in &settings.rss_workloads {
        all.push((workloads, rounds(settings, Run::Count { workloads }, sink)));
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n## rss: a fixed number of spans, produced as fast as possible, {} rounds\n",
        settings.rounds
    );
    let _ = writeln!(
        out,
        "Median (min–max). Peak RSS is the child's `VmHWM` at the end; at start, before the \
         workload (the pipeline built).\n"
    );
    let _ = writeln!(
        out,
        "| spans | subject | peak RSS MiB | at start MiB | delivered | lost |"
    );
    let _ = writeln!(out, "|---:|---|---:|---:|---:|---:|");
    let mib = |kib: u64| kib as f64 / 1024.0;
    for (workloads, samples) in &all {
        for subject in &settings.subjects {
            let _ = writeln!(
                out,
                "| {} | {subject} | {} | {} | {} | {} |",
                thousands(workloads * SPANS),
                cell(samples, subject, 1, |m| mib(m.peak_rss_kib)),
                cell(samples, subject, 1, |m| mib(m.rss_start_kib)),
                cell(samples, subject, 0, |m| m.delivered as f64),
                loss(subject, || cell(samples, subject, 0, |m| m.dropped as f64)),
            );
        }
    }
    out.push_str(&floor_note(&settings.subjects));
    for (workloads, samples) in &all {
        let title = format!("rss {} spans", thousands(workloads * SPANS));
        out.push_str(&accounting(&title, samples, &settings.subjects));
    }
    println!("{out}");
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn header(args: &[String], settings: &Settings) {
    let mut command = String::new();
    for (name, value) in std::env::vars() {
        if name.starts_with("TP_") {
            let _ = write!(command, "{name}={value} ");
        }
    }
    command.push_str("cargo bench --all-features --bench throughput");
    let words: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| *a != "--bench")
        .collect();
    if !words.is_empty() {
        let _ = write!(command, " -- {}", words.join(" "));
    }
    let nproc = command_output("nproc", &[]).unwrap_or_else(|| "?".into());
    let parallelism = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "?".into());
    let commit = command_output("git", &["describe", "--always", "--dirty"])
        .unwrap_or_else(|| "unknown (not a git checkout)".into());
    println!("# throughput (benches/throughput.rs)\n");
    println!("- command: `{command}`");
    println!("- date: {}", utc_now());
    println!(
        "- machine: `nproc` {nproc} (available parallelism {parallelism}), {cpu}; commit {commit}"
    );
    println!(
        "- modes: {}; subjects: {}; {} rounds; flood {} s; rate {} s at {} spans/s; rss at {} workloads",
        settings.modes.join(", "),
        settings.subjects.join(", "),
        settings.rounds,
        settings.flood_seconds,
        settings.rate_seconds,
        settings
            .rates
            .iter()
            .map(|r| thousands(*r as u64))
            .collect::<Vec<_>>()
            .join(", "),
        settings
            .rss_workloads
            .iter()
            .map(|w| thousands(*w))
            .collect::<Vec<_>>()
            .join(", "),
    );
    let kept: Vec<String> = std::env::vars()
        .filter(|(name, _)| {
            (name.starts_with("HH_") || name.starts_with("OTEL_")) && !dropped_variable(name)
        })
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    if !kept.is_empty() {
        println!("- settings in effect in the children: {}", kept.join(" "));
    }
}

fn parent(args: &[String]) {
    let Some(settings) = settings(args) else {
        eprintln!("throughput: no mode or subject of this bench named; nothing to run");
        return;
    };
    header(args, &settings);
    let sink = Sink::start().expect("the sink starts");
    let started = Instant::now();
    for mode in &settings.modes {
        match *mode {
            "flood" => flood(&settings, &sink),
            "rate" => rate(&settings, &sink),
            "rss" => rss(&settings, &sink),
            _ => unreachable!("modes come from MODES"),
        }
    }
    println!(
        "\nThe whole run took {:.0} s.",
        started.elapsed().as_secs_f64()
    );
}
