//! [`Builder`]: the layer's settings, their `HH_*` environment variables, and their checks.

use std::marker::PhantomData;
use std::time::Duration;

use tracing::level_filters::LevelFilter;

use super::{HoneyHiveLayer, SessionRoots, Settings};
use crate::client::{Client, ClientBuilder};
use crate::config::{self, EnvLookup};
use crate::error::Error;
use crate::mapping::Mapper;
use crate::pipeline::{self, Guard, RetryPolicy, Setup, WorkerConfig};
use crate::redact::{Hook, Outgoing, Verdict};

/// Default `source` of sessions and events, as HoneyHive's Python SDK.
const DEFAULT_SOURCE: &str = "dev";
/// Default number of events per batch request.
const DEFAULT_BATCH_SIZE: usize = 100;
/// Default longest time an event waits before it is sent.
const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// Default number of finished spans held at once, queued or being sent (and ends of open
/// sessions, whose room is set aside): 10,000 conversations open at once in a chat server, or a
/// turn of 30,000 tool calls, fit. The byte budget, not this, bounds memory.
const DEFAULT_QUEUE_CAPACITY: usize = 32 * 1024;
/// Default bytes the finished spans held at once may take: sized for LLM payloads — 60 model
/// turns of 600 KB each closing together fit, and so do 50 events of the 1 MiB the size policy
/// keeps. It is what memory is bounded by; `BENCHMARKS.md` measures peak RSS against it.
const DEFAULT_QUEUE_BYTES: usize = 64 * 1024 * 1024;
/// The smallest byte budget accepted.
const MIN_QUEUE_BYTES: usize = 64 * 1024;
/// Default time between two tries of an API key the server refused.
const DEFAULT_AUTH_RETRY_INTERVAL: Duration = Duration::from_secs(60);
/// Default time the guard's drop waits for delivery.
const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// Default longest text kept from one field value.
const DEFAULT_MAX_FIELD_BYTES: usize = 256 * 1024;
/// Default number of tracing events kept in a span's metadata.
const DEFAULT_MAX_EVENTS_PER_SPAN: usize = 32;
/// Default number of requests in flight at once.
const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 8;
/// Default time the events of an OpenTelemetry trace wait for its root span.
const DEFAULT_ROOT_WAIT: Duration = Duration::from_secs(10);
/// Default time a request is retried for.
const DEFAULT_MAX_RETRY_TIME: Duration = Duration::from_secs(120);

/// Builds a [`HoneyHiveLayer`] and the [`Guard`] of its exporter, or (feature `opentelemetry`)
/// an OpenTelemetry exporter, `HoneyHiveExporter`: both are set up the same way.
///
/// Every setting resolves once, in [`build`](Self::build): a value given here, else its
/// environment variable (an empty or blank one counts as unset; where several are listed, the
/// first one set), else the default.
///
/// | setting | method | environment | default |
/// |---|---|---|---|
/// | API key | [`with_api_key`](Self::with_api_key) | `HH_INGESTION_API_KEY`, `HH_PROJECT_API_KEY`, `HH_API_KEY` | required, except for a loopback URL |
/// | base URL | [`with_api_url`](Self::with_api_url) | `HH_DATA_PLANE_URL`, `HH_API_URL` | `https://api.dp1.us.honeyhive.ai` |
/// | request timeout | [`with_timeout`](Self::with_timeout) | `HH_API_TIMEOUT` (seconds) | 10 s |
/// | source | [`with_source`](Self::with_source) | `HH_SOURCE` | `dev` |
/// | session name | [`with_session_name`](Self::with_session_name) | `HH_SESSION_NAME` | the root span's name |
/// | project | [`with_project`](Self::with_project) | `HH_PROJECT` | none |
/// | batch size | [`with_batch_size`](Self::with_batch_size) | `HH_BATCH_SIZE` | 100 |
/// | flush interval | [`with_flush_interval`](Self::with_flush_interval) | `HH_FLUSH_INTERVAL` (seconds) | 1 s |
/// | diagnostics at start | [`with_verbose`](Self::with_verbose) | `HH_VERBOSE` | off |
/// | send nothing | [`with_disabled`](Self::with_disabled) | `HH_DISABLE_TRACING` | off |
/// | spans held | [`with_queue_capacity`](Self::with_queue_capacity) | | 32,768 spans |
/// | bytes held | [`with_queue_bytes`](Self::with_queue_bytes) | | 64 MiB |
/// | shutdown deadline | [`with_shutdown_timeout`](Self::with_shutdown_timeout) | | 5 s |
/// | field size | [`with_max_field_bytes`](Self::with_max_field_bytes) | | 256 KiB |
/// | events kept per span | [`with_max_events_per_span`](Self::with_max_events_per_span) | | 32 |
/// | level of events kept | [`with_logs_level`](Self::with_logs_level) | `HH_LOGS_LEVEL` | `info` |
/// | message content sent | [`with_capture_content`](Self::with_capture_content) | `HH_CAPTURE_CONTENT` | on |
/// | redaction hook | [`with_redaction`](Self::with_redaction) | | none |
/// | events of several sessions per request | [`with_cross_session_batches`](Self::with_cross_session_batches) | | off |
/// | requests in flight | [`with_max_concurrent_requests`](Self::with_max_concurrent_requests) | | 8 |
/// | retry budget | [`with_max_retry_time`](Self::with_max_retry_time) | | 120 s |
/// | refused key tried again | [`with_auth_retry_interval`](Self::with_auth_retry_interval) | | 60 s |
/// | session roots (layer only) | `with_session_roots` | | every root span |
/// | wait for a trace's root (exporter only) | `with_root_wait` | | 10 s |
///
/// The API key and the base URL resolve as the [`ClientBuilder`] resolves them, which the layer
/// and the exporter both build on: an ingestion key (`hh_ingst_…`, `HH_INGESTION_API_KEY`) is
/// made for exactly the writes they send and comes before a project key
/// (`HH_PROJECT_API_KEY`, or its older name `HH_API_KEY`); `HH_DATA_PLANE_URL` comes before its
/// older name `HH_API_URL`. A key whose prefix declares a kind it does not have, a fine-grained
/// key that cannot send traces (`hh_fgdp_…`), or anything but an ingestion key in
/// `HH_INGESTION_API_KEY` is refused by `build`, naming the variable and never quoting the key.
#[must_use]
pub struct Builder<T = HoneyHiveLayer> {
    o: Options,
    target: PhantomData<fn() -> T>,
}

impl<T> Default for Builder<T> {
    fn default() -> Self {
        Builder {
            o: Options::default(),
            target: PhantomData,
        }
    }
}

impl<T> Clone for Builder<T> {
    fn clone(&self) -> Self {
        Builder {
            o: self.o.clone(),
            target: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Builder<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder").field("options", &self.o).finish()
    }
}

/// The settings as given, not yet resolved.
#[derive(Debug, Clone, Default)]
struct Options {
    client: ClientBuilder,
    given_client: Option<Client>,
    source: Option<String>,
    session_name: Option<String>,
    project: Option<String>,
    batch_size: Option<usize>,
    flush_interval: Option<Duration>,
    verbose: Option<bool>,
    disabled: Option<bool>,
    queue_capacity: Option<usize>,
    queue_bytes: Option<usize>,
    shutdown_timeout: Option<Duration>,
    session_roots: SessionRoots,
    max_field_bytes: Option<usize>,
    max_events_per_span: Option<usize>,
    max_concurrent_requests: Option<usize>,
    across_sessions: Option<bool>,
    max_retry_time: Option<Duration>,
    auth_retry_interval: Option<Duration>,
    root_wait: Option<Duration>,
    logs_level: Option<LevelFilter>,
    capture_content: Option<bool>,
    hook: Option<Hook>,
}

impl<T> Builder<T> {
    #[cfg(feature = "opentelemetry")]
    pub(crate) fn set_root_wait(&mut self, wait: Duration) {
        self.o.root_wait = Some(wait);
    }

    /// The API key. Default: `HH_INGESTION_API_KEY`, else `HH_PROJECT_API_KEY`, else
    /// `HH_API_KEY`.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.o.client = self.o.client.with_api_key(key);
        self
    }

    /// The base URL of HoneyHive's data plane, or of a local server. Default:
    /// `HH_DATA_PLANE_URL`, else `HH_API_URL`, else `https://api.dp1.us.honeyhive.ai`.
    pub fn with_api_url(mut self, url: impl Into<String>) -> Self {
        self.o.client = self.o.client.with_api_url(url);
        self
    }

    /// The longest wait for one request. Default: `HH_API_TIMEOUT` (seconds), else 10 s.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.o.client = self.o.client.with_timeout(timeout);
        self
    }

    /// Allows plain `http://` to a host that is not loopback. Default: refused.
    pub fn with_allow_insecure_http(mut self, allow: bool) -> Self {
        self.o.client = self.o.client.with_allow_insecure_http(allow);
        self
    }

    /// Sends with this client instead of one built from the settings above (which are then
    /// ignored).
    pub fn with_client(mut self, client: Client) -> Self {
        self.o.given_client = Some(client);
        self
    }

    /// The `source` of every session and event, such as `production`. Default: `HH_SOURCE`,
    /// else `dev`.
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.o.source = Some(source.into());
        self
    }

    /// The name of sessions whose span gives none with `honeyhive.session_name`. Default:
    /// `HH_SESSION_NAME`, else the session's root span name.
    pub fn with_session_name(mut self, name: impl Into<String>) -> Self {
        self.o.session_name = Some(name.into());
        self
    }

    /// The project name. The API key selects the project, so this is only recorded as
    /// `metadata.project` of each session, for the record. Default: `HH_PROJECT`, else none.
    pub fn with_project(mut self, project: impl Into<String>) -> Self {
        self.o.project = Some(project.into());
        self
    }

    /// Events per batch request, 1 to 10 000. Default: `HH_BATCH_SIZE`, else 100.
    pub fn with_batch_size(mut self, size: usize) -> Self {
        self.o.batch_size = Some(size);
        self
    }

    /// The longest time a finished event waits before it is sent; a session's events also go as
    /// soon as a batch is full or the session ends. Default: `HH_FLUSH_INTERVAL` (seconds), else
    /// 1 s.
    pub fn with_flush_interval(mut self, interval: Duration) -> Self {
        self.o.flush_interval = Some(interval);
        self
    }

    /// Logs where spans go when the exporter starts: the URL, the masked key and the setting
    /// the key came from (such as `HH_INGESTION_API_KEY`), never the key. Default:
    /// `HH_VERBOSE`, else off.
    pub fn with_verbose(mut self, verbose: bool) -> Self {
        self.o.verbose = Some(verbose);
        self
    }

    /// Sends nothing: the layer records nothing and no thread starts. Default:
    /// `HH_DISABLE_TRACING`, else off.
    pub fn with_disabled(mut self, disabled: bool) -> Self {
        self.o.disabled = Some(disabled);
        self
    }

    /// The most finished spans held at once: queued, or taken by the exporter and not yet
    /// delivered or given up on. The bound is exact: a span that closes while this many are held
    /// is dropped and counted ([`Dropped::queue_full`](crate::Dropped::queue_full)), and no span
    /// is dropped before it is reached unless the byte budget
    /// ([`with_queue_bytes`](Self::with_queue_bytes)) is spent first.
    ///
    /// Once either bound is reached, traces that start are turned away whole (counted the same
    /// way, span by span, as their spans start) until what is held has drained to three
    /// quarters of both, while the spans of traces already taken keep the room there is. Under
    /// overload whole traces then get through, rather than a scattering of fragments each a
    /// session of its own, and a span turned away costs the application thread no recording.
    /// A load the exporter keeps up with never fills the queue, and loses nothing.
    ///
    /// When a trace starts (a root span, or a span joining a session by id), room for the span
    /// that ends it is set aside, so that an admitted session always gets its end, outputs and
    /// duration: each session open counts one span here until its root closes.
    ///
    /// Default: 32,768 (10,000 conversations open at once fit, with their events); the byte
    /// budget ([`with_queue_bytes`](Self::with_queue_bytes)) is what bounds memory.
    pub fn with_queue_capacity(mut self, capacity: usize) -> Self {
        self.o.queue_capacity = Some(capacity);
        self
    }

    /// The most bytes the finished spans held at once may take (their text, fields and events,
    /// as the exporter's worker holds them, estimated when they are queued with the
    /// allocator's overhead per block), so that memory stays bounded whatever the spans carry.
    /// A span that closes when it would not fit is dropped and counted
    /// ([`Dropped::queue_bytes`](crate::Dropped::queue_bytes)), and so is one larger than the
    /// whole budget. A spent budget turns new traces away as a full queue does
    /// ([`with_queue_capacity`](Self::with_queue_capacity)). At least 64 KiB.
    ///
    /// Values are held at the size the size policy lets them have ([`limits`](crate::limits)):
    /// text is cut to the field limit as it is recorded, and a structured value attached with
    /// [`HoneyHiveSpanExt`](crate::HoneyHiveSpanExt) larger than the 1 MiB event limit is
    /// trimmed as it is attached, so no event is dropped whole for one large value. The end of
    /// a session that was admitted is never dropped for room (see
    /// [`with_queue_capacity`](Self::with_queue_capacity)): when the budget is spent as it
    /// closes, it goes with its ids, name and times but without its values, noted in its
    /// metadata and counted in [`Stats::fields_truncated`](crate::Stats::fields_truncated).
    ///
    /// Default: 64 MiB, sized for LLM payloads (60 model turns of 600 KB each closing together
    /// fit). What the pipeline holds stays within the budget and a few MiB (the spare spans the
    /// layer records into; for the OpenTelemetry exporter, the SDK's own queue): counted by the
    /// allocator with a server that never answers, 2.1 to 2.9 MiB above budgets of 8 and 32 MiB
    /// (`tests/memory_budget.rs`). Beyond that come the events being sent (their encoded
    /// requests, at most `with_max_concurrent_requests` × 4 MiB) and the sessions the exporter
    /// remembers (at most 16,384). Peak RSS under a flood is in `BENCHMARKS.md`.
    pub fn with_queue_bytes(mut self, bytes: usize) -> Self {
        self.o.queue_bytes = Some(bytes);
        self
    }

    /// How long dropping the [`Guard`] waits for delivery. Default: 5 s.
    pub fn with_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.o.shutdown_timeout = Some(timeout);
        self
    }

    /// The longest text kept from one field value, in bytes (at least 64); longer text is cut
    /// with a marker and counted ([`Stats::fields_truncated`](crate::Stats::fields_truncated)).
    /// Default: 256 KiB.
    pub fn with_max_field_bytes(mut self, bytes: usize) -> Self {
        self.o.max_field_bytes = Some(bytes);
        self
    }

    /// Tracing events kept in a span's `metadata.logs`; more are counted in
    /// `metadata.logs_dropped`. Default: 32.
    pub fn with_max_events_per_span(mut self, events: usize) -> Self {
        self.o.max_events_per_span = Some(events);
        self
    }

    /// The most verbose `tracing` events (or OpenTelemetry span events) kept in a span's
    /// `metadata.logs`: LLM and HTTP crates log whole request and response bodies at `DEBUG` and
    /// `TRACE`, which would carry prompts and answers even with their content recording off.
    /// `ERROR` events set the event's error whatever this says. Default: `HH_LOGS_LEVEL`
    /// (`trace`, `debug`, `info`, `warn`, `error` or `off`), else `info`.
    pub fn with_logs_level(mut self, level: LevelFilter) -> Self {
        self.o.logs_level = Some(level);
        self
    }

    /// With `false`, message content never leaves the process: every text in an event's (and
    /// session's) `inputs` and `outputs` — prompts, answers, message contents, tool arguments
    /// and results — is replaced by `[hidden]`, while their structure, roles, tool names and
    /// call ids, models, token counts, timings and errors are kept. Default:
    /// `HH_CAPTURE_CONTENT`, else on.
    pub fn with_capture_content(mut self, capture: bool) -> Self {
        self.o.capture_content = Some(capture);
        self
    }

    /// A function that sees every event, session create and session update before it is sent
    /// — after the mapping, the size policy and [`with_capture_content`](Self::with_capture_content)
    /// — and may change it in place or drop it ([`Verdict::Drop`]; a dropped session takes its
    /// events with it). Dropped spans are counted in
    /// [`Dropped::redacted`](crate::Dropped::redacted). It runs on the exporter's thread, never
    /// the application's; a hook that panics drops what it was shown. See [`crate::redact`].
    pub fn with_redaction(
        mut self,
        hook: impl Fn(Outgoing<'_>) -> Verdict + Send + Sync + 'static,
    ) -> Self {
        self.o.hook = Some(Hook::new(hook));
        self
    }

    /// Sends the events of several sessions together, in `POST /v1/events/batch` requests of up
    /// to the batch size (each event names its session), instead of each session's events on
    /// its own route (`POST /v1/sessions/{id}/events/batch`). Each session is still created
    /// first, and completed after its events. Fewer, fuller requests when sessions are small
    /// (`BENCHMARKS.md` measures both). Default: off.
    pub fn with_cross_session_batches(mut self, across: bool) -> Self {
        self.o.across_sessions = Some(across);
        self
    }

    /// Requests in flight at once (each session's own requests stay in order). Default: 8.
    pub fn with_max_concurrent_requests(mut self, requests: usize) -> Self {
        self.o.max_concurrent_requests = Some(requests);
        self
    }

    /// How long a failing request is retried before its events are given up on. Default: 120 s.
    pub fn with_max_retry_time(mut self, time: Duration) -> Self {
        self.o.max_retry_time = Some(time);
        self
    }

    /// After HoneyHive refuses the API key (401 or 403), the exporter sends nothing — it drops
    /// spans and counts them ([`Dropped::unauthorized`](crate::Dropped::unauthorized)) — except
    /// one probe request this often; sending resumes when a probe is accepted, or at once when
    /// the key is replaced with [`Handle::set_api_key`](crate::Handle::set_api_key).
    /// Default: 60 s.
    pub fn with_auth_retry_interval(mut self, interval: Duration) -> Self {
        self.o.auth_retry_interval = Some(interval);
        self
    }

    /// Every setting resolved and checked; nothing started yet.
    pub(crate) fn resolve(self, env: EnvLookup<'_>) -> Result<Resolved, Error> {
        let max_field_bytes = self.o.max_field_bytes.unwrap_or(DEFAULT_MAX_FIELD_BYTES);
        if max_field_bytes < 64 {
            return Err(Error::config(
                "max_field_bytes",
                "must be at least 64 bytes",
            ));
        }
        let capture_content = match self.o.capture_content {
            Some(capture) => capture,
            None => config::flag(env, "HH_CAPTURE_CONTENT")?.unwrap_or(true),
        };
        let settings = Settings {
            session_roots: self.o.session_roots,
            capture_content,
            session_name: config::env_or(self.o.session_name, env, "HH_SESSION_NAME"),
            max_field_bytes,
            max_events_per_span: self
                .o
                .max_events_per_span
                .unwrap_or(DEFAULT_MAX_EVENTS_PER_SPAN),
            logs_level: match self.o.logs_level {
                Some(level) => level,
                None => match config::env_or(None, env, "HH_LOGS_LEVEL") {
                    Some(text) => text.trim().parse().map_err(|_| {
                        Error::config(
                            "HH_LOGS_LEVEL",
                            format!("`{text}` is not trace, debug, info, warn, error or off"),
                        )
                    })?,
                    None => LevelFilter::INFO,
                },
            },
        };
        let disabled = match self.o.disabled {
            Some(disabled) => disabled,
            None => config::flag(env, "HH_DISABLE_TRACING")?.unwrap_or(false),
        };
        if disabled {
            return Ok(Resolved::Disabled(settings));
        }
        let client = match self.o.given_client {
            Some(client) => client,
            None => self.o.client.build_with_env(env)?,
        };
        let batch_size = match (
            self.o.batch_size,
            config::env_or(None, env, "HH_BATCH_SIZE"),
        ) {
            (Some(size), _) => size,
            (None, Some(text)) => text.trim().parse().map_err(|_| {
                Error::config("HH_BATCH_SIZE", format!("`{text}` is not a whole number"))
            })?,
            (None, None) => DEFAULT_BATCH_SIZE,
        };
        if !(1..=10_000).contains(&batch_size) {
            return Err(Error::config(
                "batch_size (HH_BATCH_SIZE)",
                format!("{batch_size} is not between 1 and 10000"),
            ));
        }
        let flush_interval = match self.o.flush_interval {
            Some(interval) if interval.is_zero() => {
                return Err(Error::config("flush_interval", "must be longer than zero"));
            }
            Some(interval) => interval,
            None => match config::env_or(None, env, "HH_FLUSH_INTERVAL") {
                Some(text) => config::parse_seconds("HH_FLUSH_INTERVAL", &text)?,
                None => DEFAULT_FLUSH_INTERVAL,
            },
        };
        let queue_capacity = self.o.queue_capacity.unwrap_or(DEFAULT_QUEUE_CAPACITY);
        let queue_bytes = self.o.queue_bytes.unwrap_or(DEFAULT_QUEUE_BYTES);
        if queue_bytes < MIN_QUEUE_BYTES {
            return Err(Error::config("queue_bytes", "must be at least 64 KiB"));
        }
        let max_in_flight = self
            .o
            .max_concurrent_requests
            .unwrap_or(DEFAULT_MAX_CONCURRENT_REQUESTS);
        for (field, value) in [
            ("queue_capacity", queue_capacity),
            ("max_concurrent_requests", max_in_flight),
        ] {
            if value == 0 {
                return Err(Error::config(field, "must be at least 1"));
            }
        }
        let verbose = match self.o.verbose {
            Some(verbose) => verbose,
            None => config::flag(env, "HH_VERBOSE")?.unwrap_or(false),
        };
        let announce = verbose.then(|| {
            let key = match client.api_key() {
                Some(key) => format!("API key {} {}", key.masked(), client.key_source()),
                None => "no API key".to_owned(),
            };
            format!(
                "tracing-honeyhive {} sends to {} with {key}",
                env!("CARGO_PKG_VERSION"),
                client.api_url()
            )
        });
        let mapper = Mapper {
            source: config::env_or(self.o.source, env, "HH_SOURCE")
                .unwrap_or_else(|| DEFAULT_SOURCE.to_owned()),
            project: config::env_or(self.o.project, env, "HH_PROJECT"),
            max_field_bytes,
            capture_content,
        };
        let setup = Setup {
            client,
            worker: WorkerConfig {
                batch_size,
                flush_interval,
                max_in_flight,
                root_wait: self.o.root_wait.unwrap_or(DEFAULT_ROOT_WAIT),
                mapper,
                hook: self.o.hook,
                across_sessions: self.o.across_sessions.unwrap_or(false),
            },
            retry: RetryPolicy {
                max_elapsed: self.o.max_retry_time.unwrap_or(DEFAULT_MAX_RETRY_TIME),
                ..RetryPolicy::default()
            },
            capacity: queue_capacity,
            max_bytes: queue_bytes,
            auth_retry_interval: self
                .o
                .auth_retry_interval
                .unwrap_or(DEFAULT_AUTH_RETRY_INTERVAL),
            shutdown_timeout: self.o.shutdown_timeout.unwrap_or(DEFAULT_SHUTDOWN_TIMEOUT),
            announce,
            quiet_threads: false,
        };
        Ok(Resolved::Enabled(settings, Box::new(setup)))
    }
}

/// Settings of the tracing layer alone.
impl Builder<HoneyHiveLayer> {
    /// Which spans start sessions. Default: [`SessionRoots::AllRoots`].
    pub fn with_session_roots(mut self, roots: SessionRoots) -> Self {
        self.o.session_roots = roots;
        self
    }

    /// Resolves the settings against the `HH_*` environment, checks them, and starts the
    /// exporter thread.
    pub fn build(self) -> Result<(HoneyHiveLayer, Guard), Error> {
        self.build_with_env(&config::process_env)
    }

    pub(crate) fn build_with_env(
        self,
        env: EnvLookup<'_>,
    ) -> Result<(HoneyHiveLayer, Guard), Error> {
        match self.resolve(env)? {
            Resolved::Disabled(settings) => {
                Ok((HoneyHiveLayer::new(None, settings), Guard::disabled()))
            }
            Resolved::Enabled(settings, setup) => {
                let (producer, guard) = pipeline::start(*setup)
                    .map_err(|e| Error::config("exporter thread", e.to_string()))?;
                Ok((HoneyHiveLayer::new(Some(producer), settings), guard))
            }
        }
    }
}

/// What the settings resolve to: a layer that sends nothing, or one with its exporter's setup.
#[derive(Debug)]
pub(crate) enum Resolved {
    Disabled(Settings),
    Enabled(Settings, Box<Setup>),
}

#[cfg(test)]
mod tests;
