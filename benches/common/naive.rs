//! A naive layer, the peer issue 23 compares against: the straightforward design, the one written
//! on a first try, kept deliberately simple.
//!
//! - A new span's fields are visited into owned `serde_json::Value`s and kept, with its name and
//!   start time, in the span's extensions; `on_record` adds fields; an event inside a span adds
//!   its fields, level, target and time to that span's record.
//! - On close the record is taken out, stamped with its end time and `try_send` into a bounded
//!   `std::sync::mpsc::sync_channel` of [`CAPACITY`] records (the size of the OpenTelemetry SDK's
//!   batch queue); a full channel drops the span and counts it.
//! - One thread receives the records, serialises each with `serde_json::to_vec`, discards the
//!   bytes and counts the span delivered. It ends when the channel closes, that is when the
//!   layer, which holds the only sender, is dropped with its subscriber.
//!
//! Left out on purpose: ids and parent links, batching, HTTP and retries, flush, limits on field
//! sizes, a warning on loss.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// Records the channel holds.
pub const CAPACITY: usize = 2048;

/// A span's fields, by name.
type Fields = Vec<(&'static str, Value)>;

/// What the layer keeps of a span, in its extensions until it closes.
#[derive(Serialize)]
struct SpanRecord {
    name: &'static str,
    fields: Fields,
    events: Vec<EventRecord>,
    start: SystemTime,
    end: Option<SystemTime>,
}

/// An event inside a span.
#[derive(Serialize)]
struct EventRecord {
    level: &'static str,
    target: &'static str,
    time: SystemTime,
    fields: Fields,
}

/// Every field value as JSON: numbers and booleans as they are, anything else as its `Debug`.
struct Visitor<'a>(&'a mut Fields);

impl Visit for Visitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.push((field.name(), value.into()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.push((field.name(), value.into()));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.push((field.name(), value.into()));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.push((field.name(), value.into()));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name(), value.into()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.push((field.name(), format!("{value:?}").into()));
    }
}

/// What became of the spans, counted by the layer and its thread.
#[derive(Default)]
struct Counts {
    delivered: AtomicU64,
    channel_full: AtomicU64,
    disconnected: AtomicU64,
    unserialisable: AtomicU64,
}

/// The layer: callbacks record, `on_close` sends.
pub struct NaiveLayer {
    sender: SyncSender<SpanRecord>,
    counts: Arc<Counts>,
}

/// The thread serialising the records, and the counts.
pub struct Handle {
    thread: JoinHandle<()>,
    /// Closed when the thread ends.
    done: Receiver<()>,
    counts: Arc<Counts>,
}

/// What the layer did with the spans that closed, at shutdown.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    /// Spans serialised.
    pub delivered: u64,
    /// Spans dropped, by reason: the channel was full; the thread had ended (it panicked);
    /// `serde_json` failed.
    pub dropped: [(&'static str, u64); 3],
    /// Whether the thread ended before the deadline, having taken in every span sent.
    pub complete: bool,
}

/// The layer and the handle of its thread.
pub fn layer() -> (NaiveLayer, Handle) {
    let (sender, receiver) = mpsc::sync_channel::<SpanRecord>(CAPACITY);
    let (ended, done) = mpsc::channel::<()>();
    let counts = Arc::new(Counts::default());
    let thread_counts = Arc::clone(&counts);
    let thread = std::thread::Builder::new()
        .name("naive-layer".into())
        .spawn(move || {
            let _ended = ended;
            for record in receiver {
                let counter = match serde_json::to_vec(&record) {
                    Ok(bytes) => {
                        drop(std::hint::black_box(bytes));
                        &thread_counts.delivered
                    }
                    Err(_) => &thread_counts.unserialisable,
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        })
        .expect("the naive layer's thread starts");
    let layer = NaiveLayer {
        sender,
        counts: Arc::clone(&counts),
    };
    (
        layer,
        Handle {
            thread,
            done,
            counts,
        },
    )
}

impl Handle {
    /// Waits up to `deadline` for the thread to serialise what the channel holds and end, which
    /// it does once the layer (with the subscriber holding it) has been dropped.
    pub fn shutdown(self, deadline: Duration) -> Report {
        let ended = matches!(
            self.done.recv_timeout(deadline),
            Err(RecvTimeoutError::Disconnected)
        );
        let complete = ended && self.thread.join().is_ok();
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Report {
            delivered: get(&self.counts.delivered),
            dropped: [
                ("channel_full", get(&self.counts.channel_full)),
                ("disconnected", get(&self.counts.disconnected)),
                ("unserialisable", get(&self.counts.unserialisable)),
            ],
            complete,
        }
    }
}

impl<S> Layer<S> for NaiveLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Fields::new();
        attrs.record(&mut Visitor(&mut fields));
        span.extensions_mut().insert(SpanRecord {
            name: attrs.metadata().name(),
            fields,
            events: Vec::new(),
            start: SystemTime::now(),
            end: None,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        if let Some(record) = span.extensions_mut().get_mut::<SpanRecord>() {
            values.record(&mut Visitor(&mut record.fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        let mut fields = Fields::new();
        event.record(&mut Visitor(&mut fields));
        let metadata = event.metadata();
        if let Some(record) = span.extensions_mut().get_mut::<SpanRecord>() {
            record.events.push(EventRecord {
                level: metadata.level().as_str(),
                target: metadata.target(),
                time: SystemTime::now(),
                fields,
            });
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(mut record) = span.extensions_mut().remove::<SpanRecord>() else {
            return;
        };
        record.end = Some(SystemTime::now());
        let counter = match self.sender.try_send(record) {
            Ok(()) => return,
            Err(TrySendError::Full(_)) => &self.counts.channel_full,
            Err(TrySendError::Disconnected(_)) => &self.counts.disconnected,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}
