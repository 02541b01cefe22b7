//! Counters of the pipeline and what `flush` and `shutdown` report.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What the pipeline has done since it started.
///
/// Every span that closes is either queued ([`spans_queued`](Self::spans_queued)) or dropped
/// before the queue ([`Dropped::queue_full`], [`Dropped::queue_bytes`],
/// [`Dropped::after_shutdown`]). Every span queued
/// ends as exactly one of: delivered (an event sent, a session completed), refused (an event
/// rejected), failed (an event or a session given up on), or dropped after it was queued
/// ([`Dropped::shutdown`], [`Dropped::unauthorized`]). Until then it is
/// [`pending`](Self::pending). So, at any time:
///
/// `spans_queued == delivered() + refused() + failed() + dropped.shutdown + dropped.unauthorized + dropped.redacted + pending()`
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Spans handed to the exporter (the queue accepted them).
    pub spans_queued: u64,
    /// Sessions created on the server (`POST /v1/sessions` answered 200).
    pub sessions_sent: u64,
    /// Session root spans whose final state reached the server, in the create call or in the
    /// update that follows it.
    pub sessions_completed: u64,
    /// Events the server accepted.
    pub events_sent: u64,
    /// Updates of a session's final state the server accepted (`PUT /v1/events/{session_id}`).
    pub session_updates_sent: u64,
    /// Requests sent again after a transport error, a timeout, 408, 429 or 5xx.
    pub requests_retried: u64,
    /// Spans lost before delivery, by reason.
    pub dropped: Dropped,
    /// Events the server refused (a 4xx for that event alone), each reported.
    pub events_rejected: u64,
    /// Events given up on: retries exhausted, another error, or their session could not be
    /// created.
    pub events_failed: u64,
    /// Session root spans whose session could not be created or completed.
    pub sessions_failed: u64,
    /// Values cut to fit the size policy: text longer than the field limit, structures nested
    /// deeper than the depth limit, child-id lists longer than their limit, events trimmed to the
    /// event limit.
    pub fields_truncated: u64,
    /// OpenTelemetry spans exported again (the same trace and span id) after they had been
    /// handed over: not queued a second time, so that they are not sent twice.
    pub spans_repeated: u64,
}

/// Spans lost before delivery, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Dropped {
    /// The exporter already held as many spans as it may (the server was slow or down, or spans
    /// closed faster than they could be sent) when the span closed, or had and was not yet
    /// drained to three quarters when the span's trace started (the whole trace is then turned
    /// away: [`with_queue_capacity`](crate::layer::Builder::with_queue_capacity)); never queued.
    pub queue_full: u64,
    /// The spans the exporter held already took as many bytes as it may hold
    /// ([`with_queue_bytes`](crate::layer::Builder::with_queue_bytes)) when the span closed (or
    /// had, and were not yet drained to three quarters when its trace started), or the span
    /// alone is larger; never queued.
    pub queue_bytes: u64,
    /// Queued, and still undelivered when the shutdown deadline passed.
    pub shutdown: u64,
    /// Closed after the exporter had shut down; never queued.
    pub after_shutdown: u64,
    /// Queued, and not sent because HoneyHive refused the API key (401 or 403): the exporter
    /// stops sending until a probe succeeds or the key is replaced.
    pub unauthorized: u64,
    /// Queued, and not sent because the application's redaction hook dropped it (or the session
    /// it belongs to).
    pub redacted: u64,
}

impl Dropped {
    /// Every span dropped, for any reason.
    pub fn total(&self) -> u64 {
        self.queue_full
            + self.queue_bytes
            + self.shutdown
            + self.after_shutdown
            + self.unauthorized
            + self.redacted
    }
}

impl Stats {
    /// Spans that closed while the layer was enabled: queued, or dropped before the queue.
    pub fn produced(&self) -> u64 {
        self.spans_queued
            + self.dropped.queue_full
            + self.dropped.queue_bytes
            + self.dropped.after_shutdown
    }

    /// Spans that reached the server: events sent and sessions completed.
    pub fn delivered(&self) -> u64 {
        self.events_sent + self.sessions_completed
    }

    /// Events the server refused.
    pub fn refused(&self) -> u64 {
        self.events_rejected
    }

    /// Spans given up on: events and sessions that failed.
    pub fn failed(&self) -> u64 {
        self.events_failed + self.sessions_failed
    }

    /// Spans queued and not yet settled: waiting, or in flight. Zero once the exporter is shut
    /// down.
    pub fn pending(&self) -> u64 {
        let settled = self.delivered()
            + self.refused()
            + self.failed()
            + self.dropped.shutdown
            + self.dropped.unauthorized
            + self.dropped.redacted;
        // Counters are read one by one while the exporter runs: a span may be seen settled before
        // it is seen queued.
        self.spans_queued.saturating_sub(settled)
    }

    /// Spans lost for any reason: dropped, refused or failed.
    pub fn lost(&self) -> u64 {
        self.dropped.total() + self.refused() + self.failed()
    }
}

/// What became of spans of one kind (session roots, or events) during a flush or a shutdown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outcomes {
    /// Reached the server.
    pub delivered: u64,
    /// Refused by the server, given up on, or dropped because the API key was refused.
    pub failed: u64,
    /// Still queued or in flight when the call returned: for a shutdown, dropped
    /// ([`Dropped::shutdown`]).
    pub undelivered: u64,
    /// Dropped by the redaction hook ([`Dropped::redacted`]).
    pub redacted: u64,
}

/// What [`flush`](crate::Guard::flush) or [`shutdown`](crate::Guard::shutdown) achieved for the
/// spans queued before it was called.
///
/// `delivered`, `failed` and `undelivered` are the sums of [`sessions`](Self::sessions) (the
/// session root spans) and [`events`](Self::events) (every other span).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// Of those spans, how many reached the server during the call.
    pub delivered: u64,
    /// How many the server refused, were given up on, or were dropped because the API key was
    /// refused, during the call.
    pub failed: u64,
    /// How many were still queued or in flight when the call returned. For a shutdown, every
    /// span still held when the exporter stopped (queued before the call or during it): each is
    /// counted in [`Dropped::shutdown`].
    pub undelivered: u64,
    /// How many the redaction hook dropped ([`Dropped::redacted`]).
    pub redacted: u64,
    /// The same, for session root spans.
    pub sessions: Outcomes,
    /// The same, for events.
    pub events: Outcomes,
    /// The counters when the call returned.
    pub stats: Stats,
}

impl Report {
    /// Whether every span queued before the call was settled: delivered, or refused for good.
    pub fn is_complete(&self) -> bool {
        self.undelivered == 0
    }

    /// A report from the split counts, with the sums filled in.
    pub(crate) fn from_outcomes(sessions: Outcomes, events: Outcomes, stats: Stats) -> Report {
        Report {
            delivered: sessions.delivered + events.delivered,
            failed: sessions.failed + events.failed,
            undelivered: sessions.undelivered + events.undelivered,
            redacted: sessions.redacted + events.redacted,
            sessions,
            events,
            stats,
        }
    }

    /// What can be said when the exporter did not answer in time: what is pending now.
    pub(crate) fn estimate(stats: Stats) -> Report {
        Report {
            undelivered: stats.pending(),
            stats,
            ..Report::default()
        }
    }
}

/// Why a [`flush`](crate::Guard::flush) did not complete.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum FlushError {
    /// The deadline passed with spans still undelivered; delivery goes on in the background.
    #[error("flush timed out after {timeout:?} with {} span(s) undelivered", report.undelivered)]
    Timeout {
        /// The deadline that passed.
        timeout: Duration,
        /// What was achieved by then.
        report: Box<Report>,
    },
    /// The exporter was shut down; nothing more is sent.
    #[error("the HoneyHive exporter is shut down")]
    ShutDown,
}

/// The live counters behind [`Stats`]; relaxed atomics, never a lock.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) spans_queued: AtomicU64,
    pub(crate) sessions_sent: AtomicU64,
    pub(crate) sessions_completed: AtomicU64,
    pub(crate) events_sent: AtomicU64,
    pub(crate) session_updates_sent: AtomicU64,
    pub(crate) requests_retried: AtomicU64,
    pub(crate) dropped_queue_full: AtomicU64,
    pub(crate) dropped_queue_bytes: AtomicU64,
    pub(crate) dropped_shutdown: AtomicU64,
    pub(crate) dropped_after_shutdown: AtomicU64,
    pub(crate) dropped_unauthorized: AtomicU64,
    pub(crate) dropped_redacted: AtomicU64,
    pub(crate) events_rejected: AtomicU64,
    pub(crate) events_failed: AtomicU64,
    pub(crate) sessions_failed: AtomicU64,
    pub(crate) fields_truncated: AtomicU64,
    pub(crate) spans_repeated: AtomicU64,
}

/// Adds `n` to a counter.
pub(crate) fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl Counters {
    pub(crate) fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            spans_queued: get(&self.spans_queued),
            sessions_sent: get(&self.sessions_sent),
            sessions_completed: get(&self.sessions_completed),
            events_sent: get(&self.events_sent),
            session_updates_sent: get(&self.session_updates_sent),
            requests_retried: get(&self.requests_retried),
            dropped: Dropped {
                queue_full: get(&self.dropped_queue_full),
                queue_bytes: get(&self.dropped_queue_bytes),
                shutdown: get(&self.dropped_shutdown),
                after_shutdown: get(&self.dropped_after_shutdown),
                unauthorized: get(&self.dropped_unauthorized),
                redacted: get(&self.dropped_redacted),
            },
            events_rejected: get(&self.events_rejected),
            events_failed: get(&self.events_failed),
            sessions_failed: get(&self.sessions_failed),
            fields_truncated: get(&self.fields_truncated),
            spans_repeated: get(&self.spans_repeated),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_is_what_was_queued_and_not_yet_settled() {
        let stats = Stats {
            spans_queued: 20,
            events_sent: 9,
            sessions_completed: 2,
            events_rejected: 1,
            events_failed: 1,
            sessions_failed: 1,
            dropped: Dropped {
                queue_full: 50,
                unauthorized: 2,
                ..Dropped::default()
            },
            ..Stats::default()
        };
        assert_eq!(stats.pending(), 4);
        assert_eq!(stats.lost(), 55);
        assert_eq!(stats.produced(), 70);
        let stopped = Stats {
            dropped: Dropped {
                queue_full: 50,
                queue_bytes: 5,
                shutdown: 4,
                after_shutdown: 3,
                unauthorized: 2,
                redacted: 0,
            },
            ..stats
        };
        assert_eq!(stopped.pending(), 0);
        assert_eq!(stopped.produced(), 78);
        assert_eq!(
            stopped.produced(),
            stopped.delivered() + stopped.refused() + stopped.failed() + stopped.dropped.total()
        );
    }

    #[test]
    fn a_report_sums_sessions_and_events() {
        let sessions = Outcomes {
            delivered: 1,
            failed: 2,
            undelivered: 3,
            redacted: 4,
        };
        let events = Outcomes {
            delivered: 10,
            failed: 20,
            undelivered: 30,
            redacted: 40,
        };
        let report = Report::from_outcomes(sessions, events, Stats::default());
        assert_eq!(
            (
                report.delivered,
                report.failed,
                report.undelivered,
                report.redacted
            ),
            (11, 22, 33, 44)
        );
        assert!(!report.is_complete());
    }
}
