//! Room set aside for the end of a trace: when a trace starts (a root span, or a span joining a
//! session by id), one span and [`END_BYTES`] of the bounds are reserved for the span that ends
//! it, whose close writes the session's end, outputs and duration. However many spans of other
//! traces close meanwhile, that end is never dropped for room: a session that was admitted gets
//! its end.
//!
//! The end takes its full size when the byte budget has room for it; when it has not, its values
//! are left out (its name, times and session stay, with a note in metadata of what was left out,
//! counted in [`Stats::fields_truncated`](crate::Stats::fields_truncated)) and it goes in the room
//! reserved for it.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::json;

use super::{Bound, Producer, Shared, stats::add};
use crate::recorded::{Bucket, Draft, FinishedSpan};

/// Bytes set aside for a trace's end: a span with its values left out fits in them.
pub(crate) const END_BYTES: usize = std::mem::size_of::<FinishedSpan>() + 512;

/// What a note in a trimmed end says.
const LEFT_OUT: &str = "the values of this span were left out: the exporter's byte budget \
                        (with_queue_bytes) was spent when it closed";

/// The room reserved for a trace's end; given back if the span never gets to use it.
#[derive(Debug)]
pub(crate) struct Reservation {
    shared: Arc<Shared>,
    /// Spans held once it was taken: the exporter's wake-up mark counts it.
    held: usize,
    used: bool,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.used {
            self.shared.release(1, END_BYTES);
        }
    }
}

impl Producer {
    /// Reserves room for the end of a trace starting now, or says by which bound the trace is
    /// turned away: the queue is refilling, or it has no room for one more span.
    pub(crate) fn reserve_end(&self) -> Result<Reservation, Bound> {
        if let Some(bound) = self.turning_away() {
            return Err(bound);
        }
        let shared = &*self.shared;
        let before = shared.held.fetch_add(1, Ordering::AcqRel);
        if before >= shared.capacity {
            shared.held.fetch_sub(1, Ordering::AcqRel);
            shared.mark_filled(Bound::Count);
            return Err(Bound::Count);
        }
        if shared.held_bytes.fetch_add(END_BYTES, Ordering::AcqRel) + END_BYTES > shared.max_bytes {
            shared.release(1, END_BYTES);
            shared.mark_filled(Bound::Bytes);
            return Err(Bound::Bytes);
        }
        Ok(Reservation {
            shared: Arc::clone(&self.shared),
            held: before + 1,
            used: false,
        })
    }

    /// Queues the span that ends a trace in the room reserved for it: never dropped for room.
    pub(crate) fn send_end(&self, mut span: Box<FinishedSpan>, mut reservation: Reservation) {
        let shared = &*self.shared;
        if shared.sending.fetch_add(1, Ordering::SeqCst) & super::queue::CLOSED != 0 {
            shared.sending.fetch_sub(1, Ordering::SeqCst);
            add(&shared.counters.dropped_after_shutdown, 1);
            self.recycle(span);
            return;
        }
        // The reservation's span and bytes are the span's from now on.
        reservation.used = true;
        let held = reservation.held;
        drop(reservation);
        let mut bytes = span.footprint().max(END_BYTES);
        let extra = bytes - END_BYTES;
        if shared.held_bytes.fetch_add(extra, Ordering::AcqRel) + extra > shared.max_bytes {
            shared.held_bytes.fetch_sub(extra, Ordering::AcqRel);
            leave_values_out(&mut span);
            add(&shared.counters.fields_truncated, 1);
            bytes = span.footprint().max(END_BYTES);
            // Its name and a few fixed values: past the reserved room by a few bytes at most.
            shared
                .held_bytes
                .fetch_add(bytes - END_BYTES, Ordering::AcqRel);
        }
        span.held_bytes = bytes;
        self.queue_admitted(span, held);
        shared.sending.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Leaves out what a span recorded, keeping what identifies it (its session, ids, name, times)
/// and a note of what was left out.
fn leave_values_out(span: &mut FinishedSpan) {
    span.draft = Draft::default();
    span.recorded = Default::default();
    span.session_json.clear();
    let note = json!({ "honeyhive.values_left_out": LEFT_OUT });
    span.session_json.push((Bucket::Metadata, note.clone()));
    span.recorded.json.push((Bucket::Metadata, note));
}
