//! The bounded queue between the application threads and the exporter: the bounds (spans and
//! bytes held), the refilling rule that turns whole traces away while the queue drains, and the
//! layer's end of it, the [`Producer`], which never blocks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::TrySendError;
use tokio::sync::mpsc;
use tracing::Dispatch;

use super::stats::{Counters, add};
use super::{Control, pool, worker};
use crate::recorded::FinishedSpan;

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
pub(super) const CLOSED: usize = 1 << (usize::BITS - 1);

/// What the application threads and the exporter share about the queue: counters, the number of
/// spans held, and whether the exporter has stopped.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) counters: Counters,
    /// Spans admitted and not yet settled.
    pub(super) held: AtomicUsize,
    pub(super) capacity: usize,
    /// Bytes the spans admitted and not yet settled take ([`FinishedSpan::footprint`]).
    pub(super) held_bytes: AtomicUsize,
    pub(super) max_bytes: usize,
    /// When this many spans are held, the exporter is woken to take them in.
    pub(super) wake_at: usize,
    /// [`OPEN`], or the bound that filled (`FULL_COUNT`, `FULL_BYTES`): once either bound is
    /// reached, new traces are turned away when they start (the layer records nothing of them)
    /// until what is held drains to three quarters of both, while the traces already admitted
    /// keep the room there is. Under overload whole traces then get through, rather than a
    /// span at a time as each delivery settles (each trace cut into fragments, each fragment a
    /// session of its own to create), and a trace turned away costs the application almost
    /// nothing.
    pub(super) filled: AtomicU8,
    /// [`CLOSED`] once the exporter has stopped, and the number of producers inside
    /// [`Producer::send`] right now: closing waits for them, so that every span sent before the
    /// close is on the queue when it is drained, and every later one is never sent.
    pub(super) sending: AtomicUsize,
    /// The layer found the pool of spare spans empty and woke the worker; cleared when the
    /// worker takes spans in.
    pub(super) pool_dry: AtomicBool,
}

impl Shared {
    pub(super) fn new(capacity: usize, max_bytes: usize) -> Self {
        Shared {
            counters: Counters::default(),
            held: AtomicUsize::new(0),
            capacity,
            held_bytes: AtomicUsize::new(0),
            max_bytes,
            wake_at: (capacity / 8).max(1),
            filled: AtomicU8::new(OPEN),
            sending: AtomicUsize::new(0),
            pool_dry: AtomicBool::new(false),
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
    pub(super) fn mark_filled(&self, bound: Bound) {
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
    pub(super) spans: crossbeam_channel::Sender<Box<FinishedSpan>>,
    pub(super) pool: Arc<pool::Pool>,
    pub(super) control: mpsc::UnboundedSender<Control>,
    pub(super) shared: Arc<Shared>,
}

impl Producer {
    /// A blank span for the layer to record into, warm from the pool when one is spare. When
    /// none is and spans wait on the queue, the worker has not taken them in for a while (idle,
    /// it looks at the queue at its tick): it is woken, once until it does, so that their boxes
    /// come back before many more spans are recorded into new allocations. With nothing on the
    /// queue (many spans open at once, none closed yet) a wake-up would give nothing back.
    pub(crate) fn fresh(&self) -> Box<FinishedSpan> {
        self.pool.spare().unwrap_or_else(|| {
            if !self.spans.is_empty() && !self.shared.pool_dry.swap(true, Ordering::AcqRel) {
                let _ = self.control.send(Control::Wake);
            }
            self.pool.new_span()
        })
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
    pub(super) fn queue_admitted(&self, span: Box<FinishedSpan>, held: usize) {
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

    #[test]
    fn the_end_of_a_trace_is_admitted_in_the_room_set_aside_for_it() {
        let (producer, _queue) = producer(4, usize::MAX);
        let room = producer.reserve_end().expect("room for the end");
        for _ in 0..4 {
            producer.send(producer.fresh());
        }
        assert_eq!(
            counts(&producer),
            (3, 1, 0),
            "the fourth found the end's room taken"
        );
        producer.send_end(producer.fresh(), room);
        assert_eq!(
            counts(&producer),
            (4, 1, 0),
            "the end is never dropped for room"
        );
        assert_eq!(producer.reserve_end().err(), Some(Bound::Count));
    }

    #[test]
    fn a_reservation_never_used_gives_its_room_back() {
        let (producer, _queue) = producer(4, usize::MAX);
        let room = producer.reserve_end().unwrap();
        assert_eq!(producer.shared.held.load(Ordering::Relaxed), 1);
        drop(room);
        assert_eq!(producer.shared.held.load(Ordering::Relaxed), 0);
        assert_eq!(producer.shared.held_bytes.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn an_end_the_spent_budget_has_no_room_for_goes_without_its_values() {
        use super::super::room::END_BYTES;
        let one = pool::Pool::default().take().footprint();
        let (producer, queue) = producer(100, 4 * one + END_BYTES);
        let room = producer.reserve_end().unwrap();
        while producer.turning_away().is_none() {
            producer.send(producer.fresh());
        }
        let mut end = producer.fresh();
        end.session_json.push((
            crate::recorded::Bucket::Outputs,
            serde_json::json!({"answer": "x".repeat(8 * one)}),
        ));
        producer.send_end(end, room);
        let truncated = producer
            .shared
            .counters
            .fields_truncated
            .load(Ordering::Relaxed);
        assert_eq!(truncated, 1);
        let sent = std::iter::from_fn(|| queue.try_recv().ok()).last().unwrap();
        let note = &sent.session_json[0].1["honeyhive.values_left_out"];
        assert!(note.as_str().unwrap().contains("byte budget"), "{note}");
        assert!(sent.held_bytes <= END_BYTES + 64, "{}", sent.held_bytes);
    }
}
