//! Spans the layer records into, used again: the worker hands each span's box and buffers back
//! once it has its own copy, so that recording a span on the application thread takes no
//! allocation once the pool is warm. Both ends only try (`try_recv`, `try_send`) on a channel
//! nobody waits on: no lock, no wake-up, and an empty or full pool only costs an allocation or a
//! free.

use std::sync::Arc;

use uuid::Uuid;

use crate::recorded::{Draft, Fields, FinishedSpan, Name, SessionSeed};

/// How many spare spans the pool keeps: enough for the spans that close between two of the
/// worker's visits to the queue at a high rate; each keeps at most a few KiB of buffers.
const SPARE: usize = 1024;
/// How many spare spans the pool starts with (about 100 KiB): an application's first spans,
/// and any burst of that many open at once, are recorded warm, and the layer wakes the worker
/// for spares only when more than that are waiting for it.
const WARM: usize = 64;

#[derive(Debug)]
pub(crate) struct Pool {
    give: crossbeam_channel::Sender<Box<FinishedSpan>>,
    take: crossbeam_channel::Receiver<Box<FinishedSpan>>,
    /// The session a spare span points to, so that it keeps no real one alive.
    blank: Arc<SessionSeed>,
}

impl Default for Pool {
    fn default() -> Self {
        let (give, take) = crossbeam_channel::bounded(SPARE);
        let pool = Pool {
            give,
            take,
            blank: Arc::new(SessionSeed {
                id: Uuid::nil(),
                joined: false,
                name: Name::Borrowed(""),
                trace: false,
                source: None,
                start_ms: 0,
                fields: Fields::default(),
            }),
        };
        for _ in 0..WARM {
            let _ = pool.give.try_send(pool.new_span());
        }
        pool
    }
}

impl Pool {
    /// A blank span to record into: a spare one, else a new one.
    #[cfg(test)]
    pub(crate) fn take(&self) -> Box<FinishedSpan> {
        self.spare().unwrap_or_else(|| self.new_span())
    }

    /// A spare span, if the worker has given one back.
    pub(crate) fn spare(&self) -> Option<Box<FinishedSpan>> {
        self.take.try_recv().ok()
    }

    /// A new blank span, with warm buffers.
    pub(crate) fn new_span(&self) -> Box<FinishedSpan> {
        let mut span = Box::new(FinishedSpan::blank(Arc::clone(&self.blank)));
        span.draft = Draft::warm();
        span
    }

    /// Takes `span` back: blanked, keeping its draft's buffers, for another span.
    pub(crate) fn give(&self, mut span: Box<FinishedSpan>) {
        let mut draft = std::mem::take(&mut span.draft);
        draft.clear();
        *span = FinishedSpan::blank(Arc::clone(&self.blank));
        span.draft = draft;
        let _ = self.give.try_send(span);
    }

    /// On the worker: the span in a box of its own, with what its draft held settled into its
    /// recorded fields; the layer's box and buffers go back to the pool. A span with nothing in
    /// its draft (an OpenTelemetry span) is only passed on.
    pub(crate) fn settle(&self, mut span: Box<FinishedSpan>) -> Box<FinishedSpan> {
        if span.draft.is_empty() {
            return span;
        }
        let mut own = Box::new(std::mem::replace(
            &mut *span,
            FinishedSpan::blank(Arc::clone(&self.blank)),
        ));
        std::mem::swap(&mut span.draft, &mut own.draft);
        span.draft.settle_into(&mut own.recorded);
        self.give(span);
        own
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorded::{DraftValue, FieldValue};

    #[test]
    fn a_settled_span_keeps_its_fields_and_its_box_comes_back_blank_with_warm_buffers() {
        let pool = Pool::default();
        let mut span = pool.take();
        let text = span.draft.push_str("gpt-4o", 64, &mut 0);
        span.draft
            .set("gen_ai.request.model", DraftValue::Text(text));
        span.draft.set("attempt", DraftValue::I64(2));
        span.name = "llm".into();
        let own = pool.settle(span);
        assert_eq!(own.name, "llm");
        assert!(own.draft.is_empty());
        assert_eq!(
            own.recorded.fields.get("gen_ai.request.model"),
            Some(&FieldValue::Str("gpt-4o".into()))
        );
        assert_eq!(
            own.recorded.fields.get("attempt"),
            Some(&FieldValue::I64(2))
        );

        let again = pool.take();
        assert!(again.draft.is_empty(), "blank");
        assert_eq!(again.name, "");
        assert!(again.draft.capacity() > 0, "the buffers stay warm");
        assert_eq!(again.session.id, Uuid::nil(), "no real session kept alive");
    }

    #[test]
    fn an_empty_pool_makes_new_spans_and_a_full_one_lets_spans_go() {
        let pool = Pool::default();
        let spans: Vec<_> = (0..SPARE + 10).map(|_| pool.take()).collect();
        for span in spans {
            pool.give(span);
        }
        assert_eq!(pool.take.len(), SPARE);
    }
}
