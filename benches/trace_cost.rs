//! What `#[trace]` costs a call, against `#[tracing::instrument(ret, err)]` (its defaults
//! `Debug`-format every argument; `ret` and `err` record the result, so it records as much) on an
//! identical function with the same arguments: `step(query, top_k, docs)`, which returns 3 of 5
//! documents of about 50 bytes. One criterion group per case:
//!
//! 1. the span disabled by the subscriber's level filter (`LevelFilter::WARN`), with a plain
//!    untraced `step` as the floor;
//! 2. the span enabled under the registry and a no-op layer: what the macro itself costs.
//!    `#[instrument]` formats a field only when a layer visits it, so here it formats nothing;
//!    `#[trace]` serialises its inputs and output as it records them;
//! 3. under `HoneyHiveLayer` sending to the local server, each iteration a root span (a session)
//!    with the call inside, so that both close and are exported: the figure includes the layer's
//!    recording. The exporter is flushed, untimed, every [`BATCH`] iterations, so that every trace
//!    is taken rather than turned away by a full queue (the run prints the layer's counts).
//!
//! Only one case's subscriber exists at a time: `tracing` takes the most verbose level of the live
//! subscribers as its global maximum, and only then is a disabled span cut short at its callsite,
//! as in an application. A counting global allocator then counts each subject's allocations per
//! call, and the run ends with a markdown table for BENCHMARKS.md: the median (and fastest) of
//! criterion's samples in ns per call, the ratio to `#[instrument]`, allocations per call.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-bench cargo bench --all-features --bench trace_cost
//! ```

use std::hint::black_box;
use std::io;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group};
use tracing::Dispatch;
use tracing::dispatcher::with_default;
use tracing_honeyhive::HoneyHiveLayer;
use tracing_honeyhive::emulator::Emulator;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;

mod common;

#[path = "../tests/common/counting.rs"]
mod counting;

use common::Noop;
use common::measure::median;
use counting::{Counting, allocations};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The body the three subjects share: the documents that mention `query`, at most `top_k`.
#[inline(always)]
fn body(query: &str, top_k: u32, docs: &[String]) -> Result<Vec<String>, io::Error> {
    if query.is_empty() {
        return Err(io::Error::other("an empty query"));
    }
    Ok(docs
        .iter()
        .filter(|doc| doc.contains(query))
        .take(top_k as usize)
        .cloned()
        .collect())
}

mod plain {
    #[inline(never)]
    pub fn step(query: &str, top_k: u32, docs: &[String]) -> Result<Vec<String>, std::io::Error> {
        super::body(query, top_k, docs)
    }
}

mod instrument {
    #[inline(never)]
    #[tracing::instrument(ret, err)]
    pub fn step(query: &str, top_k: u32, docs: &[String]) -> Result<Vec<String>, std::io::Error> {
        super::body(query, top_k, docs)
    }
}

mod trace {
    #[inline(never)]
    #[tracing_honeyhive::trace]
    pub fn step(query: &str, top_k: u32, docs: &[String]) -> Result<Vec<String>, std::io::Error> {
        super::body(query, top_k, docs)
    }
}

type Step = fn(&str, u32, &[String]) -> Result<Vec<String>, io::Error>;

const INSTRUMENT: &str = "#[instrument(ret, err)]";
const TRACE: &str = "#[trace]";

/// The arguments every call is given.
struct Args {
    query: String,
    top_k: u32,
    docs: Vec<String>,
}

impl Args {
    fn new() -> Args {
        let docs = (0..5)
            .map(|i| match i % 2 {
                0 => format!("Doc {i}: our refund policy allows returns within 30 days."),
                _ => format!("Doc {i}: shipping takes three to five working days."),
            })
            .collect();
        Args {
            query: "refund".to_owned(),
            top_k: 3,
            docs,
        }
    }

    /// One call of `step`, its result dropped.
    fn call(&self, step: Step) {
        let result = step(black_box(&self.query), black_box(self.top_k), &self.docs);
        black_box(result.map(|found| found.len()).unwrap_or(0));
    }
}

/// Calls made for the allocation counts.
const COUNTED: u64 = 10_000;
/// Iterations of case 3 between two flushes of the exporter.
const BATCH: u64 = 1_000;

/// One line of the final table.
struct Row {
    case: &'static str,
    subject: &'static str,
    /// Criterion's measured samples, ns per iteration.
    samples: Vec<f64>,
    allocations: f64,
}

/// One criterion group: each subject timed by `time(step, iters)`, keeping each sample's ns per
/// iteration, then its allocations per iteration counted by `count(step)`.
fn group(
    c: &mut Criterion,
    case: &'static str,
    sample_size: usize,
    subjects: &[(&'static str, Step)],
    mut time: impl FnMut(Step, u64) -> Duration,
    mut count: impl FnMut(Step) -> f64,
) -> Vec<Row> {
    let mut group = c.benchmark_group(case);
    group
        .sample_size(sample_size)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let mut rows = Vec::new();
    for &(subject, step) in subjects {
        let mut samples = Vec::new();
        group.bench_function(subject, |b| {
            b.iter_custom(|iters| {
                let elapsed = time(step, iters);
                samples.push(elapsed.as_nanos() as f64 / iters as f64);
                elapsed
            });
        });
        // Warm-up comes first: the last `sample_size` are the measured samples.
        let samples = samples.split_off(samples.len().saturating_sub(sample_size));
        let allocations = count(step);
        rows.push(Row {
            case,
            subject,
            samples,
            allocations,
        });
    }
    group.finish();
    rows
}

fn timed(iters: u64, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    (0..iters).for_each(|_| f());
    start.elapsed()
}

/// Allocations per call over `calls` calls of `f` on this thread (criterion has just warmed it).
fn allocations_per_call(calls: u64, mut f: impl FnMut()) -> f64 {
    let before = allocations();
    (0..calls).for_each(|_| f());
    (allocations() - before) as f64 / calls as f64
}

/// Cases 1 and 2: each subject called bare, under `dispatch`.
fn calls(
    c: &mut Criterion,
    case: &'static str,
    dispatch: Dispatch,
    subjects: &[(&'static str, Step)],
) -> Vec<Row> {
    let args = Args::new();
    group(
        c,
        case,
        30,
        subjects,
        |step, iters| with_default(&dispatch, || timed(iters, || args.call(step))),
        |step| {
            with_default(&dispatch, || {
                allocations_per_call(COUNTED, || args.call(step))
            })
        },
    )
}

/// Case 3: a session (a root span) around each call, under the layer sending to the local server.
fn sessions(c: &mut Criterion) -> Vec<Row> {
    let server = Emulator::builder()
        .start()
        .expect("the local server starts");
    let (layer, guard) = HoneyHiveLayer::builder()
        .with_api_url(server.url())
        .build()
        .expect("the layer builds");
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    let args = Args::new();
    let session = |step: Step| {
        let root = tracing::info_span!("session");
        let _entered = root.enter();
        args.call(step);
    };
    // Everything sent so far delivered, and forgotten by the server; not timed.
    let settle = || {
        guard
            .flush(Duration::from_secs(60))
            .expect("the exporter keeps up when flushed");
        server.clear();
    };
    let subjects = [
        ("root + plain call (floor)", plain::step as Step),
        (INSTRUMENT, instrument::step),
        (TRACE, trace::step),
    ];
    let rows = group(
        c,
        "HoneyHiveLayer -> local server, a session per call",
        20,
        &subjects,
        |step, iters| {
            let mut elapsed = Duration::ZERO;
            for start in (0..iters).step_by(BATCH as usize) {
                let n = BATCH.min(iters - start);
                elapsed += with_default(&dispatch, || timed(n, || session(step)));
                settle();
            }
            elapsed
        },
        |step| {
            let batches = COUNTED / BATCH;
            let mut sum = 0.0;
            for _ in 0..batches {
                sum += with_default(&dispatch, || allocations_per_call(BATCH, || session(step)));
                settle();
            }
            sum / batches as f64
        },
    );
    let stats = guard.stats();
    println!(
        "\nthe layer: {} spans produced, {} delivered, {} dropped",
        stats.produced(),
        stats.delivered(),
        stats.dropped.total(),
    );
    rows
}

fn table(rows: &[Row]) {
    println!(
        "\n| case | subject | ns per call, median (fastest) | × `#[instrument]` | allocations per call |"
    );
    println!("|---|---|---:|---:|---:|");
    for row in rows {
        let Some(ns) = median(&row.samples) else {
            continue; // filtered out of this run
        };
        let fastest = row.samples.iter().copied().fold(f64::INFINITY, f64::min);
        let instrument = rows
            .iter()
            .find(|other| other.case == row.case && other.subject == INSTRUMENT)
            .and_then(|other| median(&other.samples));
        let ratio = instrument.map_or_else(|| "–".to_owned(), |i| format!("{:.2}", ns / i));
        println!(
            "| {} | {} | {ns:.1} ({fastest:.1}) | {ratio} | {:.2} |",
            row.case, row.subject, row.allocations
        );
    }
}

fn trace_cost(c: &mut Criterion) {
    let mut rows = calls(
        c,
        "span disabled (registry + LevelFilter::WARN)",
        Dispatch::new(tracing_subscriber::registry().with(LevelFilter::WARN)),
        &[
            ("plain (untraced)", plain::step),
            (INSTRUMENT, instrument::step),
            (TRACE, trace::step),
        ],
    );
    rows.extend(calls(
        c,
        "span enabled (registry + no-op layer)",
        Dispatch::new(tracing_subscriber::registry().with(Noop)),
        &[(INSTRUMENT, instrument::step), (TRACE, trace::step)],
    ));
    rows.extend(sessions(c));
    table(&rows);
}

criterion_group!(benches, trace_cost);

fn main() {
    benches();
    Criterion::default().final_summary();
}
