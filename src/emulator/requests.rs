//! What the server received: each request as it arrived and how it was answered, the sessions
//! that look finished, and waiting until what a test expects has arrived.

use std::time::{Duration, Instant};

use super::{Emulator, json};

/// One request as the server received it, and how it answered.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// `GET`, `POST`, `PUT`, …
    pub method: String,
    /// The path, with the query if any.
    pub path: String,
    /// Every header, names in lowercase, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body, as text (invalid UTF-8 replaced).
    pub body: String,
    /// The status answered, or `None` when the connection was dropped by a fault.
    pub status: Option<u16>,
    /// When the request arrived: its head was read, before any [latency](Emulator::set_latency)
    /// and before its body was read. It tells when a client sent each request, such as that
    /// none came within two seconds of a `429` with `Retry-After: 2`.
    pub received_at: Instant,
}

impl RecordedRequest {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, if it is JSON nested at most [`MAX_JSON_DEPTH`](crate::emulator::MAX_JSON_DEPTH) levels. A body
    /// nested deeper than 128 levels is parsed on a thread with a large stack; see
    /// [Deeply nested JSON](crate::emulator#deeply-nested-json) for handling the result.
    pub fn json(&self) -> Option<serde_json::Value> {
        let parse = || json::parse(self.body.as_bytes()).ok();
        if json::depth(self.body.as_bytes()) <= json::SHALLOW_DEPTH {
            parse()
        } else {
            json::on_large_stack(parse)
        }
    }
}

/// A session that looks finished; see [`Emulator::settled_sessions`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SettledSession {
    /// The session's id.
    pub session_id: String,
    /// When a request last created, added to or updated it.
    pub last_request: Instant,
}

impl Emulator {
    /// Every request received, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// The bodies of every request received, one after the other: to check that something (a
    /// secret, hidden content) never left the client.
    pub fn received_bodies(&self) -> String {
        self.shared
            .lock()
            .requests
            .iter()
            .map(|r| r.body.as_str())
            .collect()
    }

    /// The sessions that look finished, in creation order: each has an end time or a duration,
    /// and no request created, added to or updated it for at least `quiet`.
    ///
    /// A HoneyHive client ends a session either in its create request (`end_time` set, events
    /// following in a batch right after) or with a final `PUT /v1/events/{session_id}` carrying
    /// `end_time`; the quiet period lets the requests that follow arrive. A session touched
    /// again later reappears with a later [`SettledSession::last_request`].
    pub fn settled_sessions(&self, quiet: Duration) -> Vec<SettledSession> {
        let state = self.shared.lock();
        let now = Instant::now();
        state
            .store
            .all()
            .iter()
            .filter(|e| e.event_type.as_deref() == Some("session"))
            .filter(|e| e.end_time.is_some() || e.duration.is_some())
            .filter_map(|e| {
                let session_id = e.session_id.clone()?;
                let last_request = state.store.touched(&session_id)?;
                (now.saturating_duration_since(last_request) >= quiet).then_some(SettledSession {
                    session_id,
                    last_request,
                })
            })
            .collect()
    }

    /// Waits until `done` holds, re-checking after each request; `false` on timeout.
    pub fn wait_until(&self, timeout: Duration, mut done: impl FnMut(&Emulator) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = self.shared.lock().requests.len();
            if done(self) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            let state = self.shared.lock();
            let _ = self
                .shared
                .changed
                .wait_timeout_while(state, left, |s| s.requests.len() == seen);
        }
    }
}
