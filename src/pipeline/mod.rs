//! The delivery pipeline, application side: the bounded queue the layer feeds without ever
//! blocking, the counters, and the [`Guard`] that flushes and shuts the exporter down.
//!
//! ```text
//! app threads ── try_send ──▶ crossbeam queue ◀── polled ── exporter thread (tokio)
//!   (layer)       held ≥ capacity:                          sessions, batches, HTTP
//!                 drop and count
//! Guard / Handle ── control (flush, shutdown, key) ──────▶ exporter thread
//! ```
//!
//! The bound is exact: a span is admitted only while fewer than `capacity` spans are held —
//! queued, or taken by the exporter and not yet settled — so the queue never refuses an admitted
//! span, and what the documentation promises is what holds. The same goes for bytes: a span is
//! admitted only if its footprint fits in what the held spans leave of `max_bytes`, so memory is
//! bounded whatever the spans carry. When the exporter stops it closes
//! the queue: a span sent before is on it, counted with the rest; a span closing after is
//! never queued.
//!
//! The application thread never wakes the exporter for a span: the exporter takes spans off the
//! queue on its own timer (sooner while spans keep coming), at once when asked to flush, and
//! when the spans held cross an eighth of the capacity — one message on the control channel
//! (lock-free), so that a burst after a quiet time is taken in before the queue fills rather than
//! at the next tick. No receiver
//! ever parks on the queue, so a send never takes the queue's lock.

mod diagnostics;
mod gate;
mod job;
mod late;
mod pool;
mod retry;
mod room;
mod sender;
mod session;
mod stats;
mod worker;

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{RecvTimeoutError, TrySendError};
use tokio::sync::mpsc;
use tracing::Dispatch;
use tracing::dispatcher::WeakDispatch;

use crate::client::Client;
use crate::config::ApiKey;
use crate::recorded::FinishedSpan;
pub(crate) use retry::RetryPolicy;
pub(crate) use room::Reservation;
use stats::{Counters, add};
pub use stats::{Dropped, FlushError, Outcomes, Report, Stats};
pub(crate) use worker::Config as WorkerConfig;

/// Extra wait, past a flush or shutdown deadline, for the exporter's answer: at the deadline it
/// stops sending, then counts what it drops, which for a full queue on a loaded machine took
/// more than the 250 ms this once was (the report was then an estimate, short of the counters).
const GRACE: Duration = Duration::from_secs(1);

thread_local! {
    static INTERNAL: Cell<bool> = const { Cell::new(false) };
}

/// Marks the current thread as one of the exporter's: the layer ignores everything that happens
/// on it, so the HTTP client's own tracing (hyper, h2) never comes back as spans to send.
pub(crate) fn mark_internal_thread() {
    let _ = INTERNAL.try_with(|internal| internal.set(true));
}

/// Whether the current thread is one of the exporter's.
pub(crate) fn is_internal_thread() -> bool {
    INTERNAL.try_with(Cell::get).unwrap_or(false)
}

/// A flush or shutdown request: settle the spans queued so far, by `deadline`.
#[derive(Debug)]
pub(crate) struct Request {
    /// How many spans were queued when it was made.
    pub(crate) upto: u64,
    pub(crate) deadline: Instant,
    pub(crate) reply: crossbeam_channel::Sender<Report>,
}

/// What the application side asks of the exporter, on a channel of its own so that it never
/// waits behind a full queue.
#[derive(Debug)]
pub(crate) enum Control {
    /// The subscriber the layer was installed in, for the exporter's own messages.
    Register(WeakDispatch),
    Flush(Request),
    Shutdown(Request),
    /// Send with this key from now on (and try again after a refused one).
    SetApiKey(ApiKey),
    /// The spans held crossed the wake-up mark: take them in now.
    Wake,
}

/// [`Shared::filled`]: the queue takes spans.
const OPEN: u8 = 0;
/// [`Shared::filled`]: it held `capacity` spans.
const FULL_COUNT: u8 = 1;
/// [`Shared::filled`]: it held the bytes it may.
const FULL_BYTES: u8 = 2;

/// The bound that turned a span away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bound {
    /// The queue held `capacity` spans ([`Dropped::queue_full`]).
    Count,
    /// The spans held took `max_bytes` ([`Dropped::queue_bytes`]).
    Bytes,
}

/// Set in [`Shared::sending`] once the exporter has stopped taking spans.
const CLOSED: usize = 1 << (usize::BITS - 1);

/// What the application threads and the exporter share about the queue: counters, the number of
/// spans held, and whether the exporter has stopped.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) counters: Counters,
    /// Spans admitted and not yet settled.
    held: AtomicUsize,
    capacity: usize,
    /// Bytes the spans admitted and not yet settled take ([`FinishedSpan::footprint`]).
    held_bytes: AtomicUsize,
    max_bytes: usize,
    /// When this many spans are held, the exporter is woken to take them in.
    wake_at: usize,
    /// [`OPEN`], or the bound that filled (`FULL_COUNT`, `FULL_BYTES`): once either bound is
    /// reached, new traces are turned away when they start (the layer records nothing of them)
    /// until what is held drains to three quarters of both, while the traces already admitted
    /// keep the room there is. Under overload whole traces then get through, rather than a
    /// span at a time as each delivery settles (each trace cut into fragments, each fragment a
    /// session of its own to create), and a trace turned away costs the application almost
    /// nothing.
    filled: AtomicU8,
    /// [`CLOSED`] once the exporter has stopped, and the number of producers inside
    /// [`Producer::send`] right now: closing waits for them, so that every span sent before the
    /// close is on the queue when it is drained, and every later one is never sent.
    sending: AtomicUsize,
}

impl Shared {
    fn new(capacity: usize, max_bytes: usize) -> Self {
        Shared {
            counters: Counters::default(),
            held: AtomicUsize::new(0),
            capacity,
            held_bytes: AtomicUsize::new(0),
            max_bytes,
            wake_at: (capacity / 8).max(1),
            filled: AtomicU8::new(OPEN),
            sending: AtomicUsize::new(0),
        }
    }

    /// Whether spans are turned away while the queue refills: it filled, and has not drained
    /// to three quarters of both bounds since. Reopens it when it has.
    fn refilling(&self) -> Option<Bound> {
        let filled = self.filled.load(Ordering::Relaxed);
        if filled == OPEN {
            return None;
        }
        let drained = self.held.load(Ordering::Acquire) <= self.capacity / 4 * 3
            && self.held_bytes.load(Ordering::Acquire) <= self.max_bytes / 4 * 3;
        if drained {
            self.filled.store(OPEN, Ordering::Relaxed);
            return None;
        }
        Some(if filled == FULL_BYTES {
            Bound::Bytes
        } else {
            Bound::Count
        })
    }

    /// `bound` was reached: new traces are turned away until the queue drains.
    fn mark_filled(&self, bound: Bound) {
        let filled = match bound {
            Bound::Count => FULL_COUNT,
            Bound::Bytes => FULL_BYTES,
        };
        self.filled.store(filled, Ordering::Relaxed);
    }

    /// `n` spans held, of `bytes` in all, are settled: room for as many more.
    pub(crate) fn release(&self, n: usize, bytes: usize) {
        self.held.fetch_sub(n, Ordering::AcqRel);
        self.held_bytes.fetch_sub(bytes, Ordering::AcqRel);
    }

    /// Stops admitting spans (from the exporter, when it stops), waits for the producers already
    /// sending (a few instructions each: they never block), then takes what is left on the
    /// queue: dropped at shutdown, and counted. Returns how many, as (sessions, events).
    pub(crate) fn close(
        &self,
        queue: &crossbeam_channel::Receiver<Box<FinishedSpan>>,
    ) -> (u64, u64) {
        self.sending.fetch_or(CLOSED, Ordering::SeqCst);
        // A producer preempted inside `send` holds this up for a time slice at most; the bound
        // only guards against the impossible.
        let deadline = Instant::now() + Duration::from_secs(1);
        while self.sending.load(Ordering::SeqCst) & !CLOSED != 0 && Instant::now() < deadline {
            std::thread::yield_now();
        }
        let (mut sessions, mut events, mut bytes) = (0, 0, 0);
        while let Ok(span) = queue.try_recv() {
            match worker::Kind::of(&span) {
                worker::Kind::Session => sessions += 1,
                worker::Kind::Event => events += 1,
            }
            bytes += span.held_bytes;
        }
        let n = sessions + events;
        if n > 0 {
            add(&self.counters.dropped_shutdown, n);
            self.release(n as usize, bytes);
        }
        (sessions, events)
    }
}

/// The layer's end of the pipeline.
#[derive(Debug, Clone)]
pub(crate) struct Producer {
    spans: crossbeam_channel::Sender<Box<FinishedSpan>>,
    pool: Arc<pool::Pool>,
    control: mpsc::UnboundedSender<Control>,
    shared: Arc<Shared>,
}

impl Producer {
    /// A blank span for the layer to record into, warm from the pool when one is spare.
    pub(crate) fn fresh(&self) -> Box<FinishedSpan> {
        self.pool.take()
    }

    /// A span the layer took and did not send, back to the pool.
    pub(crate) fn recycle(&self, span: Box<FinishedSpan>) {
        self.pool.give(span);
    }

    /// Whether a trace starting now is turned away, and by which bound: the queue filled and
    /// has not drained to three quarters of both bounds since. The layer then records nothing
    /// of the trace (it counts its spans, [`count_turned_away`](Self::count_turned_away)), and
    /// the traces already admitted keep the room there is. `None` once the exporter stopped:
    /// [`send`](Self::send) counts such spans as sent after the shutdown.
    pub(crate) fn turning_away(&self) -> Option<Bound> {
        let open = self.shared.sending.load(Ordering::SeqCst) & CLOSED == 0;
        if !open {
            return None;
        }
        self.shared.refilling()
    }

    /// Queues a finished span without blocking: when `capacity` spans are already held, or its
    /// bytes do not fit in what is left of `max_bytes`, it is dropped and counted, and after the
    /// exporter stopped too. A refilling queue takes it while there is room: its trace was
    /// admitted when it started ([`turning_away`](Self::turning_away)).
    pub(crate) fn send(&self, span: Box<FinishedSpan>) {
        let shared = &*self.shared;
        if shared.sending.fetch_add(1, Ordering::SeqCst) & CLOSED != 0 {
            shared.sending.fetch_sub(1, Ordering::SeqCst);
            add(&shared.counters.dropped_after_shutdown, 1);
            self.recycle(span);
            return;
        }
        self.admit(span);
        shared.sending.fetch_sub(1, Ordering::SeqCst);
    }

    /// Queues the span `build` makes, as [`send`](Self::send) does, without making it when the
    /// queue is refilling and would turn it away at once: converting an OpenTelemetry span
    /// costs far more than dropping it.
    /// An OpenTelemetry span comes finished, so the refilling rule is applied here, to the
    /// span alone.
    #[cfg(feature = "opentelemetry")]
    pub(crate) fn send_with(&self, build: impl FnOnce() -> Box<FinishedSpan>) {
        if let Some(bound) = self.turning_away() {
            self.count_turned_away(bound);
            return;
        }
        self.send(build());
    }

    fn admit(&self, mut span: Box<FinishedSpan>) {
        let shared = &*self.shared;
        let before = shared.held.fetch_add(1, Ordering::AcqRel);
        if before >= shared.capacity {
            shared.held.fetch_sub(1, Ordering::AcqRel);
            shared.mark_filled(Bound::Count);
            self.turn_away(span, Bound::Count);
            return;
        }
        let bytes = span.footprint();
        span.held_bytes = bytes;
        if shared.held_bytes.fetch_add(bytes, Ordering::AcqRel) + bytes > shared.max_bytes {
            shared.release(1, bytes);
            // A span larger than the whole budget says nothing about how full the queue is.
            if bytes <= shared.max_bytes {
                shared.mark_filled(Bound::Bytes);
            }
            self.turn_away(span, Bound::Bytes);
            return;
        }
        self.queue_admitted(span, before + 1);
    }

    /// Queues a span whose room is counted in the bounds (`held`, and its `held_bytes`); `held`
    /// spans were held once its room was taken, which wakes the exporter at the mark.
    fn queue_admitted(&self, span: Box<FinishedSpan>, held: usize) {
        let shared = &*self.shared;
        let bytes = span.held_bytes;
        // The queue holds `capacity` spans and at most `capacity` are held: it has room, and the
        // exporter keeps it connected until it closes, which waits for this call to end.
        match self.spans.try_send(span) {
            Ok(()) => {
                add(&shared.counters.spans_queued, 1);
                if held == shared.wake_at {
                    let _ = self.control.send(Control::Wake);
                }
            }
            Err(TrySendError::Full(span)) => {
                shared.release(1, bytes);
                add(&shared.counters.dropped_queue_full, 1);
                self.recycle(span);
            }
            // The exporter thread is gone without closing the queue (it cannot be, but if it
            // were, nothing would ever take the span).
            Err(TrySendError::Disconnected(_)) => {
                shared.release(1, bytes);
                add(&shared.counters.dropped_after_shutdown, 1);
            }
        }
    }

    /// A span not admitted, counted by the bound that is full.
    fn turn_away(&self, span: Box<FinishedSpan>, bound: Bound) {
        self.count_turned_away(bound);
        self.recycle(span);
    }

    /// Counts a span turned away by `bound`: [`Dropped::queue_full`] or [`Dropped::queue_bytes`].
    pub(crate) fn count_turned_away(&self, bound: Bound) {
        let counters = &self.shared.counters;
        let counter = match bound {
            Bound::Bytes => &counters.dropped_queue_bytes,
            Bound::Count => &counters.dropped_queue_full,
        };
        add(counter, 1);
    }

    pub(crate) fn count_truncated(&self, n: u32) {
        add(&self.shared.counters.fields_truncated, u64::from(n));
    }

    /// Counts spans not queued because they had been queued already.
    #[cfg(feature = "opentelemetry")]
    pub(crate) fn count_repeated(&self, n: u64) {
        add(&self.shared.counters.spans_repeated, n);
    }

    pub(crate) fn register(&self, dispatch: &Dispatch) {
        let _ = self.control.send(Control::Register(dispatch.downgrade()));
    }
}

/// Flushes and reads the counters of a running exporter; cheap to clone and share. Shutting down
/// is the [`Guard`]'s.
#[derive(Debug, Clone)]
pub struct Handle {
    control: mpsc::UnboundedSender<Control>,
    shared: Arc<Shared>,
    /// Where late enrichments are queued; `None` when nothing is sent.
    producer: Option<Producer>,
}

impl Handle {
    /// The counters now.
    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot()
    }

    /// Sends everything queued before this call — sessions still open are created and their
    /// finished events sent, and a span that joined its session by id writes the session's end
    /// — and waits for the answers, at most `timeout`. Blocks the calling thread; it needs no
    /// async runtime.
    ///
    /// Returns the [`Report`] when every span queued before the call was settled (delivered, or
    /// refused for good: see [`Report::failed`]).
    pub fn flush(&self, timeout: Duration) -> Result<Report, FlushError> {
        let (reply, answer) = crossbeam_channel::bounded(1);
        let request = self.request(timeout, reply);
        self.control
            .send(Control::Flush(request))
            .map_err(|_| FlushError::ShutDown)?;
        match answer.recv_timeout(timeout + GRACE) {
            Ok(report) if report.is_complete() => Ok(report),
            Ok(report) => Err(FlushError::Timeout {
                timeout,
                report: Box::new(report),
            }),
            Err(RecvTimeoutError::Disconnected) => Err(FlushError::ShutDown),
            Err(RecvTimeoutError::Timeout) => Err(FlushError::Timeout {
                timeout,
                report: Box::new(Report::estimate(self.stats())),
            }),
        }
    }

    /// Sends with `key` from now on, for instance after HoneyHive refused the previous one: the
    /// exporter stops sending after a `401` or `403` (it drops spans and counts them in
    /// [`Dropped::unauthorized`]) until a probe is accepted or the key is replaced here. Requests
    /// already in flight finish with the old key.
    ///
    /// A key that is empty or cannot be sent in a header is refused with
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig), and the old key stays.
    pub fn set_api_key(&self, key: impl Into<String>) -> Result<(), crate::Error> {
        let key = ApiKey::new(key);
        if !key.is_sendable() {
            return Err(crate::Error::config(
                "set_api_key",
                "the key is empty or contains characters not allowed in an HTTP header",
            ));
        }
        self.control
            .send(Control::SetApiKey(key))
            .map_err(|_| crate::Error::config("set_api_key", "the exporter is shut down"))
    }

    fn request(&self, timeout: Duration, reply: crossbeam_channel::Sender<Report>) -> Request {
        Request {
            upto: self.stats().spans_queued,
            deadline: Instant::now() + timeout,
            reply,
        }
    }
}

/// Keeps the exporter running; dropping it flushes what is queued, within the deadline set by
/// [`Builder::with_shutdown_timeout`](crate::layer::Builder::with_shutdown_timeout), and stops it.
///
/// Keep it alive for as long as spans should be sent, typically in `main`:
/// `let (layer, _guard) = …` (not `let (layer, _) = …`, which drops it at once).
#[must_use = "dropping the guard shuts the HoneyHive exporter down: hold it as long as spans should be sent"]
#[derive(Debug)]
pub struct Guard {
    handle: Handle,
    thread: Option<JoinHandle<()>>,
    shutdown_timeout: Duration,
}

impl Guard {
    /// A guard for a layer that sends nothing (`HH_DISABLE_TRACING`).
    pub(crate) fn disabled() -> Self {
        let (control, _) = mpsc::unbounded_channel();
        Guard {
            handle: Handle {
                control,
                shared: Arc::new(Shared::new(0, 0)),
                producer: None,
            },
            thread: None,
            shutdown_timeout: Duration::ZERO,
        }
    }

    /// The counters now.
    pub fn stats(&self) -> Stats {
        self.handle.stats()
    }

    /// See [`Handle::flush`].
    pub fn flush(&self, timeout: Duration) -> Result<Report, FlushError> {
        self.handle.flush(timeout)
    }

    /// A handle to flush, read counters and replace the key from elsewhere.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Sends everything queued, waits at most `timeout` (and up to a second more while the
    /// exporter counts what it drops), and stops the exporter. What is still undelivered at the
    /// deadline is dropped and counted ([`Dropped::shutdown`], and
    /// [`Report::undelivered`]); spans that close afterwards are dropped too
    /// ([`Dropped::after_shutdown`]). Blocks the calling thread, and is safe inside an async
    /// runtime: the exporter has its own.
    pub fn shutdown(mut self, timeout: Duration) -> Report {
        self.stop(timeout)
    }

    fn stop(&mut self, timeout: Duration) -> Report {
        let Some(thread) = self.thread.take() else {
            return Report {
                stats: self.stats(),
                ..Report::default()
            };
        };
        let (reply, answer) = crossbeam_channel::bounded(1);
        let request = self.handle.request(timeout, reply);
        if self
            .handle
            .control
            .send(Control::Shutdown(request))
            .is_err()
        {
            let _ = thread.join();
            return Report {
                stats: self.stats(),
                ..Report::default()
            };
        }
        match answer.recv_timeout(timeout + GRACE) {
            Ok(mut report) => {
                // The exporter stops right after answering; what it counted while stopping
                // belongs in the report.
                let _ = thread.join();
                report.stats = self.stats();
                report
            }
            Err(_) => Report::estimate(self.stats()),
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let timeout = self.shutdown_timeout;
        self.stop(timeout);
    }
}

/// Everything the exporter needs, resolved by the builder.
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    pub(crate) client: Client,
    pub(crate) worker: WorkerConfig,
    pub(crate) retry: RetryPolicy,
    /// Most spans held at once, queued or in the exporter.
    pub(crate) capacity: usize,
    /// Most bytes they may take.
    pub(crate) max_bytes: usize,
    /// How often a refused key is tried again.
    pub(crate) auth_retry_interval: Duration,
    pub(crate) shutdown_timeout: Duration,
    /// A line for the user's log when the exporter starts (`HH_VERBOSE`).
    pub(crate) announce: Option<String>,
    /// Spans made on the exporter's threads (by its HTTP client, its own `honeyhive.send`) go
    /// nowhere, instead of to the application's subscriber: set for the OpenTelemetry exporter,
    /// whose subscriber may turn them into spans to export.
    pub(crate) quiet_threads: bool,
}

/// Spans and events made on this thread from now on go to no subscriber (the exporter's
/// diagnostics name their own dispatcher).
fn quiet_thread() {
    // The guard would restore the previous default when dropped; the thread keeps this one
    // for its whole life.
    std::mem::forget(tracing::dispatcher::set_default(&Dispatch::none()));
}

/// Starts the exporter thread.
pub(crate) fn start(setup: Setup) -> std::io::Result<(Producer, Guard)> {
    let shared = Arc::new(Shared::new(setup.capacity, setup.max_bytes));
    let diagnostics = Arc::new(diagnostics::Diagnostics::default());
    let (spans, queue) = crossbeam_channel::bounded(setup.capacity);
    let pool = Arc::new(pool::Pool::default());
    let (control, control_rx) = mpsc::unbounded_channel();
    let quiet = setup.quiet_threads;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .on_thread_start(move || {
            mark_internal_thread();
            if quiet {
                quiet_thread();
            }
        })
        .build()?;
    let sender = sender::Sender {
        client: setup.client,
        retry: setup.retry,
        shared: Arc::clone(&shared),
        diagnostics: Arc::clone(&diagnostics),
        gate: Arc::new(gate::Gate::new(setup.auth_retry_interval)),
        requests: Arc::new(tokio::sync::Semaphore::new(setup.worker.max_in_flight)),
    };
    let worker = worker::Worker::new(
        setup.worker,
        sender,
        Arc::clone(&shared),
        Arc::clone(&diagnostics),
        queue,
        Arc::clone(&pool),
    );
    if let Some(line) = setup.announce {
        diagnostics.announce(line);
    }
    let exporter = std::thread::Builder::new()
        .name("honeyhive-exporter".into())
        .spawn(move || {
            mark_internal_thread();
            if quiet {
                quiet_thread();
            }
            runtime.block_on(worker.run(control_rx));
            runtime.shutdown_timeout(Duration::from_secs(1));
        })?;
    let producer = Producer {
        spans,
        pool,
        control: control.clone(),
        shared: Arc::clone(&shared),
    };
    let guard = Guard {
        handle: Handle {
            control,
            shared,
            producer: Some(producer.clone()),
        },
        thread: Some(exporter),
        shutdown_timeout: setup.shutdown_timeout,
    };
    Ok((producer, guard))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;

    use crossbeam_channel::Receiver;

    use super::*;
    use crate::recorded::FieldValue;

    /// A producer with no exporter behind it: the test takes spans off the queue and settles
    /// them itself, as the worker would.
    fn producer(capacity: usize, max_bytes: usize) -> (Producer, Receiver<Box<FinishedSpan>>) {
        let (spans, queue) = crossbeam_channel::bounded(capacity);
        let (control, control_rx) = mpsc::unbounded_channel();
        // Wake-ups go nowhere.
        std::mem::forget(control_rx);
        let producer = Producer {
            spans,
            pool: Arc::new(pool::Pool::default()),
            control,
            shared: Arc::new(Shared::new(capacity, max_bytes)),
        };
        (producer, queue)
    }

    /// Takes `n` spans off the queue and settles them.
    fn settle(producer: &Producer, queue: &Receiver<Box<FinishedSpan>>, n: usize) {
        for _ in 0..n {
            let span = queue.try_recv().expect("a span is queued");
            producer.shared.release(1, span.held_bytes);
        }
    }

    fn counts(producer: &Producer) -> (u64, u64, u64) {
        let counters = &producer.shared.counters;
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        (
            get(&counters.spans_queued),
            get(&counters.dropped_queue_full),
            get(&counters.dropped_queue_bytes),
        )
    }

    #[test]
    fn a_full_queue_takes_new_traces_again_once_drained_to_three_quarters() {
        let (producer, queue) = producer(8, usize::MAX);
        assert_eq!(producer.turning_away(), None);
        for _ in 0..9 {
            producer.send(producer.fresh());
        }
        assert_eq!(
            counts(&producer),
            (8, 1, 0),
            "8 held, the ninth turned away"
        );
        assert_eq!(producer.turning_away(), Some(Bound::Count));
        // One settled: a span of a trace already admitted takes the room, but new traces wait
        // until the queue is down to three quarters.
        settle(&producer, &queue, 1);
        assert_eq!(producer.turning_away(), Some(Bound::Count));
        producer.send(producer.fresh());
        assert_eq!(counts(&producer), (9, 1, 0));
        settle(&producer, &queue, 1);
        assert_eq!(producer.turning_away(), Some(Bound::Count), "7 held");
        settle(&producer, &queue, 1);
        assert_eq!(producer.turning_away(), None, "6 held: open again");
        for _ in 0..3 {
            producer.send(producer.fresh());
        }
        assert_eq!(
            counts(&producer),
            (11, 2, 0),
            "6 held: two taken, then full again"
        );
        assert_eq!(producer.turning_away(), Some(Bound::Count));
    }

    #[test]
    fn a_spent_byte_budget_takes_new_traces_again_once_drained_to_three_quarters() {
        let one = pool::Pool::default().take().footprint();
        let (producer, queue) = producer(1000, 8 * one);
        for _ in 0..9 {
            producer.send(producer.fresh());
        }
        assert_eq!(counts(&producer), (8, 0, 1));
        assert_eq!(producer.turning_away(), Some(Bound::Bytes));
        settle(&producer, &queue, 1);
        assert_eq!(
            producer.turning_away(),
            Some(Bound::Bytes),
            "7 spans' bytes: still refilling"
        );
        settle(&producer, &queue, 1);
        assert_eq!(producer.turning_away(), None, "6 spans' bytes: open again");
        producer.send(producer.fresh());
        assert_eq!(counts(&producer), (9, 0, 1));
    }

    #[cfg(feature = "opentelemetry")]
    #[test]
    fn a_refilling_queue_turns_a_span_away_before_it_is_built() {
        let (producer, _queue) = producer(2, usize::MAX);
        for _ in 0..3 {
            producer.send_with(|| producer.fresh());
        }
        assert_eq!(counts(&producer), (2, 1, 0));
        producer.send_with(|| unreachable!("a span turned away is not built"));
        assert_eq!(counts(&producer), (2, 2, 0));
    }

    #[test]
    fn a_span_larger_than_the_whole_budget_does_not_close_the_queue() {
        let one = pool::Pool::default().take().footprint();
        let (producer, _queue) = producer(1000, 8 * one);
        let mut large = producer.fresh();
        large
            .recorded
            .fields
            .set("big", FieldValue::Str("x".repeat(16 * one)));
        producer.send(large);
        producer.send(producer.fresh());
        assert_eq!(counts(&producer), (1, 0, 1));
    }
}
