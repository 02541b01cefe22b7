//! One session as the exporter knows it: the spans waiting to be sent, its closed root, whether
//! the server has it, and the job that sends what it holds. Spans are only stored when they
//! arrive; they become wire events when a job takes them, so that taking spans off the queue
//! stays cheap.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use uuid::Uuid;

use super::job::{Job, NO_SPAN};
use crate::mapping::{Mapper, merge_updates};
use crate::recorded::{Children, FinishedSpan, Late, Role, SessionSeed};
use crate::redact::Hook;
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
    /// Session updates from spans that joined the session by id, and late enrichments (few:
    /// mapped on arrival).
    joined_updates: Option<UpdateEvent>,
    /// Late enrichments waiting in `joined_updates`, settled by the update.
    late: Vec<u64>,
    /// Late enrichments of its events: each its own update, sent after the events of the job
    /// that carries it (so after the event's own batch).
    event_updates: Vec<(u64, Uuid, UpdateEvent)>,
    /// The latest end this exporter wrote to the session: a later turn that ends sooner (or an
    /// update sent out of order) never moves it back.
    end_written: Option<i64>,
    /// Known here only through late enrichments: created elsewhere (or long ago), it is
    /// updated and never created again, even when the server answers it does not have it.
    pub(super) foreign: bool,
    /// The root closed and was taken: nothing more will come.
    pub(super) ended: bool,
    pub(super) touched: Instant,
    /// The root span's own event id, when it is not the session id (an OpenTelemetry root,
    /// whose children name it before it is known to be the root): they are linked to the
    /// session instead.
    root_alias: Option<Uuid>,
    /// Events went out before the root was seen: they may name it as their parent.
    sent_before_root: bool,
    /// The seed is the one of the span that starts the session.
    owner_seeded: bool,
    /// The redaction hook dropped the session: nothing of it is sent.
    redacted: bool,
}

/// What a session hands over to another (its trace moved to a session named by a key): its
/// unsent events, its root if it came, and the children it knows by parent.
#[derive(Debug)]
pub(super) struct Unsent {
    pending: Vec<Pending>,
    root: Option<(u64, Box<FinishedSpan>)>,
    children: HashMap<Uuid, Children>,
}

/// Events of a trace session that wait for its root, at most, before they are sent anyway.
const WAITING_EVENTS_MAX: usize = 1000;

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
            late: Vec::new(),
            event_updates: Vec::new(),
            end_written: None,
            foreign: false,
            ended: false,
            touched: now,
            root_alias: None,
            sent_before_root: false,
            owner_seeded: false,
            redacted: false,
        }
    }

    /// A session derived from an OpenTelemetry trace whose root has not come yet, and which the
    /// server does not have yet: its events wait for the root (see `Config::root_wait`), so that
    /// the session is created whole.
    pub(super) fn waiting_for_root(&self) -> bool {
        self.seed.trace && self.root.is_none() && !self.created && !self.ended
    }

    /// Nothing to send and nothing in flight: safe to forget.
    pub(super) fn is_idle(&self) -> bool {
        !self.busy && !self.has_work()
    }

    /// Everything it holds and has not sent, for another session. Its root's children, which
    /// it linked to itself, are linked to the root's own id again.
    pub(super) fn take_unsent(&mut self) -> Unsent {
        let id = self.seed.id;
        let mut pending = std::mem::take(&mut self.pending);
        let mut children = std::mem::take(&mut self.children);
        if let Some(alias) = self.root_alias {
            for p in pending.iter_mut().filter(|p| p.parent == id) {
                p.parent = alias;
            }
            if let Some(of_root) = children.remove(&id) {
                children.insert(alias, of_root);
            }
        }
        self.oldest = None;
        self.joined_updates = None;
        Unsent {
            pending,
            root: self.root.take(),
            children,
        }
    }

    /// Takes in what another session had not sent, as events of this one (whose seed is
    /// `seed`): a root among them becomes an event under this session. Returns that root's
    /// number: it is an event now.
    pub(super) fn adopt(
        &mut self,
        unsent: Unsent,
        seed: &Arc<SessionSeed>,
        now: Instant,
    ) -> Option<u64> {
        self.touched = now;
        self.adopt_children(unsent.children);
        for mut pending in unsent.pending {
            pending.span.session = Arc::clone(seed);
            self.oldest.get_or_insert(now);
            self.pending.push(pending);
        }
        let (seq, mut root) = unsent.root?;
        root.session = Arc::clone(seed);
        root.role = Role::Event { parent: seed.id };
        self.children
            .entry(seed.id)
            .or_default()
            .push(root.event_id);
        let children = self.children.remove(&root.event_id).unwrap_or_default();
        self.oldest.get_or_insert(now);
        self.pending.push(Pending {
            seq,
            span: root,
            parent: seed.id,
            children,
        });
        Some(seq)
    }

    /// Takes in children known by parent from another session.
    fn adopt_children(&mut self, children: HashMap<Uuid, Children>) {
        for (parent, list) in children {
            let mine = self.children.entry(parent).or_default();
            list.ids.into_iter().for_each(|c| mine.push(c));
            mine.omitted = mine.omitted.saturating_add(list.omitted);
        }
    }

    pub(super) fn has_work(&self) -> bool {
        !self.pending.is_empty()
            || self.root.is_some()
            || self.joined_updates.is_some()
            || !self.event_updates.is_empty()
    }

    /// Whether its work should go now rather than wait for the flush interval: a closed root,
    /// a joined session's end, or a full batch.
    pub(super) fn is_due(&self, batch_size: usize) -> bool {
        let full = if self.waiting_for_root() {
            batch_size.max(WAITING_EVENTS_MAX)
        } else {
            batch_size
        };
        self.root.is_some()
            || self.joined_updates.is_some()
            || !self.event_updates.is_empty()
            || self.pending.len() >= full
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
        if let Some(late) = span.late {
            // Values given after the fact: an update, no event.
            let mut update = mapper.joined_end(&span, truncated);
            update.end_time = None;
            match late {
                Late::Session => {
                    match &mut self.joined_updates {
                        Some(earlier) => merge_updates(earlier, update),
                        None => self.joined_updates = Some(update),
                    }
                    self.late.push(seq);
                }
                Late::Event(event) => self.event_updates.push((seq, event, update)),
            }
            return;
        }
        self.foreign = false;
        match span.role {
            Role::Event { mut parent } => {
                if Some(parent) == self.root_alias {
                    parent = self.seed.id;
                }
                self.children.entry(parent).or_default().push(span.event_id);
                let children = self.children.remove(&span.event_id).unwrap_or_default();
                self.oldest.get_or_insert(now);
                if span.owns_joined_session {
                    self.adopt_seed(&span.session);
                    let update = mapper.joined_end(&span, truncated);
                    // A call from another service leaves the session's end to its caller: with
                    // nothing given for the session, there is nothing to write.
                    if update != UpdateEvent::default() {
                        match &mut self.joined_updates {
                            Some(earlier) => merge_updates(earlier, update),
                            None => self.joined_updates = Some(update),
                        }
                    }
                }
                self.pending.push(Pending {
                    seq,
                    span,
                    parent,
                    children,
                });
            }
            Role::Session => {
                self.adopt_seed(&span.session);
                if span.event_id != self.seed.id {
                    self.link_root(span.event_id);
                }
                self.root = Some((seq, span));
            }
        }
    }

    /// The span that starts the session (its root, or the span that joined it by id) knows it
    /// best — its name, start, source and inputs: while nothing was sent, the session is created
    /// from its seed rather than from the seed of the span that happened to arrive first.
    /// The first such span wins: of several traces joining one session, the earliest.
    fn adopt_seed(&mut self, seed: &Arc<SessionSeed>) {
        if !self.owner_seeded && !self.created && !self.sent_before_root && !self.busy {
            self.seed = Arc::clone(seed);
        }
        self.owner_seeded = true;
    }

    /// The root's own event id is `alias`: events waiting with it as their parent are the
    /// session's direct children.
    fn link_root(&mut self, alias: Uuid) {
        let id = self.seed.id;
        self.root_alias = Some(alias);
        for pending in &mut self.pending {
            if pending.parent == alias {
                pending.parent = id;
            }
        }
        if let Some(children) = self.children.remove(&alias) {
            self.adopt_children(HashMap::from([(id, children)]));
        }
    }

    /// Everything it holds as one job, unless a job is in flight or there is nothing to send.
    /// A session is never created empty: its first job carries an event or its end.
    pub(super) fn take_job(
        &mut self,
        mapper: &Mapper,
        batch_size: usize,
        hook: Option<&Hook>,
        truncated: &mut u32,
    ) -> Option<Job> {
        if self.busy || !self.has_work() {
            return None;
        }
        let id = self.seed.id;
        let pending = std::mem::take(&mut self.pending);
        if self.root.is_none() && !pending.is_empty() {
            self.sent_before_root = true;
        }
        let seqs = pending.iter().map(|p| p.seq).collect();
        let owners: Vec<u64> = pending
            .iter()
            .filter(|p| p.span.owns_joined_session)
            .map(|p| p.seq)
            .collect();
        let events = pending
            .into_iter()
            .map(|p| mapper.event(*p.span, p.parent, &p.children, truncated))
            .collect();
        let mut job = Job {
            session_id: id,
            batch_size,
            recreate: CreateSession {
                session_id: Some(id),
                session_name: Some(self.seed.name.to_string()),
                source: Some(
                    self.seed
                        .source
                        .clone()
                        .unwrap_or_else(|| mapper.source.clone()),
                ),
                start_time: Some(self.seed.start_ms),
                ..CreateSession::default()
            },
            start_ms: self.start_ms,
            recreate_allowed: !self.foreign,
            event_updates: std::mem::take(&mut self.event_updates),
            seqs,
            events,
            ..Job::default()
        };
        self.oldest = None;
        match self.root.take() {
            Some((seq, root)) => {
                let children = self.children.remove(&id).unwrap_or_default();
                if self.sent_before_root
                    && let Some(alias) = self.root_alias
                {
                    // Events already sent name the root by its own id: it is sent as an event
                    // of that id too, under the session, so that they are linked.
                    let mut event =
                        mapper.event((*root).clone(), id, &Children::default(), truncated);
                    event.head.event_id = Some(alias);
                    // Its span is settled by the update, which completes the session: a flush
                    // waits for that, not only for this event.
                    job.seqs.push(NO_SPAN);
                    job.events.push(event);
                }
                // What the server's session holds: its early create, or, for a trace's session
                // that another service may have created first, perhaps nothing of the root's.
                let created_from = if self.created || !self.seed.trace {
                    Arc::clone(&self.seed)
                } else {
                    Arc::new(SessionSeed {
                        fields: Default::default(),
                        ..(*self.seed).clone()
                    })
                };
                let end = mapper.session_end(*root, &created_from, &children, truncated);
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
            job.late = std::mem::take(&mut self.late);
            // The spans that joined are settled once the update is written too.
            job.ledger.defer(owners);
            match &mut job.update {
                Some(existing) => merge_updates(existing, update),
                None => job.update = Some(update),
            }
        }
        if job.joined
            && let Some(update) = &mut job.update
            && let Some(end) = update.end_time
        {
            if self.end_written.is_some_and(|written| written >= end) {
                update.end_time = None;
            } else {
                self.end_written = Some(end);
            }
        }
        if let Some(hook) = hook {
            self.redacted = job.redact(hook, self.redacted);
        }
        *truncated = truncated.saturating_add(job.encode());
        self.busy = true;
        Some(job)
    }
}
