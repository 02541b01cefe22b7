//! A local HoneyHive-compatible server, for offline development and tests.
//!
//! It implements the ingestion routes of HoneyHive's data plane with the rules of its contract
//! (bearer auth, closed schemas validated with the contract's own JSON Schemas, fallbacks,
//! idempotent session create, update merges, documented error bodies), keeps everything it
//! receives for inspection, and can be told to misbehave: answer with a status and
//! `Retry-After` or an unexpected body, add latency, drop the connection, cut a body short.
//!
//! | route | |
//! |---|---|
//! | `POST /v1/sessions` | create a session (idempotent on `session_id`) |
//! | `POST /v1/sessions/{session_id}/events/batch` | add events to an existing session |
//! | `PUT /v1/events/{event_id}` | update an event or a session |
//! | `POST /session/start` | deprecated session create (`session` object or JSON string) |
//! | `POST /v1/events/batch` | events of any sessions, or of one new session |
//! | `GET /v1/sessions/{session_id}` | the session as a tree of events |
//! | `PUT /events`, `POST /events/batch` | deprecated forms the official SDKs still send |
//! | `POST /opentelemetry/v1/traces`, `POST /v1/traces` | OTLP/HTTP traces, protobuf or JSON |
//! | `GET /`, `GET /api/…` | the web view: the sessions in a browser, live ([`Emulator::view_url`]) |
//!
//! It runs on its own thread with its own tokio runtime, so it starts the same from a plain
//! `main`, a test, or inside any runtime, and stops when the handle is dropped.
//!
//! # Deeply nested JSON
//!
//! HoneyHive's API (Node.js) accepts JSON nested to any depth; serde_json refuses by default to
//! parse past 128 levels. The local server accepts every body nested up to [`MAX_JSON_DEPTH`]
//! levels (16,384, counting the body's own object), so any field can hold a value nested more
//! than 16,000 levels, and answers a deeper body 400 with a message naming the limit. It counts
//! the depth in one pass over the bytes before parsing, then parses without serde_json's
//! recursion limit.
//!
//! serde_json parses, clones, compares, serialises and drops a value recursively, a stack frame
//! or more per level: a value nested 10,000 levels takes several MiB of stack, more than the
//! 2 MiB of a test thread. The server does this work on its own thread, whose stack is large
//! enough for [`MAX_JSON_DEPTH`]. Once it has stored a value nested deeper than 128 levels,
//! [`Emulator::events`], [`Emulator::tree`] and the other accessors clone on such a thread too,
//! and it drops what it stored on one when it stops or is [cleared](Emulator::clear). What an
//! accessor returns is the caller's to drop: a caller that reads values nested deeper than a few
//! hundred levels should handle and drop them on a thread with a large stack
//! ([`std::thread::Builder::stack_size`]).
//!
//! ```
//! use tracing_honeyhive::emulator::{Emulator, Fault};
//!
//! let server = Emulator::builder().with_api_key("hh_test").start()?;
//! server.inject(Fault::status(503).with_retry_after("1").times(2));
//! println!("point HH_API_URL at {}", server.url());
//! assert!(server.sessions().is_empty());
//! # Ok::<(), std::io::Error>(())
//! ```

mod fault;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
mod json;
mod otlp;
mod requests;
mod routes;
pub(crate) mod schema;
mod server;
mod store;
mod waterfall;
mod web;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::{oneshot, watch};

use crate::wire::{EventRecord, SessionTree};
pub use fault::Fault;
use fault::FaultKind;
pub use json::MAX_JSON_DEPTH;
pub use otlp::{HONEYHIVE_TRACES_PATH, OTLP_TRACES_PATH};
pub use requests::{RecordedRequest, SettledSession};
use store::Store;
pub use waterfall::waterfall;

/// Default largest request body, 32 MiB; a larger one is answered 413.
pub const DEFAULT_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// A running local server. Dropping it stops the server.
pub struct Emulator {
    addr: SocketAddr,
    otlp_addr: Option<SocketAddr>,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Settings of an [`Emulator`].
#[derive(Debug, Clone)]
#[must_use]
pub struct Builder {
    api_key: Option<String>,
    key_refusal: KeyRefusal,
    addr: SocketAddr,
    otlp_addr: Option<SocketAddr>,
    body_limit: usize,
}

/// How the server answers a request whose API key it refuses (see
/// [`Builder::with_key_refusal`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyRefusal {
    /// `401` with `"Invalid API key"` or `"Missing Authorization header"`: the classic answer,
    /// which says what is wrong.
    #[default]
    Unauthorized,
    /// `404` with `"Not found"`, as HoneyHive answers an invalid, revoked or expired key, or one
    /// without the permission, since 2026 (its CLI's changelog, 1.7.0): the answer does not say
    /// which case applies, nor that the key is the cause.
    NotFound,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            api_key: None,
            key_refusal: KeyRefusal::default(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            otlp_addr: None,
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }
}

impl Builder {
    /// Requires `Authorization: Bearer <key>` on every route (401 otherwise). Default: no key is
    /// required.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// How a refused key is answered: `401` ([`KeyRefusal::Unauthorized`], the default) or
    /// `404` as HoneyHive answers it today ([`KeyRefusal::NotFound`]).
    pub fn with_key_refusal(mut self, refusal: KeyRefusal) -> Self {
        self.key_refusal = refusal;
        self
    }

    /// The address to listen on. Default: `127.0.0.1:0`, a free port.
    pub fn with_addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// A second address to listen on, with the same routes: OTLP exporters send to
    /// `127.0.0.1:4318` unless told otherwise. Default: none.
    pub fn with_otlp_addr(mut self, addr: SocketAddr) -> Self {
        self.otlp_addr = Some(addr);
        self
    }

    /// The largest request body accepted, in bytes. Default: [`DEFAULT_BODY_LIMIT`].
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Binds the address and starts serving on a background thread.
    pub fn start(self) -> std::io::Result<Emulator> {
        let listener = std::net::TcpListener::bind(self.addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let mut listeners = vec![listener];
        let mut otlp_addr = None;
        if let Some(second) = self.otlp_addr {
            let listener = std::net::TcpListener::bind(second)?;
            listener.set_nonblocking(true)?;
            otlp_addr = Some(listener.local_addr()?);
            listeners.push(listener);
        }
        let addrs: Vec<SocketAddr> = listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect();
        let shared = Arc::new(Shared {
            access: web::Access::new(self.api_key.as_deref(), &addrs),
            live: watch::Sender::new(0),
            api_key: self.api_key,
            key_refusal: self.key_refusal,
            body_limit: self.body_limit,
            state: Mutex::default(),
            changed: Condvar::new(),
            url: format!("http://{addr}"),
            otlp: Mutex::new(None),
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop, stopped) = oneshot::channel();
        let served = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("honeyhive-emulator".into())
            .stack_size(json::STACK_SIZE)
            .spawn(move || runtime.block_on(server::serve(listeners, served, stopped)))?;
        Ok(Emulator {
            addr,
            otlp_addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

pub(crate) struct Shared {
    api_key: Option<String>,
    key_refusal: KeyRefusal,
    body_limit: usize,
    state: Mutex<State>,
    changed: Condvar,
    /// The server's own URL: where the OTLP ingest's exporter sends.
    url: String,
    /// The OTLP ingest's exporter, started by the first OTLP request (`Err` when it could not
    /// start).
    otlp: Mutex<Option<Result<Arc<otlp::Sink>, String>>>,
    /// Who may read the web view.
    access: web::Access,
    /// The store's revision after each request: the web view's live stream waits on it.
    live: watch::Sender<u64>,
}

#[derive(Default)]
pub(crate) struct State {
    store: Store,
    requests: Vec<RecordedRequest>,
    faults: VecDeque<Fault>,
    latency: Duration,
}

impl Shared {
    /// The state; a panic elsewhere while it was held does not make it unusable.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The next fault that applies to `path`, consuming one of its uses.
    fn take_fault(&self, path: &str) -> Option<FaultKind> {
        let mut state = self.lock();
        let i = state
            .faults
            .iter()
            .position(|f| f.path_prefix.as_deref().is_none_or(|p| path.starts_with(p)))?;
        let fault = &mut state.faults[i];
        let kind = fault.kind.clone();
        fault.times = fault.times.saturating_sub(1);
        if fault.times == 0 {
            state.faults.remove(i);
        }
        Some(kind)
    }

    /// `read(state)`, on a thread with a large stack when the store holds values too deep for an
    /// ordinary one: serde_json clones recursively.
    fn read<T: Send>(&self, read: impl FnOnce(&State) -> T + Send) -> T {
        let state = self.lock();
        if state.store.deepest() <= json::SHALLOW_DEPTH {
            read(&state)
        } else {
            let state = &*state;
            json::on_large_stack(|| read(state))
        }
    }

    fn record(&self, request: RecordedRequest) {
        let revision = {
            let mut state = self.lock();
            state.requests.push(request);
            state.store.revision()
        };
        self.changed.notify_all();
        self.live
            .send_if_modified(|seen| std::mem::replace(seen, revision) != revision);
    }
}

impl Emulator {
    /// A builder: no API key required, a free port on `127.0.0.1`.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The base URL, such as `http://127.0.0.1:41234`, for `HH_API_URL` or `with_api_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address of the web view, where a browser shows the sessions received, live. When the
    /// server requires an API key or listens beyond loopback, the view requires a token, which
    /// this link carries: treat it as a secret.
    ///
    /// ```
    /// use tracing_honeyhive::emulator::Emulator;
    ///
    /// let open = Emulator::builder().start()?; // loopback, no key: no token
    /// assert_eq!(open.view_url(), format!("{}/", open.url()));
    ///
    /// let keyed = Emulator::builder().with_api_key("hh_local").start()?;
    /// let link = keyed.view_url(); // http://127.0.0.1:PORT/?token=…
    /// assert!(link.contains("/?token=") && !link.contains("hh_local"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn view_url(&self) -> String {
        format!("http://{}/{}", self.addr, self.shared.access.link_query())
    }

    /// The second address the server listens on ([`Builder::with_otlp_addr`]), if any.
    pub fn otlp_addr(&self) -> Option<SocketAddr> {
        self.otlp_addr
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues a fault; faults apply in the order they were injected.
    pub fn inject(&self, fault: Fault) {
        if fault.times > 0 {
            self.shared.lock().faults.push_back(fault);
        }
    }

    /// Removes every queued fault and the latency.
    pub fn clear_faults(&self) {
        let mut state = self.shared.lock();
        state.faults.clear();
        state.latency = Duration::ZERO;
    }

    /// Delays every answer by `latency` from now on.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.lock().latency = latency;
    }

    /// Every session, in creation order.
    pub fn sessions(&self) -> Vec<EventRecord> {
        self.records(|e| e.event_type.as_deref() == Some("session"))
    }

    /// The session `session_id`.
    pub fn session(&self, session_id: &str) -> Option<EventRecord> {
        self.shared
            .read(|state| state.store.session(session_id).cloned())
    }

    /// Every event that is not a session, in arrival order.
    pub fn events(&self) -> Vec<EventRecord> {
        self.records(|e| e.event_type.as_deref() != Some("session"))
    }

    /// The events of one session (not the session itself), in arrival order.
    pub fn events_of(&self, session_id: &str) -> Vec<EventRecord> {
        self.shared
            .read(|state| state.store.events_of(session_id).cloned().collect())
    }

    /// The session as `GET /v1/sessions/{session_id}` returns it.
    pub fn tree(&self, session_id: &str) -> Option<SessionTree> {
        self.shared.read(|state| state.store.tree(session_id))
    }

    /// Every session received, each as a [`waterfall`], in the order they were created.
    pub fn waterfalls(&self) -> String {
        self.sessions()
            .into_iter()
            .filter_map(|session| self.tree(session.session_id.as_deref()?))
            .map(|tree| waterfall(&tree))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// How many events arrived again under a (session, event) id already stored.
    pub fn repeated_events(&self) -> u64 {
        self.shared.lock().store.repeats()
    }

    /// Forgets every session, event and request (faults stay).
    pub fn clear(&self) {
        let store = {
            let mut state = self.shared.lock();
            state.requests.clear();
            std::mem::take(&mut state.store)
        };
        dispose(store);
    }

    fn records(&self, keep: impl Fn(&EventRecord) -> bool + Sync) -> Vec<EventRecord> {
        self.shared.read(|state| {
            let records = state.store.all().iter();
            records.filter(|e| keep(e)).cloned().collect()
        })
    }
}

/// Drops `store`, on a thread with a large stack if it holds deep values: serde_json drops
/// values recursively.
fn dispose(store: Store) {
    if store.deepest() > json::SHALLOW_DEPTH {
        json::on_large_stack(move || drop(store));
    }
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .field("requires_key", &self.shared.api_key.is_some())
            .finish_non_exhaustive()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // The OTLP ingest's exporter delivers what it holds while the server still answers.
        let sink = self.shared.otlp.lock().map(|mut s| s.take()).ok().flatten();
        drop(sink);
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let store = std::mem::take(&mut self.shared.lock().store);
        dispose(store);
    }
}
