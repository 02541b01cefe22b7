//! What a span holds while it waits to be sent, as the byte budget (`with_queue_bytes`) counts
//! it: the worker's owned copy, each text and list a block of its own, the allocator's overhead
//! per block, the worker's own entries for the span, and an OpenTelemetry span's own seed. An
//! estimate of what the allocator holds, made once when the span is queued, which
//! `tests/memory_budget.rs` holds to the allocator's count.

use std::borrow::Cow;
use std::sync::Arc;

use super::{FieldValue, Fields, FinishedSpan, Recorded, SessionSeed};

/// What the allocator takes for a block beyond the bytes asked for (glibc's `malloc`: an 8-byte
/// header, blocks rounded up to 16), counted once per text and list a span holds, so that the
/// byte budget bounds what the process holds rather than only what it asked for.
pub(crate) const BLOCK_OVERHEAD: usize = 16;

/// What the exporter's worker keeps about a span it holds, beyond the span: its entry in its
/// session's pending list (64 bytes, in a list that grows by doubling), its entry in the ledger
/// of unsettled spans (a B-tree's), and its id in its parent's list of children.
const HELD_ENTRIES: usize = 160;

/// The bytes a text's block takes; none for an empty one, which allocates nothing.
fn text_bytes(text: &String) -> usize {
    match text.capacity() {
        0 => 0,
        capacity => capacity + BLOCK_OVERHEAD,
    }
}

/// The bytes a list's block takes, its room included.
fn list_bytes<T>(list: &Vec<T>) -> usize {
    match list.capacity() {
        0 => 0,
        capacity => capacity * std::mem::size_of::<T>() + BLOCK_OVERHEAD,
    }
}

impl FieldValue {
    /// Bytes it holds beyond its own size.
    fn heap_bytes(&self) -> usize {
        match self {
            FieldValue::Str(s) => text_bytes(s),
            FieldValue::List(items) => {
                list_bytes(items) + items.iter().map(FieldValue::heap_bytes).sum::<usize>()
            }
            _ => 0,
        }
    }
}

impl Fields {
    /// Bytes its list and entries take, names and values.
    fn footprint(&self) -> usize {
        list_bytes(&self.0)
            + self
                .0
                .iter()
                .map(|(name, value)| {
                    let owned = match name {
                        Cow::Owned(name) => text_bytes(name),
                        Cow::Borrowed(_) => 0,
                    };
                    owned + value.heap_bytes()
                })
                .sum::<usize>()
    }
}

impl Recorded {
    /// Bytes what it holds takes, beyond its own size.
    fn footprint(&self) -> usize {
        let texts = [
            &self.event_type,
            &self.event_name,
            &self.otel_name,
            &self.session_id,
            &self.session_name,
            &self.source,
            &self.error,
            &self.otel_status_message,
        ];
        let logs: usize = list_bytes(&self.logs)
            + self
                .logs
                .iter()
                .map(|log| text_bytes(&log.message) + log.fields.footprint())
                .sum::<usize>();
        let json: usize = self
            .json
            .iter()
            .map(|(_, value)| crate::limits::json_size(value))
            .sum();
        self.fields.footprint()
            + texts
                .iter()
                .map(|t| t.as_ref().map_or(0, text_bytes))
                .sum::<usize>()
            + logs
            + json
    }
}

impl SessionSeed {
    /// Bytes its block takes (with the `Arc`'s two counts) and what it holds.
    fn footprint(&self) -> usize {
        let name = match &self.name {
            Cow::Owned(name) => text_bytes(name),
            Cow::Borrowed(_) => 0,
        };
        std::mem::size_of::<SessionSeed>()
            + 2 * std::mem::size_of::<usize>()
            + BLOCK_OVERHEAD
            + name
            + self.source.as_ref().map_or(0, text_bytes)
            + self.fields.footprint()
    }
}

impl FinishedSpan {
    /// About how many bytes the span takes while it waits to be sent: its own block, the text
    /// and entries it holds, and its session's seed when it is the seed's only holder (an
    /// OpenTelemetry span's, derived for it alone). An estimate of what the allocator holds
    /// for it, blocks' overhead included; structured values count their JSON text.
    pub(crate) fn footprint(&self) -> usize {
        let json: usize = self
            .session_json
            .iter()
            .map(|(_, value)| crate::limits::json_size(value))
            .sum();
        let seed = match Arc::strong_count(&self.session) {
            1 => self.session.footprint(),
            _ => 0,
        };
        std::mem::size_of::<FinishedSpan>()
            + BLOCK_OVERHEAD
            + HELD_ENTRIES
            + self.draft.footprint()
            + self.recorded.footprint()
            + json
            + seed
    }
}
