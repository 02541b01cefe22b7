//! What became of each span, and the flushes and shutdowns that wait for it: a span is settled
//! once, counted by kind and outcome, its room released; a waiter is answered when every span
//! queued before it is settled, or at its deadline with what is still owed.

use std::time::Instant;

use super::{Held, Kind, Worker};
use crate::pipeline::Request;
use crate::pipeline::job::{Ledger, Outcome};
use crate::pipeline::stats::{Outcomes, Report, add};

/// A flush or a shutdown waiting for the spans queued before it.
pub(super) struct Waiter {
    pub(super) request: Request,
    sessions: Outcomes,
    events: Outcomes,
    shutdown: bool,
    /// Every span queued before it has been taken off the queue, and what was pending then
    /// was made ready: a root queued before the flush is seen before its session is sent.
    primed: bool,
}

impl Worker {
    pub(super) fn wait(&mut self, request: Request, shutdown: bool) {
        self.waiters.push(Waiter {
            request,
            sessions: Outcomes::default(),
            events: Outcomes::default(),
            shutdown,
            primed: false,
        });
    }

    /// Once the spans queued before a flush are all in, everything pending is sent now.
    pub(super) fn prime_waiters(&mut self) {
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
    pub(super) fn forcing(&self) -> bool {
        self.waiters.iter().any(|w| w.primed)
    }

    /// Span `seq` is settled: counted once, by kind and outcome, and its room released.
    pub(super) fn settle(&mut self, seq: u64, outcome: Outcome) {
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
    pub(super) fn owed(&self, upto: u64) -> (u64, u64) {
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
    pub(super) fn owes(&self, upto: u64) -> bool {
        upto > self.received
            || self
                .unsettled
                .first_key_value()
                .is_some_and(|(&seq, _)| seq <= upto)
    }

    /// Answers the flushes and shutdowns that are done or past their deadline; `true` when a
    /// shutdown was answered, after stopping.
    pub(super) fn answer_waiters(&mut self) -> bool {
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
    pub(super) fn settle_in_flight(&mut self) {
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
    pub(super) fn stop(&mut self) -> (u64, u64) {
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
