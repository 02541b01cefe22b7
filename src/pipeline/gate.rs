//! The gate every request to HoneyHive passes, shared by all of the exporter's jobs:
//!
//! - a wait the server asked for (`429` or `503` with `Retry-After`) pauses every request to the
//!   host until it ends, not only the request that was answered;
//! - a refused API key (`401` or `403`, or `404` to a session create, as HoneyHive answers a key
//!   it refuses today) stops sending altogether: jobs drop their spans without a
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
    /// Its answer must be given to the gate: [`Gate::accepted`], [`Gate::refuse`] or
    /// [`Gate::end_probe`].
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
    /// A probe is in flight: other requests wait for its answer rather than being dropped.
    probing: bool,
}

/// How often a request waiting for a probe's answer looks again.
const PROBE_WAIT: Duration = Duration::from_millis(10);

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

    /// Whether a request may go at `now` (after any pause is over); `None` while a probe is in
    /// flight.
    pub(crate) fn admit(&self, now: Instant) -> Option<Admit> {
        let mut state = self.lock();
        match &mut state.refused {
            None => Some(Admit::Send),
            Some(refusal) if refusal.probing => None,
            Some(refusal) if now >= refusal.next_probe => {
                refusal.probing = true;
                refusal.next_probe = now + self.probe_interval;
                Some(Admit::Probe)
            }
            Some(_) => Some(Admit::Refused),
        }
    }

    /// Waits out any pause and any probe in flight, then says whether the request may go.
    pub(crate) async fn wait_and_admit(&self) -> Admit {
        loop {
            if let Some(until) = self.paused_until(Instant::now()) {
                tokio::time::sleep_until(until.into()).await;
                continue;
            }
            match self.admit(Instant::now()) {
                Some(admit) => return admit,
                None => tokio::time::sleep(PROBE_WAIT).await,
            }
        }
    }

    /// A probe got an answer that says nothing of the key (a 5xx, a timeout): the next request
    /// probes again.
    pub(crate) fn end_probe(&self, now: Instant) {
        if let Some(refusal) = &mut self.lock().refused
            && refusal.probing
        {
            refusal.probing = false;
            refusal.next_probe = now;
        }
    }

    /// Pauses every request until `until` (a later pause already in force stands).
    pub(crate) fn pause(&self, until: Instant) {
        let mut state = self.lock();
        if state.paused_until.is_none_or(|current| current < until) {
            state.paused_until = Some(until);
        }
    }

    /// The server refused the key at `now` (a probe's answer included); `true` when it was
    /// accepted until then, so that the refusal is reported once.
    pub(crate) fn refuse(&self, now: Instant) -> bool {
        let mut state = self.lock();
        match &mut state.refused {
            Some(refusal) => {
                refusal.probing = false;
                false
            }
            None => {
                state.refused = Some(Refusal {
                    next_probe: now + self.probe_interval,
                    probing: false,
                });
                true
            }
        }
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
        assert_eq!(gate.admit(t0), Some(Admit::Send));
        assert!(gate.refuse(t0), "the first refusal is new");
        assert!(!gate.refuse(t0), "a second one is not");
        assert_eq!(
            gate.admit(t0 + Duration::from_secs(9)),
            Some(Admit::Refused)
        );
        let t10 = t0 + Duration::from_secs(10);
        assert_eq!(gate.admit(t10), Some(Admit::Probe));
        assert_eq!(gate.admit(t10), None, "the others wait for the probe");
        assert!(!gate.refuse(t10), "the probe is refused: no second report");
        assert_eq!(
            gate.admit(t10),
            Some(Admit::Refused),
            "until the next interval"
        );
        let t20 = t10 + Duration::from_secs(10);
        assert_eq!(gate.admit(t20), Some(Admit::Probe));
        gate.end_probe(t20);
        assert_eq!(
            gate.admit(t20),
            Some(Admit::Probe),
            "an answer that says nothing of the key: probe again"
        );
        assert!(gate.accepted(), "the probe was accepted: sending resumes");
        assert_eq!(gate.admit(t20), Some(Admit::Send));
        assert!(!gate.accepted());
    }

    #[test]
    fn replacing_the_key_forgets_the_refusal() {
        let gate = Gate::new(Duration::from_secs(3600));
        let now = Instant::now();
        gate.refuse(now);
        gate.reset();
        assert_eq!(gate.admit(now), Some(Admit::Send));
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
