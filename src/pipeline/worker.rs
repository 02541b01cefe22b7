//! The exporter thread: takes finished spans off the queue, keeps each session's state, and hands
//! each session's work to the [`Sender`] — at most a few requests in flight, a session's own
//! requests strictly in order. Flush and shutdown wait for the spans queued before them. It
//! counts what became of every span it took, once, when the span settles.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::{Id as TaskId, JoinSet};
use uuid::Uuid;

use super::diagnostics::Diagnostics;
use super::job::{Done, Job, Ledger, Outcome};
use super::sender::Sender;
use super::session::Session;
use super::stats::{Outcomes, Report, add};
use super::{Control, Request, Shared};
use crate::mapping::Mapper;
use crate::recorded::{FinishedSpan, Role, SessionSeed};
use crate::redact::Hook;

/// How long a session with nothing to send is remembered: its root may still close, and a
/// session joined by id may get another turn.
const IDLE: Duration = Duration::from_secs(600);

/// How soon the queue is looked at again after spans were found on it.
const BUSY_POLL: Duration = Duration::from_millis(5);
/// The most spans taken off the queue in one turn of the loop: with the queue as deep as the
/// default bounds allow, taking everything at once kept a shutdown past its deadline.
const TAKE_IN_MAX: usize = 2048;

/// The most sessions remembered with nothing to send; past it the least recently touched are
/// forgotten (a forgotten session that gets more spans is created again, which the server
/// treats as the same session). Bounds memory when roots never come.
const MAX_IDLE_SESSIONS: usize = 16_384;

/// The most traces remembered as moved into another session by a grouping key.
const MAX_REGROUPED: usize = 16_384;

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

/// A flush or a shutdown waiting for the spans queued before it.
struct Waiter {
    request: Request,
    sessions: Outcomes,
    events: Outcomes,
    shutdown: bool,
    /// Every span queued before it has been taken off the queue, and what was pending then
    /// was made ready: a root queued before the flush is seen before its session is sent.
    primed: bool,
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
        let mut busy = false;
        loop {
            let deadline = self.waiters.iter().map(|w| w.request.deadline).min();
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
                () = tokio::time::sleep(BUSY_POLL), if busy => {}
                () = sleep_until(deadline), if deadline.is_some() => {}
            }
            busy = self.take_in() > 0;
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

    /// Takes the spans on the queue, at most [`TAKE_IN_MAX`] a turn so that a deep queue never
    /// keeps a flush's or a shutdown's deadline waiting; returns how many.
    fn take_in(&mut self) -> usize {
        let now = Instant::now();
        let mut n = 0;
        while n < TAKE_IN_MAX
            && let Ok(span) = self.queue.try_recv()
        {
            let span = self.pool.settle(span);
            self.on_span(span, now);
            n += 1;
        }
        n
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

    fn wait(&mut self, request: Request, shutdown: bool) {
        self.waiters.push(Waiter {
            request,
            sessions: Outcomes::default(),
            events: Outcomes::default(),
            shutdown,
            primed: false,
        });
    }

    /// Once the spans queued before a flush are all in, everything pending is sent now.
    fn prime_waiters(&mut self) {
        let received = self.received;
        let mut newly = false;
        for waiter in self.waiters.iter_mut().filter(|w| !w.primed) {
            if waiter.request.upto <= received {
                waiter.primed = true;
                newly = true;
            }
        }
        if newly {
            self.make_all_ready();
        }
    }

    /// A flush is waiting: sessions are sent as soon as they have work.
    fn forcing(&self) -> bool {
        self.waiters.iter().any(|w| w.primed)
    }

    fn make_all_ready(&mut self) {
        let ids: Vec<Uuid> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.has_work())
            .map(|(id, _)| *id)
            .collect();
        ids.into_iter().for_each(|id| self.make_ready(id));
    }

    fn make_ready(&mut self, id: Uuid) {
        if self.queued.insert(id) {
            self.ready.push_back(id);
        }
    }

    fn on_span(&mut self, mut span: Box<FinishedSpan>, now: Instant) {
        self.received += 1;
        let seq = self.received;
        if let Some(trace) = span.trace_session {
            if span.session.id != trace {
                self.regroup(trace, &span.session, now);
            } else if let Some(seed) = self.regrouped.get(&trace) {
                move_span(&mut span, seed);
            }
        }
        self.add_span(seq, span, now);
    }

    /// Takes span `seq` into its session (again, for a span moved to another session: its kind
    /// may have changed).
    fn add_span(&mut self, seq: u64, span: Box<FinishedSpan>, now: Instant) {
        let held = Held {
            kind: Kind::of(&span),
            bytes: span.held_bytes,
        };
        self.unsettled.insert(seq, held);
        let id = span.session.id;
        let session = self.sessions.entry(id).or_insert_with(|| {
            let mut session = Session::new(Arc::clone(&span.session), now);
            // Values given late for a session this exporter does not hold: it was created
            // before (here, long ago, or by another process), and is only updated.
            session.created = span.late.is_some();
            session.foreign = span.late.is_some();
            session
        });
        let mut truncated = 0;
        session.add(seq, span, now, &self.config.mapper, &mut truncated);
        let due = session.is_due(self.config.batch_size);
        self.count_truncated(truncated);
        if due || self.forcing() {
            self.make_ready(id);
        }
    }

    /// A span moved its trace into the session `seed` (a grouping key): what the trace's own
    /// session holds unsent moves there, and so do the trace's later spans. What was sent
    /// already stays where it is.
    fn regroup(&mut self, trace: Uuid, seed: &Arc<SessionSeed>, now: Instant) {
        if self.regrouped.contains_key(&trace) {
            return;
        }
        self.regrouped.insert(trace, Arc::clone(seed));
        self.regrouped_order.push_back(trace);
        if self.regrouped_order.len() > MAX_REGROUPED
            && let Some(oldest) = self.regrouped_order.pop_front()
        {
            self.regrouped.remove(&oldest);
        }
        let Some(old) = self.sessions.get_mut(&trace).filter(|s| !s.busy) else {
            return;
        };
        let unsent = old.take_unsent();
        if old.is_idle() && !old.created {
            self.sessions.remove(&trace);
        }
        let session = self
            .sessions
            .entry(seed.id)
            .or_insert_with(|| Session::new(Arc::clone(seed), now));
        if let Some(root) = session.adopt(unsent, seed, now)
            && let Some(held) = self.unsettled.get_mut(&root)
        {
            held.kind = Kind::Event;
        }
        if session.is_due(self.config.batch_size) || self.forcing() {
            self.make_ready(seed.id);
        }
    }

    fn count_truncated(&self, n: u32) {
        add(&self.shared.counters.fields_truncated, u64::from(n));
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

    /// Span `seq` is settled: counted once, by kind and outcome, and its room released.
    fn settle(&mut self, seq: u64, outcome: Outcome) {
        let Some(Held { kind, bytes }) = self.unsettled.remove(&seq) else {
            return;
        };
        self.shared.release(1, bytes);
        let counters = &self.shared.counters;
        let counter = match (kind, outcome) {
            (Kind::Session, Outcome::Delivered) => &counters.sessions_completed,
            (Kind::Event, Outcome::Delivered) => &counters.events_sent,
            (Kind::Event, Outcome::Rejected) => &counters.events_rejected,
            (Kind::Event, Outcome::Failed) => &counters.events_failed,
            (Kind::Session, Outcome::Rejected | Outcome::Failed) => &counters.sessions_failed,
            (_, Outcome::Unauthorized) => &counters.dropped_unauthorized,
            (_, Outcome::Shutdown) => &counters.dropped_shutdown,
            (_, Outcome::Redacted) => &counters.dropped_redacted,
        };
        add(counter, 1);
        for waiter in self.waiters.iter_mut().filter(|w| seq <= w.request.upto) {
            let outcomes = match kind {
                Kind::Session => &mut waiter.sessions,
                Kind::Event => &mut waiter.events,
            };
            match outcome {
                Outcome::Delivered => outcomes.delivered += 1,
                Outcome::Shutdown => outcomes.undelivered += 1,
                Outcome::Redacted => outcomes.redacted += 1,
                _ => outcomes.failed += 1,
            }
        }
    }

    /// Spans queued before `upto` and not settled, as (sessions, events): not yet taken off the
    /// queue (counted as events: their kind is not known yet), or held here.
    fn owed(&self, upto: u64) -> (u64, u64) {
        let not_received = upto.saturating_sub(self.received);
        let (mut sessions, mut events) = (0, not_received);
        for kind in self.unsettled.range(..=upto).map(|(_, held)| held.kind) {
            match kind {
                Kind::Session => sessions += 1,
                Kind::Event => events += 1,
            }
        }
        (sessions, events)
    }

    /// Whether any span up to `upto` is still owed: what [`owed`](Self::owed) counts, without
    /// counting (it is asked on every turn while a flush waits).
    fn owes(&self, upto: u64) -> bool {
        upto > self.received
            || self
                .unsettled
                .first_key_value()
                .is_some_and(|(&seq, _)| seq <= upto)
    }

    /// Answers the flushes and shutdowns that are done or past their deadline; `true` when a
    /// shutdown was answered, after stopping.
    fn answer_waiters(&mut self) -> bool {
        let now = Instant::now();
        let mut stop = false;
        let mut i = 0;
        while i < self.waiters.len() {
            let upto = self.waiters[i].request.upto;
            if self.owes(upto) && now < self.waiters[i].request.deadline {
                i += 1;
                continue;
            }
            let (sessions, events) = self.owed(upto);
            let mut waiter = self.waiters.swap_remove(i);
            if waiter.shutdown {
                stop = true;
                // Everything still held is dropped, whenever it was queued.
                let (sessions, events) = self.stop();
                waiter.sessions.undelivered = sessions;
                waiter.events.undelivered = events;
            } else {
                waiter.sessions.undelivered = sessions;
                waiter.events.undelivered = events;
            }
            let stats = self.shared.counters.snapshot();
            let report = Report::from_outcomes(waiter.sessions, waiter.events, stats);
            let _ = waiter.request.reply.send(report);
        }
        stop
    }

    /// Settles what the jobs in flight have finished so far.
    fn settle_in_flight(&mut self) {
        let ledgers: Vec<Ledger> = self
            .job_spans
            .values()
            .flatten()
            .map(|job| job.ledger.clone())
            .collect();
        for (seq, outcome) in ledgers.iter().flat_map(Ledger::take) {
            self.settle(seq, outcome);
        }
    }

    /// Stops: the jobs in flight are cut off, whatever is still held is dropped and counted, the
    /// queue is closed and what is left on it counted too, and what the diagnostics held back is
    /// summarised. Returns the spans dropped, as (sessions, events).
    fn stop(&mut self) -> (u64, u64) {
        self.settle_in_flight();
        self.job_spans.clear();
        self.jobs.abort_all();
        let held: Vec<(u64, Kind)> = self.unsettled.iter().map(|(s, h)| (*s, h.kind)).collect();
        let (mut sessions, mut events) = (0, 0);
        for (seq, kind) in held {
            self.settle(seq, Outcome::Shutdown);
            match kind {
                Kind::Session => sessions += 1,
                Kind::Event => events += 1,
            }
        }
        self.sessions.clear();
        let (late_sessions, late_events) = self.shared.close(&self.queue);
        sessions += late_sessions;
        events += late_events;
        let lost = sessions + events;
        if lost > 0 {
            self.diagnostics.warn("shutdown-lost", || {
                format!("shutdown deadline passed: {lost} span(s) not delivered to HoneyHive")
            });
        }
        self.diagnostics.summarise(true);
        (sessions, events)
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

/// Puts a span in the session `seed`: a trace's root becomes an event of it, as a span that
/// joins a session by id does.
fn move_span(span: &mut FinishedSpan, seed: &Arc<SessionSeed>) {
    span.session = Arc::clone(seed);
    if span.role == Role::Session {
        span.role = Role::Event { parent: seed.id };
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
