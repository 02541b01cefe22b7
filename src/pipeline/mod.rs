//! The delivery pipeline, application side: the bounded queue the layer feeds without ever
//! blocking, the counters, and the [`Guard`] that flushes and shuts the exporter down.
//!
//! ```text
//! app threads ── try_send ──▶ crossbeam queue ◀── polled ── exporter thread (tokio)
//!   (layer)       held ≥ capacity:                          sessions, batches, HTTP
//!                 drop and count
//! Guard / Handle ── control (flush, shutdown, key) ──────▶ exporter thread
//! ```
//!
//! The bound is exact: a span is admitted only while fewer than `capacity` spans are held —
//! queued, or taken by the exporter and not yet settled — so the queue never refuses an admitted
//! span, and what the documentation promises is what holds. The same goes for bytes: a span is
//! admitted only if its footprint fits in what the held spans leave of `max_bytes`, so memory is
//! bounded whatever the spans carry. When the exporter stops it closes
//! the queue: a span sent before is on it, counted with the rest; a span closing after is
//! never queued.
//!
//! The application thread never wakes the exporter for a span: the exporter takes spans off the
//! queue on its own timer (sooner while spans keep coming), at once when asked to flush, and
//! when the spans held cross an eighth of the capacity — one message on the control channel
//! (lock-free), so that a burst after a quiet time is taken in before the queue fills rather than
//! at the next tick. No receiver
//! ever parks on the queue, so a send never takes the queue's lock.

mod attempt;
mod diagnostics;
mod gate;
mod job;
mod late;
mod pool;
mod queue;
mod retry;
mod room;
mod sender;
mod session;
mod stats;
mod worker;

use std::cell::Cell;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;
use tokio::sync::mpsc;
use tracing::Dispatch;
use tracing::dispatcher::WeakDispatch;

use crate::client::Client;
use crate::config::ApiKey;
pub(crate) use queue::{Bound, Producer, Shared};
pub(crate) use retry::RetryPolicy;
pub(crate) use room::Reservation;
pub use stats::{Dropped, FlushError, Outcomes, Report, Stats};
pub(crate) use worker::Config as WorkerConfig;

/// Extra wait, past a flush or shutdown deadline, for the exporter's answer: at the deadline it
/// stops sending, then counts what it drops, which for a full queue on a loaded machine took
/// more than the 250 ms this once was (the report was then an estimate, short of the counters).
const GRACE: Duration = Duration::from_secs(1);

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
    /// Send with this key from now on (and try again after a refused one).
    SetApiKey(ApiKey),
    /// The spans held crossed the wake-up mark: take them in now.
    Wake,
}

/// Flushes and reads the counters of a running exporter; cheap to clone and share. Shutting down
/// is the [`Guard`]'s.
#[derive(Debug, Clone)]
pub struct Handle {
    control: mpsc::UnboundedSender<Control>,
    shared: Arc<Shared>,
    /// Where late enrichments are queued; `None` when nothing is sent.
    producer: Option<Producer>,
}

impl Handle {
    /// The counters now.
    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot()
    }

    /// Sends everything queued before this call — sessions still open are created and their
    /// finished events sent, and a span that joined its session by id writes the session's end
    /// — and waits for the answers, at most `timeout`. Blocks the calling thread; it needs no
    /// async runtime.
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
            Err(RecvTimeoutError::Timeout) => Err(FlushError::Timeout {
                timeout,
                report: Box::new(Report::estimate(self.stats())),
            }),
        }
    }

    /// Sends with `key` from now on, for instance after HoneyHive refused the previous one: the
    /// exporter stops sending after a `401` or `403` (it drops spans and counts them in
    /// [`Dropped::unauthorized`]) until a probe is accepted or the key is replaced here. Requests
    /// already in flight finish with the old key.
    ///
    /// A key that is empty or cannot be sent in a header is refused with
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig), and the old key stays.
    pub fn set_api_key(&self, key: impl Into<String>) -> Result<(), crate::Error> {
        let key = ApiKey::new(key);
        if !key.is_sendable() {
            return Err(crate::Error::config(
                "set_api_key",
                "the key is empty or contains characters not allowed in an HTTP header",
            ));
        }
        self.control
            .send(Control::SetApiKey(key))
            .map_err(|_| crate::Error::config("set_api_key", "the exporter is shut down"))
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
                shared: Arc::new(Shared::new(0, 0)),
                producer: None,
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

    /// A handle to flush, read counters and replace the key from elsewhere.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Sends everything queued, waits at most `timeout` (and up to a second more while the
    /// exporter counts what it drops), and stops the exporter. What is still undelivered at the
    /// deadline is dropped and counted ([`Dropped::shutdown`], and
    /// [`Report::undelivered`]); spans that close afterwards are dropped too
    /// ([`Dropped::after_shutdown`]). Blocks the calling thread, and is safe inside an async
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
            Err(_) => Report::estimate(self.stats()),
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
    /// Most spans held at once, queued or in the exporter.
    pub(crate) capacity: usize,
    /// Most bytes they may take.
    pub(crate) max_bytes: usize,
    /// How often a refused key is tried again.
    pub(crate) auth_retry_interval: Duration,
    pub(crate) shutdown_timeout: Duration,
    /// A line for the user's log when the exporter starts (`HH_VERBOSE`).
    pub(crate) announce: Option<String>,
    /// Spans made on the exporter's threads (by its HTTP client, its own `honeyhive.send`) go
    /// nowhere, instead of to the application's subscriber: set for the OpenTelemetry exporter,
    /// whose subscriber may turn them into spans to export.
    pub(crate) quiet_threads: bool,
}

/// Spans and events made on this thread from now on go to no subscriber (the exporter's
/// diagnostics name their own dispatcher).
fn quiet_thread() {
    // The guard would restore the previous default when dropped; the thread keeps this one
    // for its whole life.
    std::mem::forget(tracing::dispatcher::set_default(&Dispatch::none()));
}

/// Starts the exporter thread.
pub(crate) fn start(setup: Setup) -> std::io::Result<(Producer, Guard)> {
    let shared = Arc::new(Shared::new(setup.capacity, setup.max_bytes));
    let diagnostics = Arc::new(diagnostics::Diagnostics::default());
    let (spans, queue) = crossbeam_channel::bounded(setup.capacity);
    let pool = Arc::new(pool::Pool::default());
    let (control, control_rx) = mpsc::unbounded_channel();
    let quiet = setup.quiet_threads;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .on_thread_start(move || {
            mark_internal_thread();
            if quiet {
                quiet_thread();
            }
        })
        .build()?;
    let sender = sender::Sender {
        client: setup.client,
        retry: setup.retry,
        shared: Arc::clone(&shared),
        diagnostics: Arc::clone(&diagnostics),
        gate: Arc::new(gate::Gate::new(setup.auth_retry_interval)),
        requests: Arc::new(tokio::sync::Semaphore::new(setup.worker.max_in_flight)),
    };
    let worker = worker::Worker::new(
        setup.worker,
        sender,
        Arc::clone(&shared),
        Arc::clone(&diagnostics),
        queue,
        Arc::clone(&pool),
    );
    if let Some(line) = setup.announce {
        diagnostics.announce(line);
    }
    let exporter = std::thread::Builder::new()
        .name("honeyhive-exporter".into())
        .spawn(move || {
            mark_internal_thread();
            if quiet {
                quiet_thread();
            }
            runtime.block_on(worker.run(control_rx));
            runtime.shutdown_timeout(Duration::from_secs(1));
        })?;
    let producer = Producer {
        spans,
        pool,
        control: control.clone(),
        shared: Arc::clone(&shared),
    };
    let guard = Guard {
        handle: Handle {
            control,
            shared,
            producer: Some(producer.clone()),
        },
        thread: Some(exporter),
        shutdown_timeout: setup.shutdown_timeout,
    };
    Ok((producer, guard))
}
