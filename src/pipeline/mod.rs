//! The delivery pipeline, application side: the bounded queue the layer feeds without ever
//! blocking, the counters, and the [`Guard`] that flushes and shuts the exporter down.
//!
//! ```text
//! app threads ── try_send ──▶ crossbeam queue ──▶ queue thread ──▶ exporter thread (tokio)
//!   (layer)       full: drop       (bounded)                         sessions, batches, HTTP
//!                 and count
//! Guard / Handle ── control (flush, shutdown) ──────────────────────▶ exporter thread
//! ```

mod diagnostics;
mod queue;
mod retry;
mod sender;
mod session;
mod stats;
mod worker;

use std::cell::Cell;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{RecvTimeoutError, TrySendError};
use tokio::sync::mpsc;
use tracing::Dispatch;
use tracing::dispatcher::WeakDispatch;

use crate::client::Client;
use crate::recorded::FinishedSpan;
pub(crate) use retry::RetryPolicy;
use stats::{Counters, add};
pub use stats::{Dropped, FlushError, Report, Stats};
pub(crate) use worker::Config as WorkerConfig;

/// Extra wait, past a flush deadline, for the exporter's answer.
const GRACE: Duration = Duration::from_millis(250);

thread_local! {
    static INTERNAL: Cell<bool> = const { Cell::new(false) };
}

/// Marks the current thread as one of the exporter's: the layer ignores everything that happens
/// on it, so the HTTP client's own tracing (hyper, h2) never comes back as spans to send.
pub(crate) fn mark_internal_thread() {
    let _ = INTERNAL.try_with(|internal| internal.set(true));
}

/// Whether the current thread is one of the exporter's.
pub(crate) fn is_internal_thread() -> bool {
    INTERNAL.try_with(Cell::get).unwrap_or(false)
}

/// A flush or shutdown request: settle the spans queued so far, by `deadline`.
#[derive(Debug)]
pub(crate) struct Request {
    /// How many spans were queued when it was made.
    pub(crate) upto: u64,
    pub(crate) deadline: Instant,
    pub(crate) reply: crossbeam_channel::Sender<Report>,
}

/// What the application side asks of the exporter, on a channel of its own so that it never
/// waits behind a full queue.
#[derive(Debug)]
pub(crate) enum Control {
    /// The subscriber the layer was installed in, for the exporter's own messages.
    Register(WeakDispatch),
    Flush(Request),
    Shutdown(Request),
}

/// The layer's end of the pipeline.
#[derive(Debug, Clone)]
pub(crate) struct Producer {
    spans: crossbeam_channel::Sender<Box<FinishedSpan>>,
    control: mpsc::UnboundedSender<Control>,
    counters: Arc<Counters>,
}

impl Producer {
    /// Queues a finished span without blocking; a full queue drops it and counts.
    pub(crate) fn send(&self, span: Box<FinishedSpan>) {
        match self.spans.try_send(span) {
            Ok(()) => add(&self.counters.spans_queued, 1),
            Err(TrySendError::Full(_)) => add(&self.counters.dropped_queue_full, 1),
            Err(TrySendError::Disconnected(_)) => add(&self.counters.dropped_shutdown, 1),
        }
    }

    pub(crate) fn count_truncated(&self, n: u32) {
        add(&self.counters.fields_truncated, u64::from(n));
    }

    pub(crate) fn register(&self, dispatch: &Dispatch) {
        let _ = self.control.send(Control::Register(dispatch.downgrade()));
    }
}

/// Flushes and reads the counters of a running exporter; cheap to clone and share. Shutting down
/// is the [`Guard`]'s.
#[derive(Debug, Clone)]
pub struct Handle {
    control: mpsc::UnboundedSender<Control>,
    counters: Arc<Counters>,
}

impl Handle {
    /// The counters now.
    pub fn stats(&self) -> Stats {
        self.counters.snapshot()
    }

    /// Sends everything queued before this call — sessions still open are created and their
    /// finished events sent — and waits for the answers, at most `timeout`. Blocks the calling
    /// thread; it needs no async runtime.
    ///
    /// Returns the [`Report`] when every span queued before the call was settled (delivered, or
    /// refused for good: see [`Report::failed`]).
    pub fn flush(&self, timeout: Duration) -> Result<Report, FlushError> {
        let (reply, answer) = crossbeam_channel::bounded(1);
        let request = self.request(timeout, reply);
        self.control
            .send(Control::Flush(request))
            .map_err(|_| FlushError::ShutDown)?;
        match answer.recv_timeout(timeout + GRACE) {
            Ok(report) if report.is_complete() => Ok(report),
            Ok(report) => Err(FlushError::Timeout {
                timeout,
                report: Box::new(report),
            }),
            Err(RecvTimeoutError::Disconnected) => Err(FlushError::ShutDown),
            Err(RecvTimeoutError::Timeout) => {
                let stats = self.stats();
                Err(FlushError::Timeout {
                    timeout,
                    report: Box::new(Report {
                        undelivered: stats.pending(),
                        stats,
                        ..Report::default()
                    }),
                })
            }
        }
    }

    fn request(&self, timeout: Duration, reply: crossbeam_channel::Sender<Report>) -> Request {
        Request {
            upto: self.stats().spans_queued,
            deadline: Instant::now() + timeout,
            reply,
        }
    }
}

/// Keeps the exporter running; dropping it flushes what is queued, within the deadline set by
/// [`Builder::with_shutdown_timeout`](crate::layer::Builder::with_shutdown_timeout), and stops it.
///
/// Keep it alive for as long as spans should be sent, typically in `main`:
/// `let (layer, _guard) = …` (not `let (layer, _) = …`, which drops it at once).
#[must_use = "dropping the guard shuts the HoneyHive exporter down: hold it as long as spans should be sent"]
#[derive(Debug)]
pub struct Guard {
    handle: Handle,
    thread: Option<JoinHandle<()>>,
    shutdown_timeout: Duration,
}

impl Guard {
    /// A guard for a layer that sends nothing (`HH_DISABLE_TRACING`).
    pub(crate) fn disabled() -> Self {
        let (control, _) = mpsc::unbounded_channel();
        Guard {
            handle: Handle {
                control,
                counters: Arc::default(),
            },
            thread: None,
            shutdown_timeout: Duration::ZERO,
        }
    }

    /// The counters now.
    pub fn stats(&self) -> Stats {
        self.handle.stats()
    }

    /// See [`Handle::flush`].
    pub fn flush(&self, timeout: Duration) -> Result<Report, FlushError> {
        self.handle.flush(timeout)
    }

    /// A handle to flush and read counters from elsewhere.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Sends everything queued, waits at most `timeout`, and stops the exporter. What is still
    /// undelivered at the deadline is dropped and counted ([`Dropped::shutdown`]); spans that
    /// close afterwards are dropped too. Blocks the calling thread, and is safe inside an async
    /// runtime: the exporter has its own.
    pub fn shutdown(mut self, timeout: Duration) -> Report {
        self.stop(timeout)
    }

    fn stop(&mut self, timeout: Duration) -> Report {
        let Some(thread) = self.thread.take() else {
            return Report {
                stats: self.stats(),
                ..Report::default()
            };
        };
        let (reply, answer) = crossbeam_channel::bounded(1);
        let request = self.handle.request(timeout, reply);
        if self
            .handle
            .control
            .send(Control::Shutdown(request))
            .is_err()
        {
            let _ = thread.join();
            return Report {
                stats: self.stats(),
                ..Report::default()
            };
        }
        match answer.recv_timeout(timeout + GRACE) {
            Ok(mut report) => {
                // The exporter stops right after answering; what it counted while stopping
                // belongs in the report.
                let _ = thread.join();
                report.stats = self.stats();
                report
            }
            Err(_) => {
                let stats = self.stats();
                Report {
                    undelivered: stats.pending(),
                    stats,
                    ..Report::default()
                }
            }
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let timeout = self.shutdown_timeout;
        self.stop(timeout);
    }
}

/// Everything the exporter needs, resolved by the builder.
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    pub(crate) client: Client,
    pub(crate) worker: WorkerConfig,
    pub(crate) retry: RetryPolicy,
    pub(crate) queue_capacity: usize,
    pub(crate) shutdown_timeout: Duration,
    /// A line for the user's log when the exporter starts (`HH_VERBOSE`).
    pub(crate) announce: Option<String>,
}

/// Starts the queue thread and the exporter thread.
pub(crate) fn start(setup: Setup) -> std::io::Result<(Producer, Guard)> {
    let counters = Arc::new(Counters::default());
    let diagnostics = Arc::new(diagnostics::Diagnostics::default());
    let (spans, queue) = crossbeam_channel::bounded(setup.queue_capacity);
    let (control, control_rx) = mpsc::unbounded_channel();
    let (inbound, inbound_rx) = mpsc::channel(1);
    let chunk = queue::chunk_size(setup.queue_capacity);
    let (stop_queue, queue_stopped) = crossbeam_channel::bounded::<()>(0);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .on_thread_start(mark_internal_thread)
        .build()?;
    let queue_counters = Arc::clone(&counters);
    let queue_thread = std::thread::Builder::new()
        .name("honeyhive-queue".into())
        .spawn(move || {
            mark_internal_thread();
            queue::forward(queue, queue_stopped, inbound, chunk, &queue_counters);
        })?;
    let sender = sender::Sender {
        client: setup.client,
        retry: setup.retry,
        counters: Arc::clone(&counters),
        diagnostics: Arc::clone(&diagnostics),
    };
    let worker = worker::Worker::new(
        setup.worker,
        sender,
        Arc::clone(&counters),
        Arc::clone(&diagnostics),
    );
    let announce = setup.announce;
    let exporter = std::thread::Builder::new()
        .name("honeyhive-exporter".into())
        .spawn(move || {
            mark_internal_thread();
            if let Some(line) = announce {
                diagnostics.info("start", || line);
            }
            runtime.block_on(worker.run(inbound_rx, control_rx));
            drop(stop_queue);
            let _ = queue_thread.join();
            runtime.shutdown_timeout(Duration::from_secs(1));
        })?;
    let producer = Producer {
        spans,
        control: control.clone(),
        counters: Arc::clone(&counters),
    };
    let guard = Guard {
        handle: Handle { control, counters },
        thread: Some(exporter),
        shutdown_timeout: setup.shutdown_timeout,
    };
    Ok((producer, guard))
}
