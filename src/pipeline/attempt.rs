//! One call to HoneyHive, as every request of a job makes it: it first passes the [`Gate`] (a
//! server's pause, a refused key), is retried with backoff while the answer says it may
//! succeed later, and tells apart a key HoneyHive refuses — `401` and `403`, and `404` to a call
//! that cannot be missing anything else — from every other failure.

use std::future::Future;
use std::time::Instant;

use super::gate::Admit;
use super::job::Outcome;
use super::retry::{self, Class};
use super::sender::Sender;
use super::stats::add;
use crate::error::Error;

/// Which answers of a call refuse the API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusals {
    /// `401` and `403`: a batch or an update answered `404` names a session the server does not
    /// have (it is created again, and a create answered `404` is the key's refusal).
    Auth,
    /// `401`, `403` and `404`: HoneyHive answers an invalid, revoked or expired key, or one
    /// without the permission, with `404` and does not say which case applies (its CLI's
    /// changelog, 1.7.0). A session create has no other reason to be answered `404`.
    AuthOrNotFound,
}

impl Refusals {
    pub(super) fn refuse(self, status: Option<u16>) -> bool {
        matches!(
            (self, status),
            (_, Some(401 | 403)) | (Refusals::AuthOrNotFound, Some(404))
        )
    }
}

/// Why a call did not succeed.
#[derive(Debug)]
pub(super) enum Failure {
    /// The server refuses the API key: nothing is sent until a probe is accepted.
    KeyRefused,
    Error(Error),
}

impl Failure {
    pub(super) fn outcome(&self) -> Outcome {
        match self {
            Failure::KeyRefused => Outcome::Unauthorized,
            Failure::Error(_) => Outcome::Failed,
        }
    }

    pub(super) fn status(&self) -> Option<u16> {
        match self {
            Failure::KeyRefused => None,
            Failure::Error(error) => error.status(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::KeyRefused => f.write_str("HoneyHive refuses the API key"),
            Failure::Error(error) => error.fmt(f),
        }
    }
}

impl Sender {
    /// Calls `call` until it succeeds, fails for good, or the retry budget is spent; each
    /// attempt first passes the gate, and an answer in `refusals` stops every job.
    pub(super) async fn with_retry<T, F, Fut>(
        &self,
        refusals: Refusals,
        mut call: F,
    ) -> Result<T, Failure>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            let probe = match self.gate.wait_and_admit().await {
                Admit::Refused => return Err(Failure::KeyRefused),
                Admit::Probe => true,
                Admit::Send => false,
            };
            let result = {
                // The semaphore is never closed; without a permit the request still goes.
                let _permit = self.requests.acquire().await.ok();
                call().await
            };
            if probe && matches!(&result, Err(e) if !refusals.refuse(e.status())) {
                self.gate.end_probe(Instant::now());
            }
            let error = match result {
                Ok(value) => {
                    if self.gate.accepted() {
                        self.diagnostics.info("key-accepted", || {
                            "HoneyHive accepts the API key again: sending resumed".to_owned()
                        });
                    }
                    return Ok(value);
                }
                Err(error) => error,
            };
            if let Some(status) = error.status().filter(|&s| refusals.refuse(Some(s))) {
                self.key_refused(status, &error);
                return Err(Failure::KeyRefused);
            }
            attempt = attempt.saturating_add(1);
            let class = retry::classify(&error);
            if let (Class::Throttled(asked), Some(429 | 503)) = (class, error.status()) {
                // The host asked every client to wait, not only this request.
                self.gate.pause(Instant::now() + asked);
            }
            let wait = self
                .retry
                .next(class, attempt, started.elapsed(), fastrand::f64());
            let Some(wait) = wait else {
                return Err(Failure::Error(error));
            };
            add(&self.shared.counters.requests_retried, 1);
            tracing::debug!(
                target: "tracing_honeyhive",
                "retrying in {wait:?} (attempt {attempt}): {error}"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// A success status whose body is not the documented JSON: taken as accepted, and said.
    pub(super) fn unexpected_body(&self, error: &Error) {
        self.diagnostics.warn("unexpected-body", || {
            format!("HoneyHive accepted the request but its answer was unexpected: {error}")
        });
    }

    /// Says once that the key is refused, with where the key came from (never the key).
    fn key_refused(&self, status: u16, error: &Error) {
        if !self.gate.refuse(Instant::now()) {
            return;
        }
        let source = self.client.key_source();
        let interval = self.gate.probe_interval();
        let why = if status == 404 {
            " (HoneyHive answers 404 to a key that is invalid, revoked or expired, or that lacks \
             the permission, and does not say which)"
        } else {
            ""
        };
        self.diagnostics.warn("key-refused", || {
            format!(
                "HoneyHive refused the API key ({source}) with {status}{why}: {error}. Nothing \
                 more is sent: spans are dropped and counted (dropped.unauthorized) until a \
                 request, tried every {interval:?}, is accepted, or the key is replaced with \
                 Handle::set_api_key"
            )
        });
    }
}
