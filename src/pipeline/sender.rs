//! Runs one session's job against the API, in order: the session's create, its events in
//! batches, its final update. Retries with backoff; a batch answered 404 re-creates the session;
//! a batch answered 400 or 413 is split until the events the server refuses stand alone, so the
//! valid ones still land. Every request passes the [`Gate`]: a server's pause holds every job,
//! a refused key stops them all.
//!
//! The sender records what became of each span in the job's [`Ledger`]; the worker counts it.
//! What a job is lives in [`super::job`]; how one call is gated and retried, in
//! [`super::attempt`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::future::join_all;

use super::attempt::{Failure, Refusals};
use super::diagnostics::Diagnostics;
use super::gate::Gate;
use super::job::{self, Done, Job, Outcome};
use super::retry::RetryPolicy;
use super::stats::add;
use crate::client::Client;
use crate::error::Error;
use crate::limits;
use crate::wire::{CreateSession, UpdateEvent};
use uuid::Uuid;

/// Sends jobs; cheap to clone into each job's task.
#[derive(Debug, Clone)]
pub(crate) struct Sender {
    pub(crate) client: Client,
    pub(crate) retry: RetryPolicy,
    pub(crate) shared: Arc<super::Shared>,
    pub(crate) diagnostics: Arc<Diagnostics>,
    pub(crate) gate: Arc<Gate>,
    /// One permit per request in flight, shared by every job: `with_max_concurrent_requests`
    /// bounds requests, however the jobs group them.
    pub(crate) requests: Arc<tokio::sync::Semaphore>,
}

/// A job whose session exists: what its final step needs.
struct Opened {
    done: Done,
    update_needed: bool,
}

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl Sender {
    /// Runs jobs: each session created (when it must be, the sessions side by side), then their
    /// events in batches — on each session's own route, or `across` sessions in shared
    /// `POST /v1/events/batch` requests, each event naming its session — then each session's
    /// final state.
    pub(crate) async fn run(&self, mut jobs: Vec<Job>, across: bool) -> Vec<Done> {
        let mut dones = Vec::with_capacity(jobs.len());
        let mut open = Vec::with_capacity(jobs.len());
        let opening = jobs.iter_mut().map(|job| self.open(job));
        for (index, opened) in join_all(opening).await.into_iter().enumerate() {
            match opened {
                Ok(opened) => open.push((index, opened)),
                Err(done) => dones.push(done),
            }
        }
        // Every event of the open sessions as (job, event), in runs that may share a batch.
        let events = |j: usize| (0..jobs[j].event_count()).map(move |e| (j, e));
        let runs: Vec<Vec<(usize, usize)>> = if across {
            vec![open.iter().flat_map(|&(j, _)| events(j)).collect()]
        } else {
            open.iter().map(|&(j, _)| events(j).collect()).collect()
        };
        let batch_size = jobs.first().map_or(1, |job| job.batch_size);
        for run in &runs {
            let sizes: Vec<usize> = run
                .iter()
                .map(|&(j, e)| jobs[j].event_bytes(e).len())
                .collect();
            let mut start = 0;
            for end in limits::batch_ends(&sizes, batch_size, limits::MAX_BATCH_BYTES) {
                self.deliver(&jobs, &run[start..end], across).await;
                start = end;
            }
        }
        for (index, opened) in open {
            dones.push(self.finish(&mut jobs[index], opened).await);
        }
        dones
    }

    /// Creates the job's session when it must be; `Err` with what the job did when that failed
    /// (its spans are recorded as failed).
    async fn open(&self, job: &mut Job) -> Result<Opened, Done> {
        let mut done = Done {
            session_id: job.session_id,
            created: job.create.is_none(),
            start_ms: job.start_ms,
            end_ms: None,
        };
        let mut update_needed = job.update_completes.is_some() || job.joined;
        if let Some(create) = job.create.take() {
            match self.create(&create, &job.recreate).await {
                Ok(record) => {
                    done.created = true;
                    done.start_ms = record.start_time.or(done.start_ms);
                    done.end_ms = record.end_time;
                    // A complete create that found the session already there changed only its
                    // metadata: the final state must follow as an update.
                    let existed = record.end_time != create.end_time.map(|t| t as f64);
                    update_needed |=
                        job.update_after_create || (job.completes.is_some() && existed);
                }
                Err(failure) => {
                    if let Failure::Error(error) = &failure {
                        self.diagnostics.warn("session-failed", || {
                            format!(
                                "could not create HoneyHive session {}; its {} event(s) are \
                                 lost: {error}",
                                job.session_id,
                                job.event_count()
                            )
                        });
                    }
                    let outcome = failure.outcome();
                    job.ledger.record(&job.seqs, outcome);
                    job.ledger.record(&job.closers(), outcome);
                    let late: Vec<u64> = job.event_updates.iter().map(|u| u.0).collect();
                    job.ledger.record(&late, outcome);
                    job.ledger.release(outcome);
                    return Err(done);
                }
            }
        }
        Ok(Opened {
            done,
            update_needed,
        })
    }

    /// Writes the session's final state when it must be, and settles its root.
    async fn finish(&self, job: &mut Job, opened: Opened) -> Done {
        let Opened {
            done,
            update_needed,
        } = opened;
        let outcome = match job.update.take().filter(|_| update_needed) {
            Some(mut update) => {
                if job.joined
                    && let Some(end) = update.end_time
                {
                    if done.end_ms.is_some_and(|known| known >= end as f64) {
                        // The session went on after this span (in another service, or another
                        // turn): its end and duration stay the later ones.
                        update.end_time = None;
                    } else {
                        let start = done.start_ms.unwrap_or(end as f64);
                        update.duration = Some((end as f64 - start).max(0.0));
                    }
                }
                match self.update(job, update).await {
                    Ok(()) => Outcome::Delivered,
                    Err(failure) => failure.outcome(),
                }
            }
            None => Outcome::Delivered,
        };
        job.ledger.record(&job.closers(), outcome);
        job.ledger.release(outcome);
        // Values given late for events, after the batches that carried the events.
        for (seq, event, update) in std::mem::take(&mut job.event_updates) {
            let send = || self.client.update_event(event, &update);
            let outcome = match self.with_retry(Refusals::Auth, send).await {
                Ok(()) => Outcome::Delivered,
                Err(failure) => {
                    if let Failure::Error(error) = &failure {
                        self.diagnostics.warn("event-update-failed", || {
                            format!(
                                "could not write the values given late for HoneyHive event \
                                 {event} of session {}: {error}",
                                job.session_id
                            )
                        });
                    }
                    failure.outcome()
                }
            };
            job.ledger.record(&[seq], outcome);
        }
        done
    }

    /// Creates the session; a create the server refuses with a 4xx is sent again in its
    /// smallest form (id, name, source, start), so the session's events can still land. A
    /// create answered `404` is the key's refusal: nothing about the session can be missing.
    async fn create(
        &self,
        create: &CreateSession,
        recreate: &CreateSession,
    ) -> Result<crate::wire::EventRecord, Failure> {
        let result = self
            .with_retry(Refusals::AuthOrNotFound, || {
                self.client.create_session(create)
            })
            .await;
        let result = match result {
            Err(failure) if failure.status().is_some_and(|s| (400..500).contains(&s)) => {
                if create == recreate {
                    return Err(failure);
                }
                self.diagnostics.warn("session-refused", || {
                    format!(
                        "HoneyHive refused session {}; sending it without its inputs, outputs and \
                         metadata: {failure}",
                        create.session_id.unwrap_or_default()
                    )
                });
                self.with_retry(Refusals::AuthOrNotFound, || {
                    self.client.create_session(recreate)
                })
                .await
            }
            other => other,
        };
        let record = match result {
            Ok(created) => created.record,
            // The server took the session but its answer is not the documented JSON: the id is
            // the one sent, so its events can still go.
            Err(Failure::Error(error @ Error::Decode { .. })) => {
                self.unexpected_body(&error);
                crate::wire::EventRecord::default()
            }
            Err(failure) => return Err(failure),
        };
        add(&self.shared.counters.sessions_sent, 1);
        Ok(record)
    }

    /// Calls `send`; on a 404 re-creates the session (creation is idempotent) and calls it again.
    async fn with_session<F, Fut>(&self, job: &Job, send: F) -> Result<(), Failure>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<(), Error>>,
    {
        let result = self.with_retry(Refusals::Auth, &send).await;
        if !job.recreate_allowed || result.as_ref().err().and_then(Failure::status) != Some(404) {
            return result;
        }
        // The server does not know the session (it expired, or the server restarted), or it
        // refuses the key: a create answered 404 again says which.
        self.create(&job.recreate, &job.recreate).await?;
        self.with_retry(Refusals::Auth, &send).await
    }

    /// Sends one batch (`events`: job and event indices): on the session's own route, whose
    /// 404 re-creates the session, or `across` sessions. On a 400, 413 or 422 splits it in
    /// halves until each refused event stands alone, so the others still land.
    fn deliver<'a>(
        &'a self,
        jobs: &'a [Job],
        events: &'a [(usize, usize)],
        across: bool,
    ) -> Boxed<'a, ()> {
        Box::pin(async move {
            let record = |outcome: Outcome| {
                for &(j, e) in events {
                    jobs[j].ledger.record(&jobs[j].seqs[e..=e], outcome);
                }
            };
            // Built once: a retry sends the same bytes.
            let body = job::events_body(events.iter().map(|&(j, e)| jobs[j].event_bytes(e)));
            let result = if across {
                // Every session of the batch was created first: a 404 here is the key's refusal.
                self.with_retry(Refusals::AuthOrNotFound, || {
                    self.client.create_event_batch_encoded(body.clone())
                })
                .await
            } else {
                let job = &jobs[events[0].0];
                let send = || {
                    self.client
                        .create_session_event_batch_encoded(job.session_id, body.clone())
                };
                self.with_session(job, send).await
            };
            let failure = match result {
                Ok(()) => return record(Outcome::Delivered),
                Err(Failure::Error(error @ Error::Decode { .. })) => {
                    // A success status: the server took the batch, whatever its answer says.
                    self.unexpected_body(&error);
                    return record(Outcome::Delivered);
                }
                Err(failure) => failure,
            };
            let splittable = matches!(failure.status(), Some(400 | 413 | 422));
            if splittable && events.len() > 1 {
                let (first, second) = events.split_at(events.len() / 2);
                self.deliver(jobs, first, across).await;
                self.deliver(jobs, second, across).await;
                return;
            }
            if splittable {
                record(Outcome::Rejected);
                let (j, e) = events[0];
                // Read back from what was sent, on this rare path only.
                let (name, id) = named(jobs[j].event_bytes(e));
                self.diagnostics.warn("event-rejected", || {
                    format!(
                        "HoneyHive refused event `{name}` ({id}) of session {}: {failure}",
                        jobs[j].session_id
                    )
                });
                return;
            }
            record(failure.outcome());
            if let Failure::Error(error) = &failure {
                let (first, _) = events[0];
                let others = events.iter().any(|&(j, _)| j != first);
                self.diagnostics.warn("batch-failed", || {
                    format!(
                        "gave up sending {} event(s) of session {}{}: {error}",
                        events.len(),
                        jobs[first].session_id,
                        if others { " and others" } else { "" }
                    )
                });
            }
        })
    }

    /// Writes the session's final state. One the server finds too large (413) is sent again
    /// without its child list, then with its end alone, and the loss is said.
    async fn update(&self, job: &Job, mut update: UpdateEvent) -> Result<(), Failure> {
        let mut trimmed = 0;
        let result = loop {
            let body = &update;
            let send = || self.client.update_event(job.session_id, body);
            match self.with_session(job, send).await {
                Err(failure) if failure.status() == Some(413) && trimmed < 2 => {
                    trimmed += 1;
                    update = trim_final_state(update, trimmed);
                    self.diagnostics.warn("update-too-large", || {
                        format!(
                            "HoneyHive found the final state of session {} too large ({failure}); \
                             sending it again without {}",
                            job.session_id,
                            if trimmed == 1 {
                                "its children_ids"
                            } else {
                                "anything but its end time and duration"
                            }
                        )
                    });
                }
                other => break other,
            }
        };
        match result {
            Ok(()) => {
                add(&self.shared.counters.session_updates_sent, 1);
                Ok(())
            }
            Err(failure) => {
                if let Failure::Error(error) = &failure {
                    self.diagnostics.warn("update-failed", || {
                        format!(
                            "could not write the final state of HoneyHive session {}: {error}",
                            job.session_id
                        )
                    });
                }
                Err(failure)
            }
        }
    }
}

/// The final state made smaller after a 413: first without the child list (every event names its
/// parent), then down to its end, with a note in metadata of what was left out.
fn trim_final_state(update: UpdateEvent, step: u32) -> UpdateEvent {
    let note = if step == 1 {
        "children_ids left out: the server found the final state too large"
    } else {
        "outputs, metadata, metrics, feedback, config and user_properties left out: the server \
         found the final state too large"
    };
    let mut metadata = crate::wire::JsonObject::new();
    metadata.insert("honeyhive.final_state_trimmed".into(), note.into());
    match step {
        1 => UpdateEvent {
            children_ids: None,
            metadata: Some(match update.metadata {
                Some(mut existing) => {
                    existing.extend(metadata);
                    existing
                }
                None => metadata,
            }),
            ..update
        },
        _ => UpdateEvent {
            end_time: update.end_time,
            duration: update.duration,
            metadata: Some(metadata),
            ..UpdateEvent::default()
        },
    }
}

/// The name and id of an encoded event, for a message about it.
fn named(event: &[u8]) -> (String, Uuid) {
    #[derive(serde::Deserialize)]
    struct Named {
        event_name: Option<String>,
        event_id: Option<Uuid>,
    }
    serde_json::from_slice::<Named>(event).map_or_else(
        |_| ("?".to_owned(), Uuid::nil()),
        |n| {
            (
                n.event_name.unwrap_or_else(|| "?".to_owned()),
                n.event_id.unwrap_or_default(),
            )
        },
    )
}
