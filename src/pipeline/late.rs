//! Late enrichment: values for a session or one of its events given after it ended — a thumbs-up a minute later,
//! from another request or another process — as HoneyHive's `enrich_session(session_id, …)`.
//!
//! They go through the queue like a span, so they are bounded, counted, retried and flushed like
//! everything else, and in order: a session this exporter is still creating or sending is
//! updated only after its create was answered (HoneyHive may apply an update that arrives too
//! soon after its create out of order, and lose it silently). A session this exporter does not
//! hold (it ended long ago, or another process created it) is updated, never created.

use std::sync::Arc;

use uuid::Uuid;

use super::Handle;
use crate::recorded::{Fields, Late, Name, Role, SessionSeed};
use crate::span_ext::Enrichment;

impl Handle {
    /// Merges `enrichment` into a session that may have ended: its feedback, metrics,
    /// metadata, user properties or outputs (outputs replace the session's), as HoneyHive's
    /// `enrich_session`. `session` is its id, or the key it was started or joined with
    /// (`honeyhive.session_id`), which names the same session in every process and language
    /// ([`ids::session_id_for_key`](crate::ids::session_id_for_key)).
    ///
    /// It never blocks: it is queued like a finished span, and counted like one (as an event)
    /// in [`Stats`](crate::Stats) — sent as `PUT /v1/events/{session_id}`, retried, flushed
    /// by [`flush`](Self::flush), or dropped and counted when the queue is full. Values are
    /// bounded by the size policy as they are given ([`limits`](crate::limits)).
    ///
    /// ```
    /// # #[cfg(feature = "emulator")] {
    /// use serde_json::json;
    /// use tracing_subscriber::prelude::*;
    /// use tracing_honeyhive::{Enrichment, HoneyHiveLayer};
    /// # let server = tracing_honeyhive::emulator::Emulator::builder().start().unwrap();
    ///
    /// let (layer, guard) = HoneyHiveLayer::builder().with_api_url(server.url()).build()?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     let _turn = tracing::info_span!("support chat", honeyhive.session_id = "thread-42")
    ///         .entered();
    /// });
    /// // A minute later, from another request: the user liked the answer.
    /// guard.handle().enrich_session(
    ///     "thread-42",
    ///     Enrichment::new().with_feedback(json!({"rating": 5, "liked": true})),
    /// );
    /// guard.flush(std::time::Duration::from_secs(5)).unwrap();
    /// # assert_eq!(server.sessions()[0].feedback, Some(json!({"rating": 5, "liked": true})));
    /// # }
    /// # Ok::<(), tracing_honeyhive::Error>(())
    /// ```
    pub fn enrich_session(&self, session: impl std::fmt::Display, enrichment: Enrichment) {
        self.queue_late(&session.to_string(), Late::Session, enrichment);
    }

    /// Merges `enrichment` into an event that may have ended, of session `session` (its id, or
    /// the key it was started or joined with): a rating of one answer, an evaluation's metrics.
    /// Sent as `PUT /v1/events/{event_id}` after the event itself, and queued, counted, retried
    /// and flushed as [`enrich_session`](Self::enrich_session) is. An event has no error field
    /// that can be updated: an error given here is kept as `metadata.error`.
    ///
    /// The ids of a span's event and session are those
    /// [`SessionContext::from_span`](crate::propagation::SessionContext::from_span) gives
    /// (`session_id` and `parent_id`, the span's own event as a caller's parent).
    pub fn enrich_event(
        &self,
        session: impl std::fmt::Display,
        event_id: Uuid,
        enrichment: Enrichment,
    ) {
        self.queue_late(&session.to_string(), Late::Event(event_id), enrichment);
    }

    /// Queues `enrichment` for `target` of the session `session` names.
    fn queue_late(&self, session: &str, target: Late, mut enrichment: Enrichment) {
        let Some(producer) = &self.producer else {
            return;
        };
        let id = crate::ids::session_id_for_key(session);
        let cut = enrichment.bound();
        producer.count_truncated(cut);
        let mut late = producer.fresh();
        late.session = Arc::new(SessionSeed {
            id,
            joined: true,
            trace: false,
            // HoneyHive's own name for a session that gives none.
            name: Name::Borrowed("unknown"),
            source: None,
            start_ms: crate::layer::now_ms(),
            fields: Fields::default(),
        });
        late.role = Role::Event { parent: id };
        late.event_id = Uuid::new_v4();
        late.name = Name::Borrowed("enrich");
        late.start_ms = late.session.start_ms;
        late.session_json = enrichment.into_session_values();
        late.late = Some(target);
        producer.send(late);
    }
}
