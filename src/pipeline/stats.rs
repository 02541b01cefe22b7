//! Counters of the pipeline and what `flush` and `shutdown` report.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What the pipeline has done since it started. Every span queued ends as exactly one of:
/// an event sent, a session completed, an event rejected or failed, a session failed, or dropped
/// at shutdown.
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
    /// Events the server refused (a 4xx for that event alone), each reported once.
    pub events_rejected: u64,
    /// Events given up on: retries exhausted, another error, or their session could not be
    /// created.
    pub events_failed: u64,
    /// Session root spans whose session could not be created or completed.
    pub sessions_failed: u64,
    /// Field values cut to the configured size.
    pub fields_truncated: u64,
}

/// Spans lost before delivery.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Dropped {
    /// The queue was full when the span closed (the exporter was behind, or the server slow or
    /// down).
    pub queue_full: u64,
    /// Still undelivered when the shutdown deadline passed, or closed after shutdown.
    pub shutdown: u64,
}

impl Stats {
    /// Spans queued and not yet settled: waiting, or in flight. Zero once the exporter is shut
    /// down.
    pub fn pending(&self) -> u64 {
        let settled = self.events_sent
            + self.sessions_completed
            + self.events_rejected
            + self.events_failed
            + self.sessions_failed;
        // Spans dropped at shutdown were mostly queued (a few closed after it and were not), so the
        // subtraction saturates; spans dropped because the queue was full were never queued.
        self.spans_queued
            .saturating_sub(settled + self.dropped.shutdown)
    }

    /// Spans lost for any reason: dropped, rejected or failed.
    pub fn lost(&self) -> u64 {
        self.dropped.queue_full
            + self.dropped.shutdown
            + self.events_rejected
            + self.events_failed
            + self.sessions_failed
    }
}

/// What [`flush`](crate::Guard::flush) or [`shutdown`](crate::Guard::shutdown) achieved for the
/// spans queued before it was called.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// Of those spans, how many reached the server during the call.
    pub delivered: u64,
    /// How many the server refused or were given up on during the call.
    pub failed: u64,
    /// How many were still queued or in flight when the call returned: for a shutdown, lost.
    pub undelivered: u64,
    /// The counters when the call returned.
    pub stats: Stats,
}

impl Report {
    /// Whether every span queued before the call was settled: delivered, or refused for good.
    pub fn is_complete(&self) -> bool {
        self.undelivered == 0
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
    pub(crate) dropped_shutdown: AtomicU64,
    pub(crate) events_rejected: AtomicU64,
    pub(crate) events_failed: AtomicU64,
    pub(crate) sessions_failed: AtomicU64,
    pub(crate) fields_truncated: AtomicU64,
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
                shutdown: get(&self.dropped_shutdown),
            },
            events_rejected: get(&self.events_rejected),
            events_failed: get(&self.events_failed),
            sessions_failed: get(&self.sessions_failed),
            fields_truncated: get(&self.fields_truncated),
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
                shutdown: 0,
            },
            ..Stats::default()
        };
        assert_eq!(stats.pending(), 6);
        assert_eq!(stats.lost(), 53);
        let stopped = Stats {
            dropped: Dropped {
                queue_full: 50,
                shutdown: 8,
            },
            ..stats
        };
        assert_eq!(stopped.pending(), 0);
    }
}
