//! One session's work as the worker hands it to the sender — its create, events, final update —
//! and where the sender records what became of each span (the [`Ledger`]), for the worker to
//! count.

use std::sync::{Arc, Mutex};

use uuid::Uuid;

use crate::limits;
use crate::mapping::Mapped;
use crate::redact::{Hook, Outgoing, Verdict};
use crate::wire::{CreateSession, UpdateEvent};

/// What became of one span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Delivered,
    /// The server refused it (a 4xx for it alone).
    Rejected,
    /// Given up on: retries exhausted, or its session could not be created.
    Failed,
    /// Not sent: the server refuses the API key.
    Unauthorized,
    /// Still held when the shutdown deadline passed.
    Shutdown,
    /// Dropped by the application's redaction hook.
    Redacted,
}

/// The outcomes of a job's spans, recorded as they happen: a job stopped at the shutdown deadline
/// still accounts for what it finished, and only the rest counts as dropped.
///
/// A span that joined its session by id is settled only once the session's update is written
/// too: its event's outcome is held ([`defer`](Self::defer)) until
/// [`release`](Self::release), so that a flush waits for the session's end as it waits for
/// a root's.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ledger(Arc<Mutex<Entries>>);

#[derive(Debug, Default)]
struct Entries {
    recorded: Vec<(u64, Outcome)>,
    /// Spans whose outcome waits for the session's update.
    deferred: Vec<u64>,
    /// Their events' outcomes, until then.
    held: Vec<(u64, Outcome)>,
}

impl Ledger {
    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn record(&self, seqs: &[u64], outcome: Outcome) {
        let mut entries = self.lock();
        for &seq in seqs {
            if entries.deferred.contains(&seq) {
                entries.held.push((seq, outcome));
            } else {
                entries.recorded.push((seq, outcome));
            }
        }
    }

    /// Holds the outcomes of `seqs` until [`release`](Self::release).
    pub(crate) fn defer(&self, seqs: impl IntoIterator<Item = u64>) {
        self.lock().deferred.extend(seqs);
    }

    /// Records what was held: the event's outcome where it was not delivered, else the session
    /// update's (`Delivered` when none was needed).
    pub(super) fn release(&self, update: Outcome) {
        let mut entries = self.lock();
        entries.deferred.clear();
        let held = std::mem::take(&mut entries.held);
        entries
            .recorded
            .extend(held.into_iter().map(|(seq, event)| {
                let outcome = if event == Outcome::Delivered {
                    update
                } else {
                    event
                };
                (seq, outcome)
            }));
    }

    /// The outcomes recorded since the last call.
    pub(crate) fn take(&self) -> Vec<(u64, Outcome)> {
        std::mem::take(&mut self.lock().recorded)
    }
}

/// The number of an event that settles no span of its own: a late root sent also as an event,
/// whose span the session's update settles. Spans are numbered from 1.
pub(crate) const NO_SPAN: u64 = 0;

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
    /// The events as mapped, until [`Job::encode`] writes them.
    pub(crate) events: Vec<Mapped>,
    /// The events as JSON, one after the other: each serialised once, then copied into the
    /// batch bodies.
    pub(super) encoded: Vec<u8>,
    /// Where each encoded event ends in `encoded`.
    pub(super) ends: Vec<usize>,
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
    /// Whether a 404 may create the session again: not for a session known here only through
    /// late enrichments, which this exporter never creates.
    pub(crate) recreate_allowed: bool,
    /// The session's start as known so far, in Unix milliseconds.
    pub(crate) start_ms: Option<f64>,
    /// Late enrichments of the session the update carries, settled by it.
    pub(crate) late: Vec<u64>,
    /// Late enrichments of events: each span's number, the event, and its update.
    pub(crate) event_updates: Vec<(u64, Uuid, UpdateEvent)>,
    /// Where the job records what became of each span.
    pub(crate) ledger: Ledger,
}

impl Job {
    /// Every span the job settles.
    pub(crate) fn spans(&self) -> Vec<u64> {
        let roots = self.completes.iter().chain(&self.update_completes);
        let events = self.event_updates.iter().map(|(seq, _, _)| seq);
        self.seqs
            .iter()
            .chain(roots)
            .chain(&self.late)
            .chain(events)
            .copied()
            .collect()
    }

    /// What the session's final step settles: the root span the job completes, if any, and the
    /// late enrichments its update carries.
    pub(super) fn closers(&self) -> Vec<u64> {
        let root = self.completes.or(self.update_completes);
        root.iter().chain(&self.late).copied().collect()
    }

    /// Writes the events as JSON, each within the event size limit, once when it fits (the
    /// common case): what the batches send. One over the limit is trimmed as a whole event
    /// ([`limits::fit_event`]) and written again. Returns how many values were cut to fit.
    pub(crate) fn encode(&mut self) -> u32 {
        let mut cut = 0u32;
        self.ends.reserve(self.events.len());
        for event in self.events.drain(..) {
            let start = self.encoded.len();
            event.write(&mut self.encoded);
            if self.encoded.len() - start > limits::MAX_EVENT_BYTES {
                self.encoded.truncate(start);
                let mut event = event.into_event();
                let (_, trimmed) = limits::fit_event(&mut event, limits::MAX_EVENT_BYTES);
                cut = cut.saturating_add(trimmed);
                crate::wire::json::write_event(&event, &mut self.encoded);
            }
            self.ends.push(self.encoded.len());
        }
        cut
    }

    /// How many events the job sends.
    pub(crate) fn event_count(&self) -> usize {
        self.ends.len()
    }

    /// Encoded event `index`.
    pub(crate) fn event_bytes(&self, index: usize) -> &[u8] {
        let start = index.checked_sub(1).map_or(0, |i| self.ends[i]);
        &self.encoded[start..self.ends[index]]
    }

    /// Shows what the job would send to the redaction hook, and takes out what it drops, whose
    /// spans are recorded as [`Outcome::Redacted`]. A session whose create it drops is dropped
    /// whole, and so is every later job of a session dropped before (`dropped`). Returns
    /// whether the session is dropped. Runs before [`Job::encode`], which sizes what is kept.
    pub(super) fn redact(&mut self, hook: &Hook, dropped: bool) -> bool {
        let dropped = dropped
            || self
                .create
                .as_mut()
                .is_some_and(|create| hook.judge(Outgoing::Session(create)) == Verdict::Drop);
        if dropped {
            let spans: Vec<u64> = self.spans().into_iter().filter(|&s| s != NO_SPAN).collect();
            self.ledger.record(&spans, Outcome::Redacted);
            self.create = None;
            self.update = None;
            self.completes = None;
            self.update_completes = None;
            self.joined = false;
            self.late.clear();
            self.event_updates.clear();
            self.seqs.clear();
            self.events.clear();
            return true;
        }
        let mut kept = (Vec::new(), Vec::new());
        let events = std::mem::take(&mut self.events);
        for (seq, event) in self.seqs.drain(..).zip(events) {
            // The hook sees, and may change, the whole event.
            let mut event = event.into_event();
            if hook.judge(Outgoing::Event(&mut event)) == Verdict::Drop {
                if seq != NO_SPAN {
                    self.ledger.record(&[seq], Outcome::Redacted);
                }
                continue;
            }
            kept.0.push(seq);
            kept.1.push(Mapped::from(event));
        }
        (self.seqs, self.events) = kept;
        if let Some(update) = &mut self.update
            && hook.judge(Outgoing::SessionUpdate(update)) == Verdict::Drop
        {
            self.update = None;
            self.update_after_create = false;
            self.joined = false;
            if let Some(root) = self.update_completes.take() {
                self.ledger.record(&[root], Outcome::Redacted);
            }
            self.ledger.record(&self.late, Outcome::Redacted);
            self.late.clear();
        }
        let ledger = &self.ledger;
        self.event_updates.retain_mut(|(seq, _, update)| {
            let kept = hook.judge(Outgoing::EventUpdate(update)) == Verdict::Send;
            if !kept {
                ledger.record(&[*seq], Outcome::Redacted);
            }
            kept
        });
        false
    }
}

/// `{"events":[…]}` of encoded events, each copied once.
pub(crate) fn events_body<'a>(events: impl Iterator<Item = &'a [u8]> + Clone) -> bytes::Bytes {
    const OPEN: &[u8] = b"{\"events\":[";
    const CLOSE: &[u8] = b"]}";
    let size: usize = events.clone().map(|e| e.len() + 1).sum();
    let mut body = Vec::with_capacity(OPEN.len() + size + CLOSE.len());
    body.extend_from_slice(OPEN);
    for (n, event) in events.enumerate() {
        if n > 0 {
            body.push(b',');
        }
        body.extend_from_slice(event);
    }
    body.extend_from_slice(CLOSE);
    body.into()
}

/// What a job did.
#[derive(Debug, Default)]
pub(crate) struct Done {
    pub(crate) session_id: Uuid,
    /// The session exists on the server.
    pub(crate) created: bool,
    /// The session's start as the server reported it.
    pub(crate) start_ms: Option<f64>,
    /// The session's end as the server reported it when this job created it, if it had one
    /// (another service's or another turn's): an update never moves it back.
    pub(crate) end_ms: Option<f64>,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::wire::{Event, EventType};

    fn event(name: &str, input: Value) -> Event {
        let mut event = Event::new(EventType::Tool);
        event.event_name = Some(name.into());
        event.inputs.insert("q".into(), input);
        event
    }

    #[test]
    fn events_are_encoded_once_and_any_run_of_them_makes_a_valid_batch() {
        let events = [
            event("a", json!("first")),
            event("b", json!({"n": 2})),
            event("c", json!([3])),
        ];
        let mut job = Job {
            events: events.iter().cloned().map(Mapped::from).collect(),
            seqs: vec![1, 2, 3],
            ..Job::default()
        };
        assert_eq!(job.encode(), 0);
        assert!(job.events.is_empty());
        assert_eq!(job.event_count(), 3);
        let mut total = 0;
        for (i, e) in events.iter().enumerate() {
            assert_eq!(job.event_bytes(i), serde_json::to_vec(e).unwrap());
            assert_eq!(job.event_bytes(i).len(), limits::json_size(e));
            total += job.event_bytes(i).len();
        }
        assert_eq!(total, job.encoded.len());
        let batch = |range: std::ops::Range<usize>| {
            let body = events_body(range.map(|i| job.event_bytes(i)));
            serde_json::from_slice::<Value>(&body).unwrap()
        };
        let body = batch(1..3);
        assert_eq!(body, json!({ "events": [events[1], events[2]] }));
        let one = batch(0..1);
        assert_eq!(one, json!({ "events": [events[0]] }));
    }

    #[test]
    fn an_event_over_the_size_limit_is_cut_before_it_is_written() {
        let huge = "x".repeat(limits::MAX_EVENT_BYTES + 10);
        // As the mapping makes it, its objects in the mapping's own form.
        let mapper = crate::mapping::Mapper {
            source: "test".into(),
            project: None,
            max_field_bytes: usize::MAX,
            capture_content: true,
        };
        let mut span = *super::super::pool::Pool::default().take();
        span.recorded
            .fields
            .set("inputs.q", crate::recorded::FieldValue::Str(huge));
        let big = mapper.event(span, Uuid::nil(), &Default::default(), &mut 0);
        let mut job = Job {
            events: vec![big, event("small", json!("ok")).into()],
            seqs: vec![1, 2],
            ..Job::default()
        };
        assert_eq!(job.encode(), 1);
        let size = job.event_bytes(0).len();
        assert!(size <= limits::MAX_EVENT_BYTES, "{size}");
        let big: Value = serde_json::from_slice(job.event_bytes(0)).unwrap();
        assert!(big["inputs"]["q"].as_str().unwrap().starts_with("[cut: "));
        let small: Value = serde_json::from_slice(job.event_bytes(1)).unwrap();
        assert_eq!(small["inputs"]["q"], "ok");
    }
}
