//! Spans in: each taken off the queue gets its number and goes into its session, which becomes
//! ready to send when it has a batch's worth, or at once while a flush waits. A span that moves
//! its trace into another session (a grouping key) takes what the trace's own session holds
//! unsent along.

use std::sync::Arc;
use std::time::Instant;

use uuid::Uuid;

use super::{Held, Kind, Worker};
use crate::pipeline::session::Session;
use crate::pipeline::stats::add;
use crate::recorded::{FinishedSpan, Role, SessionSeed};

/// The most spans taken off the queue in one turn of the loop: with the queue as deep as the
/// default bounds allow, taking everything at once kept a shutdown past its deadline.
const TAKE_IN_MAX: usize = 2048;
/// The most traces remembered as moved into another session by a grouping key.
const MAX_REGROUPED: usize = 16_384;

impl Worker {
    /// Takes the spans on the queue, at most [`TAKE_IN_MAX`] a turn so that a deep queue never
    /// keeps a flush's or a shutdown's deadline waiting; returns how many.
    pub(super) fn take_in(&mut self) -> usize {
        // The spans taken in give their boxes back to the pool: the layer may wake us again
        // when it finds the pool empty.
        self.shared
            .pool_dry
            .store(false, std::sync::atomic::Ordering::Release);
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

    pub(super) fn make_all_ready(&mut self) {
        let ids: Vec<Uuid> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.has_work())
            .map(|(id, _)| *id)
            .collect();
        ids.into_iter().for_each(|id| self.make_ready(id));
    }

    pub(super) fn make_ready(&mut self, id: Uuid) {
        if self.queued.insert(id) {
            self.ready.push_back(id);
        }
    }

    pub(super) fn on_span(&mut self, mut span: Box<FinishedSpan>, now: Instant) {
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
    pub(super) fn add_span(&mut self, seq: u64, span: Box<FinishedSpan>, now: Instant) {
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
    pub(super) fn regroup(&mut self, trace: Uuid, seed: &Arc<SessionSeed>, now: Instant) {
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

    pub(super) fn count_truncated(&self, n: u32) {
        add(&self.shared.counters.fields_truncated, u64::from(n));
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
