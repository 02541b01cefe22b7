//! The exporter thread: takes finished spans off the queue, keeps each session's state, and hands
//! each session's work to the [`Sender`] — at most a few requests in flight, a session's own
//! requests strictly in order. Flush and shutdown wait for the spans queued before them.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::{Id as TaskId, JoinSet};
use uuid::Uuid;

use super::diagnostics::Diagnostics;
use super::sender::{Done, Job, Ledger, Outcome, Sender};
use super::session::Session;
use super::stats::{Counters, Report, add};
use super::{Control, Request};
use crate::mapping::Mapper;
use crate::recorded::FinishedSpan;

/// How long a session with nothing to send is remembered: its root may still close, and a
/// session joined by id may get another turn.
const IDLE: Duration = Duration::from_secs(600);

/// Settings of the worker, resolved by the builder.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) batch_size: usize,
    pub(crate) flush_interval: Duration,
    pub(crate) max_in_flight: usize,
    /// Most spans held (queued in the worker or in flight) before it stops taking more off the
    /// queue, which then fills and drops.
    pub(crate) backlog: usize,
    pub(crate) mapper: Mapper,
}

impl Config {
    /// How often pending events are checked for age.
    fn tick(&self) -> Duration {
        (self.flush_interval / 4).max(Duration::from_millis(5))
    }
}

/// A flush or a shutdown waiting for the spans queued before it.
struct Waiter {
    request: Request,
    delivered: u64,
    failed: u64,
    shutdown: bool,
    /// Every span queued before it has been taken off the queue, and what was pending then
    /// was made ready: a root queued before the flush is seen before its session is sent.
    primed: bool,
}

pub(crate) struct Worker {
    config: Config,
    sender: Sender,
    counters: Arc<Counters>,
    diagnostics: Arc<Diagnostics>,
    sessions: HashMap<Uuid, Session>,
    ready: VecDeque<Uuid>,
    queued: HashSet<Uuid>,
    jobs: JoinSet<Done>,
    /// Each job in flight: its session, its spans, and where it records their outcomes.
    job_spans: HashMap<TaskId, (Uuid, Vec<u64>, Ledger)>,
    /// Spans taken off the queue so far; each gets the next number.
    received: u64,
    unsettled: BTreeSet<u64>,
    waiters: Vec<Waiter>,
    dropped_seen: u64,
}

impl Worker {
    pub(crate) fn new(
        config: Config,
        sender: Sender,
        counters: Arc<Counters>,
        diagnostics: Arc<Diagnostics>,
    ) -> Self {
        Worker {
            config,
            sender,
            counters,
            diagnostics,
            sessions: HashMap::new(),
            ready: VecDeque::new(),
            queued: HashSet::new(),
            jobs: JoinSet::new(),
            job_spans: HashMap::new(),
            received: 0,
            unsettled: BTreeSet::new(),
            waiters: Vec::new(),
            dropped_seen: 0,
        }
    }

    /// Runs until shut down, or until every producer and handle is gone and nothing is left.
    pub(crate) async fn run(
        mut self,
        mut inbound: mpsc::Receiver<Vec<FinishedSpan>>,
        mut control: mpsc::UnboundedReceiver<Control>,
    ) {
        let mut tick = tokio::time::interval(self.config.tick());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let (mut inbound_open, mut control_open) = (true, true);
        loop {
            let deadline = self.waiters.iter().map(|w| w.request.deadline).min();
            let room = self.unsettled.len() < self.config.backlog;
            tokio::select! {
                biased;
                message = control.recv(), if control_open => match message {
                    Some(message) => self.on_control(message),
                    None => control_open = false,
                },
                Some(done) = self.jobs.join_next_with_id(), if !self.jobs.is_empty() => {
                    self.on_done(done);
                }
                chunk = inbound.recv(), if inbound_open && room => match chunk {
                    Some(spans) => spans.into_iter().for_each(|span| self.on_span(span)),
                    None => inbound_open = false,
                },
                _ = tick.tick() => self.on_tick(),
                () = sleep_until(deadline), if deadline.is_some() => {}
            }
            let orphaned = !control_open && !inbound_open;
            if orphaned {
                // Nobody can flush any more: send what is left, then stop.
                self.make_all_ready();
            }
            self.prime_waiters();
            self.dispatch();
            if self.answer_waiters() || (orphaned && self.unsettled.is_empty()) {
                break;
            }
        }
    }

    fn on_control(&mut self, message: Control) {
        match message {
            Control::Register(dispatch) => self.diagnostics.set_dispatch(dispatch),
            Control::Flush(request) => self.wait(request, false),
            Control::Shutdown(request) => self.wait(request, true),
        }
    }

    fn wait(&mut self, request: Request, shutdown: bool) {
        self.waiters.push(Waiter {
            request,
            delivered: 0,
            failed: 0,
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

    fn on_span(&mut self, span: FinishedSpan) {
        self.received += 1;
        let seq = self.received;
        self.unsettled.insert(seq);
        let id = span.session.id;
        let session = self
            .sessions
            .entry(id)
            .or_insert_with(|| Session::new(Arc::clone(&span.session), Instant::now()));
        let mut truncated = 0;
        session.add(seq, span, &self.config.mapper, &mut truncated);
        add(&self.counters.fields_truncated, u64::from(truncated));
        if session.is_due(self.config.batch_size) || self.forcing() {
            self.make_ready(id);
        }
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        let due = self
            .config
            .flush_interval
            .saturating_sub(self.config.tick());
        let late: Vec<Uuid> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.oldest.is_some_and(|t| now.duration_since(t) >= due))
            .map(|(id, _)| *id)
            .collect();
        late.into_iter().for_each(|id| self.make_ready(id));
        self.sessions
            .retain(|_, s| s.busy || s.has_work() || now.duration_since(s.touched) < IDLE);
        let dropped = self
            .counters
            .dropped_queue_full
            .load(std::sync::atomic::Ordering::Relaxed);
        if dropped > self.dropped_seen {
            let new = dropped - self.dropped_seen;
            self.dropped_seen = dropped;
            self.diagnostics.warn("queue-full", || {
                format!(
                    "the HoneyHive queue was full: {new} span(s) dropped ({dropped} in all); the \
                     server is slow or unreachable, or spans close faster than they can be sent"
                )
            });
        }
    }

    /// Starts jobs for ready sessions while there is room in flight.
    fn dispatch(&mut self) {
        while self.jobs.len() < self.config.max_in_flight {
            let Some(id) = self.ready.pop_front() else {
                break;
            };
            self.queued.remove(&id);
            let Some(job) = self.take_job(id) else {
                continue;
            };
            let spans = job.spans();
            let ledger = job.ledger.clone();
            let sender = self.sender.clone();
            // Visible to the application's own log at DEBUG; the layer ignores this thread, so
            // it never becomes a session itself.
            let span = tracing::debug_span!(
                target: "tracing_honeyhive",
                "honeyhive.send",
                session_id = %id,
                events = job.events.len(),
            );
            let run = async move { sender.run(job).await };
            let handle = self.jobs.spawn(tracing::Instrument::instrument(run, span));
            self.job_spans.insert(handle.id(), (id, spans, ledger));
        }
    }

    /// The session's work, unless it is busy or has nothing to send.
    fn take_job(&mut self, id: Uuid) -> Option<Job> {
        let session = self.sessions.get_mut(&id)?;
        let mut truncated = 0;
        let job = session.take_job(&self.config.mapper, self.config.batch_size, &mut truncated);
        add(&self.counters.fields_truncated, u64::from(truncated));
        job
    }

    fn on_done(&mut self, result: Result<(TaskId, Done), tokio::task::JoinError>) {
        let task = match &result {
            Ok((task, _)) => *task,
            Err(error) => error.id(),
        };
        let Some((id, spans, ledger)) = self.job_spans.remove(&task) else {
            return;
        };
        for (seq, outcome) in ledger.take() {
            self.settle(seq, outcome);
        }
        match result {
            Ok((_, done)) => {
                if let Some(session) = self.sessions.get_mut(&done.session_id) {
                    session.created |= done.created;
                    session.start_ms = done.start_ms.or(session.start_ms);
                }
            }
            Err(error) => {
                // The job's task died: what it had not settled is lost, counted and settled.
                let lost: Vec<u64> = spans
                    .into_iter()
                    .filter(|seq| self.unsettled.contains(seq))
                    .collect();
                add(&self.counters.events_failed, lost.len() as u64);
                self.diagnostics.warn("job-died", || {
                    format!("sending session {id} stopped unexpectedly: {error}")
                });
                for seq in lost {
                    self.settle(seq, Outcome::Failed);
                }
            }
        }
        let Some(session) = self.sessions.get_mut(&id) else {
            return;
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

    fn settle(&mut self, seq: u64, outcome: Outcome) {
        if !self.unsettled.remove(&seq) {
            return;
        }
        for waiter in self.waiters.iter_mut().filter(|w| seq <= w.request.upto) {
            match outcome {
                Outcome::Delivered => waiter.delivered += 1,
                Outcome::Rejected | Outcome::Failed => waiter.failed += 1,
            }
        }
    }

    /// Spans queued before `upto` and not settled: not yet taken off the queue, or held here.
    fn owed(&self, upto: u64) -> u64 {
        let not_received = upto.saturating_sub(self.received);
        not_received + self.unsettled.range(..=upto).count() as u64
    }

    /// Answers the flushes and shutdowns that are done or past their deadline; `true` when a
    /// shutdown was answered and the worker must stop.
    fn answer_waiters(&mut self) -> bool {
        let now = Instant::now();
        let mut stop = false;
        let mut i = 0;
        while i < self.waiters.len() {
            let waiter = &self.waiters[i];
            let mut owed = self.owed(waiter.request.upto);
            if owed > 0 && now < waiter.request.deadline {
                i += 1;
                continue;
            }
            if waiter.shutdown {
                stop = true;
                self.settle_in_flight();
                owed = self.owed(self.waiters[i].request.upto);
                self.drop_held();
            }
            let waiter = self.waiters.swap_remove(i);
            let report = Report {
                delivered: waiter.delivered,
                failed: waiter.failed,
                undelivered: owed,
                stats: self.counters.snapshot(),
            };
            let _ = waiter.request.reply.send(report);
        }
        stop
    }

    /// Settles what the jobs in flight have finished so far.
    fn settle_in_flight(&mut self) {
        let ledgers: Vec<Ledger> = self.job_spans.values().map(|(_, _, l)| l.clone()).collect();
        for (seq, outcome) in ledgers.iter().flat_map(Ledger::take) {
            self.settle(seq, outcome);
        }
    }

    /// At shutdown: the jobs in flight stop, and whatever is still held is lost, and counted.
    fn drop_held(&mut self) {
        self.settle_in_flight();
        self.job_spans.clear();
        self.jobs.abort_all();
        let held = self.unsettled.len() as u64;
        if held > 0 {
            add(&self.counters.dropped_shutdown, held);
            self.diagnostics.warn("shutdown-lost", || {
                format!("shutdown deadline passed: {held} span(s) not delivered to HoneyHive")
            });
        }
        self.unsettled.clear();
        self.sessions.clear();
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}
