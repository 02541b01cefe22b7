//! The queue thread: the hand-over between the crossbeam queue the application threads feed and
//! the exporter's async runtime, in chunks, waiting while the exporter has no room.

use tokio::sync::mpsc;

use super::stats::{Counters, add};
use crate::recorded::FinishedSpan;

/// Spans moved from the queue to the exporter in one hand-over, at most; smaller for a small
/// queue, so that what is held in hand-overs stays a fraction of its capacity.
pub(super) fn chunk_size(capacity: usize) -> usize {
    (capacity / 8).clamp(1, 256)
}

/// The queue thread: moves spans from the crossbeam queue to the exporter in chunks, waiting
/// while the exporter has no room. Stops when the exporter does (what is left in the queue is
/// counted as dropped at shutdown) or when every producer is gone.
pub(super) fn forward(
    queue: crossbeam_channel::Receiver<Box<FinishedSpan>>,
    stopped: crossbeam_channel::Receiver<()>,
    inbound: mpsc::Sender<Vec<FinishedSpan>>,
    chunk: usize,
    counters: &Counters,
) {
    loop {
        crossbeam_channel::select! {
            recv(queue) -> first => {
                let Ok(first) = first else {
                    return;
                };
                let mut spans = Vec::with_capacity(chunk);
                spans.push(*first);
                spans.extend(queue.try_iter().take(chunk - 1).map(|span| *span));
                if let Err(refused) = inbound.blocking_send(spans) {
                    add(&counters.dropped_shutdown, refused.0.len() as u64);
                    break;
                }
            }
            recv(stopped) -> _ => break,
        }
    }
    add(&counters.dropped_shutdown, queue.try_iter().count() as u64);
}
