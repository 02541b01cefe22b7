//! One session as the exporter knows it: the spans waiting to be sent, its closed root, whether
//! the server has it, and the job that sends what it holds. Spans are only stored when they
//! arrive; they become wire events when a job takes them, so that taking spans off the queue
//! stays cheap.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use uuid::Uuid;

use super::job::Job;
use crate::limits;
use crate::mapping::{Mapper, merge_updates};
use crate::recorded::{Children, FinishedSpan, Role, SessionSeed};
use crate::wire::{CreateSession, UpdateEvent};

/// A finished span below the session, waiting to be sent.
#[derive(Debug)]
struct Pending {
    seq: u64,
    span: Box<FinishedSpan>,
    parent: Uuid,
    children: Children,
}

#[derive(Debug)]
pub(super) struct Session {
    seed: Arc<SessionSeed>,
    /// The server has it (a create answered 200).
    pub(super) created: bool,
    /// The session's start as the server reported it.
    pub(super) start_ms: Option<f64>,
    /// A job for it is in flight; its next one waits.
    pub(super) busy: bool,
    pending: Vec<Pending>,
    /// When the oldest pending event arrived.
    pub(super) oldest: Option<Instant>,
    /// Child event ids by parent event id (the session id for direct children), until the
    /// parent closes.
    children: HashMap<Uuid, Children>,
    /// The closed root span, waiting to be sent.
    root: Option<(u64, Box<FinishedSpan>)>,
    /// Session updates from spans that joined the session by id (few: mapped on arrival).
    joined_updates: Option<UpdateEvent>,
    /// The root closed and was taken: nothing more will come.
    pub(super) ended: bool,
    pub(super) touched: Instant,
}

impl Session {
    pub(super) fn new(seed: Arc<SessionSeed>, now: Instant) -> Self {
        Session {
            seed,
            created: false,
            start_ms: None,
            busy: false,
            pending: Vec::new(),
            oldest: None,
            children: HashMap::new(),
            root: None,
            joined_updates: None,
            ended: false,
            touched: now,
        }
    }

    pub(super) fn has_work(&self) -> bool {
        !self.pending.is_empty() || self.root.is_some() || self.joined_updates.is_some()
    }

    /// Whether its work should go now rather than wait for the flush interval: a closed root,
    /// a joined session's end, or a full batch.
    pub(super) fn is_due(&self, batch_size: usize) -> bool {
        self.root.is_some() || self.joined_updates.is_some() || self.pending.len() >= batch_size
    }

    /// Takes in span number `seq`: an event to send, or the session's closed root.
    pub(super) fn add(
        &mut self,
        seq: u64,
        span: Box<FinishedSpan>,
        now: Instant,
        mapper: &Mapper,
        truncated: &mut u32,
    ) {
        self.touched = now;
        match span.role {
            Role::Event { parent } => {
                self.children.entry(parent).or_default().push(span.event_id);
                let children = self.children.remove(&span.event_id).unwrap_or_default();
                self.oldest.get_or_insert(now);
                if span.owns_joined_session {
                    let update = mapper.joined_end(&span, truncated);
                    match &mut self.joined_updates {
                        Some(earlier) => merge_updates(earlier, update),
                        None => self.joined_updates = Some(update),
                    }
                }
                self.pending.push(Pending {
                    seq,
                    span,
                    parent,
                    children,
                });
            }
            Role::Session => self.root = Some((seq, span)),
        }
    }

    /// Everything it holds as one job, unless a job is in flight or there is nothing to send.
    /// A session is never created empty: its first job carries an event or its end.
    pub(super) fn take_job(
        &mut self,
        mapper: &Mapper,
        batch_size: usize,
        truncated: &mut u32,
    ) -> Option<Job> {
        if self.busy || !self.has_work() {
            return None;
        }
        let id = self.seed.id;
        let pending = std::mem::take(&mut self.pending);
        let mut sizes = Vec::with_capacity(pending.len());
        let events = pending
            .iter()
            .map(|p| {
                let mut event = mapper.event(&p.span, p.parent, &p.children, truncated);
                let (size, cut) = limits::fit_event(&mut event, limits::MAX_EVENT_BYTES);
                *truncated = truncated.saturating_add(cut);
                sizes.push(size);
                event
            })
            .collect();
        let mut job = Job {
            session_id: id,
            batch_size,
            recreate: CreateSession {
                session_id: Some(id),
                session_name: Some(self.seed.name.clone()),
                source: Some(mapper.source.clone()),
                start_time: Some(self.seed.start_ms),
                ..CreateSession::default()
            },
            start_ms: self.start_ms,
            seqs: pending.iter().map(|p| p.seq).collect(),
            events,
            sizes,
            ..Job::default()
        };
        self.oldest = None;
        match self.root.take() {
            Some((seq, root)) => {
                let children = self.children.remove(&id).unwrap_or_default();
                let end = mapper.session_end(&root, &children, truncated);
                if self.created {
                    job.update_completes = Some(seq);
                } else {
                    job.create = Some(end.create);
                    job.completes = Some(seq);
                    job.update_after_create = end.update_after_create;
                }
                job.update = Some(end.update);
                self.ended = true;
            }
            None if !self.created => job.create = Some(mapper.session_start(&self.seed, truncated)),
            None => {}
        }
        if let Some(update) = self.joined_updates.take() {
            job.joined = true;
            match &mut job.update {
                Some(existing) => merge_updates(existing, update),
                None => job.update = Some(update),
            }
        }
        self.busy = true;
        Some(job)
    }
}
