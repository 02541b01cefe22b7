//! Runs one session's job against the API, in order: the session's create, its events in
//! batches, its final update. Retries with backoff; a batch answered 404 re-creates the session;
//! a batch answered 400 or 413 is split until the events the server refuses stand alone, so the
//! valid ones still land.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use uuid::Uuid;

use super::diagnostics::Diagnostics;
use super::retry::{self, RetryPolicy};
use super::stats::{Counters, add};
use crate::client::Client;
use crate::error::Error;
use crate::wire::{CreateSession, Event, UpdateEvent};

/// What became of one span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Delivered,
    /// The server refused it (a 4xx for it alone).
    Rejected,
    /// Given up on: retries exhausted, or its session could not be created.
    Failed,
}

/// The outcomes of a job's spans, recorded as they happen: a job stopped at the shutdown deadline
/// still accounts for what it finished, and only the rest counts as dropped.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ledger(Arc<Mutex<Vec<(u64, Outcome)>>>);

impl Ledger {
    fn record(&self, seqs: &[u64], outcome: Outcome) {
        let mut entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        entries.extend(seqs.iter().map(|&seq| (seq, outcome)));
    }

    /// The outcomes recorded since the last call.
    pub(crate) fn take(&self) -> Vec<(u64, Outcome)> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// One session's work, taken from its state by the worker.
#[derive(Debug, Default)]
pub(crate) struct Job {
    pub(crate) session_id: Uuid,
    /// The session's create, when it was not created yet.
    pub(crate) create: Option<CreateSession>,
    /// The root span whose final state the create carries (a session sent complete).
    pub(crate) completes: Option<u64>,
    /// Events, with the sequence number of their span.
    pub(crate) seqs: Vec<u64>,
    pub(crate) events: Vec<Event>,
    pub(crate) batch_size: usize,
    /// The session's final state as an update.
    pub(crate) update: Option<UpdateEvent>,
    /// Send the update even after a complete create (it carries metrics or feedback).
    pub(crate) update_after_create: bool,
    /// The root span the update completes, for a session created earlier.
    pub(crate) update_completes: Option<u64>,
    /// The update ends a session joined by id: its duration runs from the session's start as
    /// the server reports it.
    pub(crate) joined: bool,
    /// The smallest create, to (re)create the session after a refused create or a 404.
    pub(crate) recreate: CreateSession,
    /// The session's start as known so far, in Unix milliseconds.
    pub(crate) start_ms: Option<f64>,
    /// Where the job records what became of each span.
    pub(crate) ledger: Ledger,
}

impl Job {
    /// Every span the job settles.
    pub(crate) fn spans(&self) -> Vec<u64> {
        let roots = self.completes.iter().chain(&self.update_completes);
        self.seqs.iter().chain(roots).copied().collect()
    }
}

/// What a job did.
#[derive(Debug, Default)]
pub(crate) struct Done {
    pub(crate) session_id: Uuid,
    /// The session exists on the server.
    pub(crate) created: bool,
    /// The session's start as the server reported it.
    pub(crate) start_ms: Option<f64>,
}

/// Sends jobs; cheap to clone into each job's task.
#[derive(Debug, Clone)]
pub(crate) struct Sender {
    pub(crate) client: Client,
    pub(crate) retry: RetryPolicy,
    pub(crate) counters: Arc<Counters>,
    pub(crate) diagnostics: Arc<Diagnostics>,
}

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl Sender {
    pub(crate) async fn run(&self, mut job: Job) -> Done {
        let mut done = Done {
            session_id: job.session_id,
            created: job.create.is_none(),
            start_ms: job.start_ms,
        };
        let ledger = job.ledger.clone();
        let mut update_needed = job.update_completes.is_some() || job.joined;
        if let Some(create) = job.create.take() {
            match self.create(&create, &job.recreate).await {
                Ok(record) => {
                    done.created = true;
                    done.start_ms = record.start_time.or(done.start_ms);
                    // A complete create that found the session already there changed only its
                    // metadata: the final state must follow as an update.
                    let existed = record.end_time != create.end_time.map(|t| t as f64);
                    update_needed |=
                        job.update_after_create || (job.completes.is_some() && existed);
                }
                Err(error) => {
                    self.diagnostics.warn("session-failed", || {
                        format!(
                            "could not create HoneyHive session {}; its {} event(s) are lost: {error}",
                            job.session_id,
                            job.events.len()
                        )
                    });
                    add(&self.counters.events_failed, job.seqs.len() as u64);
                    ledger.record(&job.seqs, Outcome::Failed);
                    if let Some(root) = job.completes.or(job.update_completes) {
                        add(&self.counters.sessions_failed, 1);
                        ledger.record(&[root], Outcome::Failed);
                    }
                    return done;
                }
            }
        }
        let batch_size = job.batch_size.max(1);
        let mut start = 0;
        while start < job.events.len() {
            let end = (start + batch_size).min(job.events.len());
            let (seqs, events) = (&job.seqs[start..end], &job.events[start..end]);
            self.deliver(&job, seqs, events, &ledger).await;
            start = end;
        }
        let root = job.completes.or(job.update_completes);
        let update_ok = match job.update.take().filter(|_| update_needed) {
            Some(mut update) => {
                if job.joined
                    && let Some(end) = update.end_time
                {
                    let start = done.start_ms.unwrap_or(end as f64);
                    update.duration = Some((end as f64 - start).max(0.0));
                }
                self.update(&job, &update).await
            }
            None => true,
        };
        if let Some(root) = root {
            let outcome = if update_ok {
                add(&self.counters.sessions_completed, 1);
                Outcome::Delivered
            } else {
                add(&self.counters.sessions_failed, 1);
                Outcome::Failed
            };
            ledger.record(&[root], outcome);
        }
        done
    }

    /// Calls `call` until it succeeds, fails for good, or the retry budget is spent.
    async fn with_retry<T, F, Fut>(&self, mut call: F) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            let error = match call().await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            attempt = attempt.saturating_add(1);
            let class = retry::classify(&error);
            let wait = self
                .retry
                .next(class, attempt, started.elapsed(), fastrand::f64());
            let Some(wait) = wait else {
                return Err(error);
            };
            add(&self.counters.requests_retried, 1);
            tracing::debug!(
                target: "tracing_honeyhive",
                "retrying in {wait:?} (attempt {attempt}): {error}"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// Creates the session; a create the server refuses with a 4xx is sent again in its
    /// smallest form (id, name, source, start), so the session's events can still land.
    async fn create(
        &self,
        create: &CreateSession,
        recreate: &CreateSession,
    ) -> Result<crate::wire::EventRecord, Error> {
        let result = self.with_retry(|| self.client.create_session(create)).await;
        let result = match result {
            Err(error) if error.status().is_some_and(|s| (400..500).contains(&s)) => {
                if create == recreate || matches!(error.status(), Some(401 | 403)) {
                    return Err(error);
                }
                self.diagnostics.warn("session-refused", || {
                    format!(
                        "HoneyHive refused session {}; sending it without its inputs, outputs and \
                         metadata: {error}",
                        create.session_id.unwrap_or_default()
                    )
                });
                self.with_retry(|| self.client.create_session(recreate))
                    .await
            }
            other => other,
        };
        let created = result?;
        add(&self.counters.sessions_sent, 1);
        Ok(created.record)
    }

    /// Sends one batch; on a 404 re-creates the session and sends it again; on a 400, 413 or 422
    /// splits it in halves until each refused event stands alone.
    fn deliver<'a>(
        &'a self,
        job: &'a Job,
        seqs: &'a [u64],
        events: &'a [Event],
        ledger: &'a Ledger,
    ) -> Boxed<'a, ()> {
        Box::pin(async move {
            let send = || {
                self.client
                    .create_session_event_batch(job.session_id, events)
            };
            let mut result = self.with_retry(send).await;
            if result.as_ref().err().and_then(Error::status) == Some(404) {
                // The server does not know the session (it expired, or the server restarted):
                // creating it again is idempotent.
                result = match self.create(&job.recreate, &job.recreate).await {
                    Ok(_) => self.with_retry(send).await,
                    Err(error) => Err(error),
                };
            }
            let error = match result {
                Ok(()) => {
                    add(&self.counters.events_sent, events.len() as u64);
                    ledger.record(seqs, Outcome::Delivered);
                    return;
                }
                Err(error) => error,
            };
            let splittable = matches!(error.status(), Some(400 | 413 | 422));
            if splittable && events.len() > 1 {
                let mid = events.len() / 2;
                self.deliver(job, &seqs[..mid], &events[..mid], ledger)
                    .await;
                self.deliver(job, &seqs[mid..], &events[mid..], ledger)
                    .await;
                return;
            }
            if splittable {
                add(&self.counters.events_rejected, 1);
                ledger.record(&seqs[..1], Outcome::Rejected);
                let name = events[0].event_name.as_deref().unwrap_or("?");
                self.diagnostics.warn("event-rejected", || {
                    format!(
                        "HoneyHive refused event `{name}` of session {}: {error}",
                        job.session_id
                    )
                });
                return;
            }
            add(&self.counters.events_failed, events.len() as u64);
            ledger.record(seqs, Outcome::Failed);
            self.diagnostics.warn("batch-failed", || {
                format!(
                    "gave up sending {} event(s) of session {}: {error}",
                    events.len(),
                    job.session_id
                )
            });
        })
    }

    /// Writes the session's final state; a 404 re-creates the session first.
    async fn update(&self, job: &Job, update: &UpdateEvent) -> bool {
        let send = || self.client.update_event(job.session_id, update);
        let mut result = self.with_retry(send).await;
        if result.as_ref().err().and_then(Error::status) == Some(404) {
            result = match self.create(&job.recreate, &job.recreate).await {
                Ok(_) => self.with_retry(send).await,
                Err(error) => Err(error),
            };
        }
        match result {
            Ok(()) => {
                add(&self.counters.session_updates_sent, 1);
                true
            }
            Err(error) => {
                self.diagnostics.warn("update-failed", || {
                    format!(
                        "could not write the final state of HoneyHive session {}: {error}",
                        job.session_id
                    )
                });
                false
            }
        }
    }
}
