//! The gate every request to HoneyHive passes, shared by all of the exporter's jobs:
//!
//! - a wait the server asked for (`429` or `503` with `Retry-After`) pauses every request to the
//!   host until it ends, not only the request that was answered;
//! - a refused API key (`401` or `403`) stops sending altogether: jobs drop their spans without a
//!   request (counted as [`Dropped::unauthorized`](crate::Dropped::unauthorized)) until a probe —
//!   the first request let through once the probe interval has passed — is accepted, or the
//!   application replaces the key.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Whether a request may go now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Send it.
    Send,
    /// The key was refused; this request is the probe that tells whether it is accepted again.
    Probe,
    /// The key was refused: do not send.
    Refused,
}

#[derive(Debug)]
pub(crate) struct Gate {
    probe_interval: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    paused_until: Option<Instant>,
    refused: Option<Refusal>,
}

#[derive(Debug)]
struct Refusal {
    next_probe: Instant,
}

impl Gate {
    pub(crate) fn new(probe_interval: Duration) -> Self {
        Gate {
            probe_interval,
            state: Mutex::default(),
        }
    }

    /// How often a refused key is tried again.
    pub(crate) fn probe_interval(&self) -> Duration {
        self.probe_interval
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// When the current pause ends, if one is in force at `now`.
    pub(crate) fn paused_until(&self, now: Instant) -> Option<Instant> {
        self.lock().paused_until.filter(|&until| until > now)
    }

    /// Whether a request may go at `now` (after any pause is over).
    pub(crate) fn admit(&self, now: Instant) -> Admit {
        let mut state = self.lock();
        match &mut state.refused {
            None => Admit::Send,
            Some(refusal) if now >= refusal.next_probe => {
                // Only one probe at a time: the others wait for the next interval.
                refusal.next_probe = now + self.probe_interval;
                Admit::Probe
            }
            Some(_) => Admit::Refused,
        }
    }

    /// Waits out any pause, then says whether the request may go.
    pub(crate) async fn wait_and_admit(&self) -> Admit {
        while let Some(until) = self.paused_until(Instant::now()) {
            tokio::time::sleep_until(until.into()).await;
        }
        self.admit(Instant::now())
    }

    /// Pauses every request until `until` (a later pause already in force stands).
    pub(crate) fn pause(&self, until: Instant) {
        let mut state = self.lock();
        if state.paused_until.is_none_or(|current| current < until) {
            state.paused_until = Some(until);
        }
    }

    /// The server refused the key at `now`; `true` when it was accepted until then, so that the
    /// refusal is reported once.
    pub(crate) fn refuse(&self, now: Instant) -> bool {
        let mut state = self.lock();
        let first = state.refused.is_none();
        if first {
            state.refused = Some(Refusal {
                next_probe: now + self.probe_interval,
            });
        }
        first
    }

    /// A request was accepted; `true` when the key had been refused until then.
    pub(crate) fn accepted(&self) -> bool {
        self.lock().refused.take().is_some()
    }

    /// The key was replaced: whatever was refused is forgotten.
    pub(crate) fn reset(&self) {
        self.lock().refused = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_key_lets_one_probe_through_per_interval() {
        let gate = Gate::new(Duration::from_secs(10));
        let t0 = Instant::now();
        assert_eq!(gate.admit(t0), Admit::Send);
        assert!(gate.refuse(t0), "the first refusal is new");
        assert!(!gate.refuse(t0), "a second one is not");
        assert_eq!(gate.admit(t0 + Duration::from_secs(9)), Admit::Refused);
        let t10 = t0 + Duration::from_secs(10);
        assert_eq!(gate.admit(t10), Admit::Probe);
        assert_eq!(gate.admit(t10), Admit::Refused, "one probe at a time");
        assert_eq!(gate.admit(t10 + Duration::from_secs(10)), Admit::Probe);
        assert!(gate.accepted(), "the probe was accepted: sending resumes");
        assert_eq!(gate.admit(t10), Admit::Send);
        assert!(!gate.accepted());
    }

    #[test]
    fn replacing_the_key_forgets_the_refusal() {
        let gate = Gate::new(Duration::from_secs(3600));
        let now = Instant::now();
        gate.refuse(now);
        gate.reset();
        assert_eq!(gate.admit(now), Admit::Send);
    }

    #[test]
    fn a_pause_applies_until_its_end_and_the_longest_one_stands() {
        let gate = Gate::new(Duration::from_secs(1));
        let now = Instant::now();
        assert_eq!(gate.paused_until(now), None);
        gate.pause(now + Duration::from_secs(2));
        gate.pause(now + Duration::from_secs(1));
        assert_eq!(
            gate.paused_until(now),
            Some(now + Duration::from_secs(2)),
            "a shorter pause does not cut a longer one"
        );
        assert_eq!(gate.paused_until(now + Duration::from_secs(2)), None);
    }
}
