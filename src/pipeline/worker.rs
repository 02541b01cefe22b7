//! The exporter thread: takes finished spans off the queue, keeps each session's state, and hands
//! each session's work to the [`Sender`] — at most a few requests in flight, a session's own
//! requests strictly in order. Flush and shutdown wait for the spans queued before them. It
//! counts what became of every span it took, once, when the span settles.
//!
//! This file holds the loop and the sending; how spans come in and join their sessions is
//! `intake.rs`, and how each is settled and the flushes and shutdowns answered, `settling.rs`.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::{Id as TaskId, JoinSet};
use uuid::Uuid;

mod intake;
mod settling;

use settling::Waiter;

use super::diagnostics::Diagnostics;
use super::job::{Done, Job, Ledger, Outcome};
use super::sender::Sender;
use super::session::Session;
use super::{Control, Shared};
use crate::mapping::Mapper;
use crate::recorded::{FinishedSpan, Role, SessionSeed};
use crate::redact::Hook;

/// How long a session with nothing to send is remembered: its root may still close, and a
/// session joined by id may get another turn.
const IDLE: Duration = Duration::from_secs(600);

/// How soon the queue is looked at again after spans were found on it.
const BUSY_POLL: Duration = Duration::from_millis(5);
/// The most sessions remembered with nothing to send; past it the least recently touched are
/// forgotten (a forgotten session that gets more spans is created again, which the server
/// treats as the same session). Bounds memory when roots never come.
const MAX_IDLE_SESSIONS: usize = 16_384;

/// Settings of the worker, resolved by the builder.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) batch_size: usize,
    pub(crate) flush_interval: Duration,
    pub(crate) max_in_flight: usize,
    /// How long the events of an OpenTelemetry trace wait for its root before they are sent
    /// without it.
    pub(crate) root_wait: Duration,
    pub(crate) mapper: Mapper,
    /// The application's redaction hook.
    pub(crate) hook: Option<Hook>,
    /// Send the events of several sessions together (`POST /v1/events/batch`) instead of each
    /// session's on its own route.
    pub(crate) across_sessions: bool,
}

impl Config {
    /// How often pending events are checked for age, and the queue for spans when it was empty.
    fn tick(&self) -> Duration {
        (self.flush_interval / 4).max(Duration::from_millis(5))
    }
}

/// Whether a span is a session's root or an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Session,
    Event,
}

impl Kind {
    pub(crate) fn of(span: &FinishedSpan) -> Kind {
        match span.role {
            Role::Session => Kind::Session,
            Role::Event { .. } => Kind::Event,
        }
    }
}

/// One session's job in flight: its session, its spans, and where it records their outcomes.
#[derive(Debug)]
struct InFlight {
    session: Uuid,
    spans: Vec<u64>,
    ledger: Ledger,
}

/// A span taken in and not settled: its kind, and the bytes it holds of the budget.
#[derive(Debug, Clone, Copy)]
struct Held {
    kind: Kind,
    bytes: usize,
}

pub(crate) struct Worker {
    config: Config,
    sender: Sender,
    shared: Arc<Shared>,
    diagnostics: Arc<Diagnostics>,
    queue: crossbeam_channel::Receiver<Box<FinishedSpan>>,
    /// Where the layer's spans go back once taken in.
    pool: Arc<super::pool::Pool>,
    sessions: HashMap<Uuid, Session>,
    ready: VecDeque<Uuid>,
    queued: HashSet<Uuid>,
    jobs: JoinSet<Vec<Done>>,
    /// Each job in flight: its session, its spans, and where it records their outcomes.
    job_spans: HashMap<TaskId, Vec<InFlight>>,
    /// Spans taken off the queue so far; each gets the next number.
    received: u64,
    /// Spans taken and not settled, and their kind.
    unsettled: BTreeMap<u64, Held>,
    waiters: Vec<Waiter>,
    dropped_seen: u64,
    /// Traces moved into another session by a grouping key, oldest first.
    regrouped: HashMap<Uuid, Arc<SessionSeed>>,
    regrouped_order: VecDeque<Uuid>,
}

impl Worker {
    pub(crate) fn new(
        config: Config,
        sender: Sender,
        shared: Arc<Shared>,
        diagnostics: Arc<Diagnostics>,
        queue: crossbeam_channel::Receiver<Box<FinishedSpan>>,
        pool: Arc<super::pool::Pool>,
    ) -> Self {
        Worker {
            config,
            sender,
            shared,
            diagnostics,
            queue,
            pool,
            sessions: HashMap::new(),
            ready: VecDeque::new(),
            queued: HashSet::new(),
            jobs: JoinSet::new(),
            job_spans: HashMap::new(),
            received: 0,
            unsettled: BTreeMap::new(),
            waiters: Vec::new(),
            dropped_seen: 0,
            regrouped: HashMap::new(),
            regrouped_order: VecDeque::new(),
        }
    }

    /// Runs until shut down, or until every producer and handle is gone and nothing is left.
    pub(crate) async fn run(mut self, mut control: mpsc::UnboundedReceiver<Control>) {
        let mut tick = tokio::time::interval(self.config.tick());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut control_open = true;
        // Busy from the start: the first spans come back to the pool within a poll, not a tick.
        let mut busy = true;
        loop {
            let deadline = self.waiters.iter().map(|w| w.request.deadline).min();
            let mut polled = false;
            tokio::select! {
                biased;
                message = control.recv(), if control_open => match message {
                    Some(message) => self.on_control(message),
                    None => control_open = false,
                },
                Some(done) = self.jobs.join_next_with_id(), if !self.jobs.is_empty() => {
                    self.on_done(done);
                }
                _ = tick.tick() => self.on_tick(),
                () = tokio::time::sleep(BUSY_POLL), if busy => polled = true,
                () = sleep_until(deadline), if deadline.is_some() => {}
            }
            // Busy until a whole poll finds the queue empty: a turn woken by something else (a
            // job done) that finds it empty only means the spans arrive slower than those
            // wake-ups, not that they stopped. Falling back to the tick then kept spans
            // waiting, and their boxes away from the pool, for up to a quarter of the flush
            // interval: at 20k spans/s half the spans were recorded into new allocations.
            let found = self.take_in() > 0;
            busy = found || (busy && !polled);
            if !control_open {
                // Nobody can flush any more: send what is left, then stop.
                self.make_all_ready();
            }
            self.prime_waiters();
            self.dispatch();
            if self.answer_waiters() {
                // A shutdown was answered, and the worker stopped to answer it.
                return;
            }
            if !control_open && self.unsettled.is_empty() {
                break;
            }
        }
        self.stop();
    }

    fn on_control(&mut self, message: Control) {
        match message {
            Control::Register(dispatch) => self.diagnostics.set_dispatch(dispatch),
            Control::Flush(request) => self.wait(request, false),
            Control::Shutdown(request) => self.wait(request, true),
            // Taking in follows every message.
            Control::Wake => {}
            Control::SetApiKey(key) => {
                self.sender.client = self.sender.client.with_replaced_key(key);
                self.sender.gate.reset();
                self.diagnostics.info("key-replaced", || {
                    "the HoneyHive API key was replaced (Handle::set_api_key)".to_owned()
                });
            }
        }
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        let due = self
            .config
            .flush_interval
            .saturating_sub(self.config.tick());
        let root_wait = self.config.root_wait.max(due);
        let late: Vec<Uuid> = self
            .sessions
            .iter()
            .filter(|(_, s)| {
                let wait = if s.waiting_for_root() { root_wait } else { due };
                s.oldest.is_some_and(|t| now.duration_since(t) >= wait)
            })
            .map(|(id, _)| *id)
            .collect();
        late.into_iter().for_each(|id| self.make_ready(id));
        self.sessions
            .retain(|_, s| !s.is_idle() || now.duration_since(s.touched) < IDLE);
        forget_idle(&mut self.sessions, MAX_IDLE_SESSIONS);
        // Counters stay current while long jobs run.
        self.settle_in_flight();
        let counters = &self.shared.counters;
        let load = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
        let (full, bytes) = (
            load(&counters.dropped_queue_full),
            load(&counters.dropped_queue_bytes),
        );
        let dropped = full + bytes;
        if dropped > self.dropped_seen {
            let new = dropped - self.dropped_seen;
            self.dropped_seen = dropped;
            let (capacity, max_bytes) = (self.shared.capacity, self.shared.max_bytes);
            self.diagnostics.warn("queue-full", || {
                format!(
                    "the HoneyHive queue was full (at most {capacity} spans or {max_bytes} bytes \
                     held): {new} span(s) dropped ({full} for the span limit, {bytes} for the \
                     byte limit, in all); the server is slow or unreachable, or spans close \
                     faster than they can be sent"
                )
            });
        }
        self.diagnostics.summarise(false);
    }

    /// Starts jobs for ready sessions while there is room in flight.
    fn dispatch(&mut self) {
        while self.jobs.len() < self.config.max_in_flight {
            // One session's job, or, across sessions, jobs until a batch's worth of events.
            let mut group = Vec::new();
            let mut events = 0;
            while let Some(id) = self.ready.pop_front() {
                self.queued.remove(&id);
                let Some(job) = self.take_job(id) else {
                    continue;
                };
                events += job.event_count();
                group.push(job);
                if !self.config.across_sessions || events >= self.config.batch_size {
                    break;
                }
            }
            let Some(first) = group.first() else {
                break;
            };
            let in_flight: Vec<InFlight> = group
                .iter()
                .map(|job| InFlight {
                    session: job.session_id,
                    spans: job.spans(),
                    ledger: job.ledger.clone(),
                })
                .collect();
            let sender = self.sender.clone();
            // Visible to the application's own log at DEBUG; the layer ignores this thread, so
            // it never becomes a session itself.
            let span = tracing::debug_span!(
                target: "tracing_honeyhive",
                "honeyhive.send",
                session_id = %first.session_id,
                sessions = group.len(),
                events,
            );
            let across = self.config.across_sessions;
            let run = async move { sender.run(group, across).await };
            let handle = self.jobs.spawn(tracing::Instrument::instrument(run, span));
            self.job_spans.insert(handle.id(), in_flight);
        }
    }

    /// The session's work, unless it is busy or has nothing to send.
    fn take_job(&mut self, id: Uuid) -> Option<Job> {
        let session = self.sessions.get_mut(&id)?;
        let mut truncated = 0;
        let job = session.take_job(
            &self.config.mapper,
            self.config.batch_size,
            self.config.hook.as_ref(),
            &mut truncated,
        );
        self.count_truncated(truncated);
        job
    }

    fn on_done(&mut self, result: Result<(TaskId, Vec<Done>), tokio::task::JoinError>) {
        let task = match &result {
            Ok((task, _)) => *task,
            Err(error) => error.id(),
        };
        let Some(in_flight) = self.job_spans.remove(&task) else {
            return;
        };
        for (seq, outcome) in in_flight.iter().flat_map(|job| job.ledger.take()) {
            self.settle(seq, outcome);
        }
        match result {
            Ok((_, dones)) => {
                for done in dones {
                    if let Some(session) = self.sessions.get_mut(&done.session_id) {
                        session.created |= done.created;
                        session.start_ms = done.start_ms.or(session.start_ms);
                    }
                }
            }
            Err(error) => {
                // The task died: what its jobs had not settled is lost, counted and settled.
                for job in &in_flight {
                    let lost: Vec<u64> = job
                        .spans
                        .iter()
                        .copied()
                        .filter(|seq| self.unsettled.contains_key(seq))
                        .collect();
                    self.diagnostics.warn("job-died", || {
                        format!(
                            "sending session {} stopped unexpectedly; {} span(s) lost: {error}",
                            job.session,
                            lost.len()
                        )
                    });
                    for seq in lost {
                        self.settle(seq, Outcome::Failed);
                    }
                }
            }
        }
        for job in in_flight {
            let id = job.session;
            let Some(session) = self.sessions.get_mut(&id) else {
                continue;
            };
            session.busy = false;
            if session.has_work() {
                if session.is_due(self.config.batch_size) || self.forcing() {
                    self.make_ready(id);
                }
            } else if session.ended {
                self.sessions.remove(&id);
            }
        }
    }
}

/// Forgets the least recently touched idle sessions while more than `max` are remembered.
fn forget_idle(sessions: &mut HashMap<Uuid, Session>, max: usize) {
    if sessions.len() <= max {
        return;
    }
    let mut idle: Vec<(Instant, Uuid)> = sessions
        .iter()
        .filter(|(_, s)| s.is_idle())
        .map(|(id, s)| (s.touched, *id))
        .collect();
    let excess = sessions.len() - max;
    if idle.len() > excess {
        idle.select_nth_unstable(excess);
    }
    for (_, id) in idle.into_iter().take(excess) {
        sessions.remove(&id);
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(n: u128) -> Arc<SessionSeed> {
        Arc::new(SessionSeed {
            id: Uuid::from_u128(n),
            joined: false,
            trace: true,
            name: "s".into(),
            source: None,
            start_ms: 0,
            fields: Default::default(),
        })
    }

    #[test]
    fn idle_sessions_past_the_bound_are_forgotten_oldest_first_and_busy_ones_kept() {
        let start = Instant::now();
        let mut sessions = HashMap::new();
        for n in 0..10u128 {
            let touched = start + Duration::from_millis(n as u64);
            sessions.insert(Uuid::from_u128(n), Session::new(seed(n), touched));
        }
        // The oldest is in flight: not idle, never forgotten.
        sessions.get_mut(&Uuid::from_u128(0)).unwrap().busy = true;
        forget_idle(&mut sessions, 6);
        let mut kept: Vec<u128> = sessions.keys().map(|id| id.as_u128()).collect();
        kept.sort_unstable();
        assert_eq!(kept, [0, 5, 6, 7, 8, 9]);
        forget_idle(&mut sessions, 6);
        assert_eq!(sessions.len(), 6, "nothing more to forget at the bound");
    }
}
