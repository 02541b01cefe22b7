//! Ship [`tracing`](https://docs.rs/tracing) spans from Rust LLM applications to
//! [HoneyHive](https://www.honeyhive.ai), an LLM-observability service.
//!
//! Add [`HoneyHiveLayer`] to a `tracing_subscriber` registry: every session root span becomes a
//! HoneyHive **session**, and every span below it an **event** of type `model`, `tool` or
//! `chain`, with its parent, times, inputs, outputs, config, metadata, metrics, feedback, user
//! properties and error. The application thread only records; a background exporter thread
//! sends in batches, retries, and reports what it could not deliver.
//!
//! Services that trace with OpenTelemetry use `otel::HoneyHiveExporter` (feature
//! `opentelemetry`) instead, a `SpanExporter` that feeds the same pipeline through the same
//! mapping: each trace becomes a session.
//!
//! # Quick start
//!
//! ```
//! use std::time::Duration;
//! use tracing_subscriber::prelude::*;
//! use tracing_honeyhive::HoneyHiveLayer;
//! # #[cfg(feature = "emulator")] {
//! # let server = tracing_honeyhive::emulator::Emulator::builder().start().unwrap();
//! # let builder = HoneyHiveLayer::builder().with_api_url(server.url());
//!
//! // HH_INGESTION_API_KEY (or HH_PROJECT_API_KEY), HH_DATA_PLANE_URL, HH_SOURCE, … configure
//! // it; see the builder for every setting.
//! # /*
//! let (layer, guard) = HoneyHiveLayer::builder().build()?;
//! # */
//! # let (layer, guard) = builder.build()?;
//! let subscriber = tracing_subscriber::registry()
//!     .with(layer)
//!     .with(tracing_subscriber::fmt::layer());
//! # let _ = tracing::subscriber::with_default(subscriber, || {
//! # /*
//! subscriber.init();
//! # */
//!
//! // A session with a model call inside it.
//! let turn = tracing::info_span!("support chat", inputs.question = "Where is my order?");
//! let _turn = turn.enter();
//! let llm = tracing::info_span!(
//!     "chat completion",
//!     gen_ai.request.model = "gpt-4o-mini",   // → config.model, and the type `model`
//!     gen_ai.usage.input_tokens = 41,         // → metadata.prompt_tokens
//!     outputs.content = "It shipped yesterday.",
//! );
//! drop(llm.enter());
//! # drop(_turn);
//! # });
//!
//! // At the end of main: dropping the guard delivers what is queued, within 5 s by default.
//! drop(guard);
//! # assert_eq!(server.sessions().len(), 1);
//! # assert_eq!(server.events()[0].event_type.as_deref(), Some("model"));
//! # }
//! # Ok::<(), tracing_honeyhive::Error>(())
//! ```
//!
//! To try it without a HoneyHive account, run the crate's example, which starts the local
//! HoneyHive-compatible server ([`emulator`], feature `emulator`) when no API key is set:
//! `cargo run --example quickstart --features emulator`.
//!
//! # From spans to sessions and events
//!
//! | span | HoneyHive |
//! |---|---|
//! | a root span (see [`SessionRoots`] to choose others) | a session: `session_id` (a new UUIDv4), `session_name`, `start_time`, `end_time`, `duration`, `inputs`, `outputs`, `config`, `metadata`, `user_properties`, `metrics`, `feedback`, `children_ids` |
//! | a span below it | an event: `event_id` (UUIDv4), `session_id`, `parent_id` (the parent span's event, or the session), `children_ids`, `event_type`, `event_name`, `source`, `start_time`/`end_time` (integer Unix ms), `duration` (ms), the seven objects and `error` |
//! | a span with `honeyhive.session_id = <uuid or key>` | an event of that session, which is created if it does not exist: several requests of one conversation become one session (a key that is not a UUID names a session id derived from it, see [`ids`]) |
//! | a span with `honeyhive.session_id` and `honeyhive.parent_id = <event uuid>` | an event of that session under that event: a request's handler joining the caller's session ([`propagation`]) |
//! | a span outside any session | nothing |
//! | a tracing event inside a span | `metadata.logs` of the span's event (level, message, fields, time), at most 32; an `ERROR` event sets `error` |
//!
//! An event's **type** is `honeyhive.event_type` when given (`model`, `tool` or `chain`), else
//! what its `gen_ai.*` fields imply (`gen_ai.operation.name` `chat`, `text_completion`,
//! `generate_content`, `embeddings` → `model`; `execute_tool` → `tool`; `invoke_agent` →
//! `chain`; else `gen_ai.request.model` → `model`, `gen_ai.tool.name` → `tool`), else `chain`.
//! Its **name** is `honeyhive.event_name`, else `otel.name`, else the conventional name of a
//! GenAI span named only by its operation (below), else the span's name.
//!
//! A session's **name** is `honeyhive.session_name`, else the agent's name for an agent's run
//! (`invoke_agent`), else `HH_SESSION_NAME` or
//! [`with_session_name`](layer::Builder::with_session_name), else the root span's name. Its
//! fields come from the root span; a session has no `error` of its own, so the root's error is
//! kept as `metadata.error`.
//!
//! **Fields** route by prefix, and keep their JSON type (integers, floats and booleans stay
//! numbers and booleans; `?` and `%` values are their text). Values recorded later with
//! [`Span::record`](tracing::Span::record) count.
//!
//! | field | goes to |
//! |---|---|
//! | `inputs.question` (and `outputs.*`, `config.*`, `metadata.*`, `metrics.*`, `feedback.*`, `user_properties.*`) | `inputs["question"]` |
//! | `error`, `otel.status_message` with `otel.status_code = "ERROR"` | `error` |
//! | `gen_ai.*` | HoneyHive's names, below |
//! | `honeyhive.*` control fields, `otel.name`, `otel.kind` | nothing: they steer the mapping (see [`fields`]) |
//! | anything else | `metadata` under its full name |
//!
//! | OpenTelemetry GenAI field | HoneyHive |
//! |---|---|
//! | `gen_ai.request.model` | `config.model` |
//! | `gen_ai.provider.name`, `gen_ai.system` | `config.provider` |
//! | any other `gen_ai.request.<name>` (`temperature`, `top_p`, `max_tokens`, `stream`, …) | `config.<name>` |
//! | `gen_ai.tool.definitions` (JSON text) | `config.tools` |
//! | `gen_ai.usage.input_tokens`, `gen_ai.usage.output_tokens` | `metadata.prompt_tokens`, `metadata.completion_tokens`, and their sum as `metadata.total_tokens` |
//! | `gen_ai.usage.cache_read.input_tokens`, `gen_ai.usage.cache_write.input_tokens`, `gen_ai.usage.reasoning.output_tokens` (and their older spellings, `cache_creation` among them) | `metadata.cache_read_input_tokens`, `metadata.cache_write_input_tokens`, `metadata.reasoning_tokens` |
//! | `gen_ai.response.model`, `gen_ai.response.id`, `gen_ai.response.finish_reasons` | `metadata.response_model`, `metadata.response_id`, `metadata.finish_reasons` |
//! | `gen_ai.operation.name`, `gen_ai.agent.name`, `gen_ai.conversation.id` | `metadata.operation`, `metadata.agent_name`, `metadata.conversation_id` |
//! | `gen_ai.tool.name`, `gen_ai.tool.description`, `gen_ai.tool.call.id` | `config.tool_name`, `config.tool_description`, `metadata.tool_call_id` |
//! | `gen_ai.tool.call.arguments`, `gen_ai.tool.call.result` (JSON text is parsed) | `inputs.arguments`, `outputs.result`; `gen_ai.tool.call.outcome = error` or a `gen_ai.tool.error.type` sets `error` |
//! | `gen_ai.input.messages` (JSON text), `gen_ai.prompt` | `inputs.chat_history`, OpenAI-shaped (`role`, `content`, `tool_calls`, `role: tool` messages); plain text is one `user` message |
//! | `gen_ai.system_instructions` | the leading `system` message of `inputs.chat_history`, unless it is there already |
//! | `gen_ai.output.messages` (JSON text), `gen_ai.completion` | `outputs.messages`, and for a single message `outputs.role`, `outputs.content`, `outputs.tool_calls`, `outputs.finish_reason`; plain text is `outputs.content` |
//! | other `gen_ai.*` | `metadata` under the full name |
//!
//! A GenAI span whose name is only its operation (`chat`, `execute_tool`, `invoke_agent`, as LLM
//! crates name them) is named as the conventions say: `chat gpt-4o-mini`, `execute_tool lookup`,
//! `invoke_agent support`; a root `invoke_agent` span is a session named after the agent. With an
//! error status and no message, the `error.type` attribute is the error.
//!
//! **Structured values** — chat message lists, tool arguments, documents — attach without
//! string escaping through [`HoneyHiveSpanExt`]: `span.set_inputs(json!({...}))`,
//! `span.enrich(...)`, and `span.enrich_session(...)` for the whole session.
//!
//! **The application's own functions** — plan, retrieve, call a tool, answer — are traced with
//! [`#[trace]`](macro@trace) (feature `macros`, on by default): the body runs in a span, the
//! arguments land in `inputs`, the result in `outputs.result`, an `Err` or a panic in `error` on
//! the same event; [`traced!`](macro@traced) does the same for a closure, an async block or a
//! stream. See [`traced`](mod@traced).
//!
//! **Distributed sessions** — a chain of services, Rust, Python or TypeScript, recording one
//! session — go through [`propagation`]: `SessionContext::current().inject(&mut headers)` puts
//! the current session and event in an outgoing request's W3C `baggage` header, under the names
//! HoneyHive's SDKs read, and `SessionContext::extract(&headers)` gives the handler's span
//! what it needs to join it; `propagation::inject_context` and `extract_context` do the same,
//! with `traceparent`, for OpenTelemetry.
//!
//! # Normalisations
//!
//! Bad input never panics and is never lost silently:
//!
//! - text longer than 256 KiB ([`with_max_field_bytes`](layer::Builder::with_max_field_bytes))
//!   is cut with a `…[truncated N bytes]` marker, counted in [`Stats::fields_truncated`];
//! - `NaN` and `±inf`, which JSON cannot hold, are sent as the strings `"NaN"`, `"inf"`,
//!   `"-inf"`;
//! - an `i128` or `u128` that fits 64 bits is a JSON number; beyond that it is sent as its
//!   decimal text (`"340282366920938463463374607431768211455"`), which no JSON reader rounds;
//! - a structured value nested deeper than 64 levels is cut there, and an event larger than
//!   1 MiB is trimmed, largest values first (see [`limits`]);
//! - a `honeyhive.session_id` that is not a UUID joins the session whose id is derived from it
//!   ([`ids::session_id_for_key`]: `uuid5(NAMESPACE_URL, key)`, as HoneyHive's SDKs derive it,
//!   so the same key names the same session in every process and language) and is kept as
//!   `metadata["honeyhive.session_key"]` on the span and on its session; a `honeyhive.event_type` that is not `model`,
//!   `tool` or `chain` is ignored and kept as `metadata["honeyhive.invalid_event_type"]`;
//! - a value that is not a JSON object given for `inputs`, `outputs`, … is kept under the key
//!   `"value"`;
//! - inputs recorded on a long session's root after the session was created cannot be updated on
//!   HoneyHive: they are kept as `metadata.inputs` of its final update.
//!
//! # Environment variables
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `HH_INGESTION_API_KEY` | API key, sent as `Authorization: Bearer`: an ingestion key (`hh_ingst_…`), made for exactly the writes this crate sends | none |
//! | `HH_PROJECT_API_KEY` | API key when `HH_INGESTION_API_KEY` is unset: a project key | none |
//! | `HH_API_KEY` | the older name of `HH_PROJECT_API_KEY`, read last | none; a key is required unless the URL is loopback |
//! | `HH_DATA_PLANE_URL` | base URL of the data plane | `https://api.dp1.us.honeyhive.ai` |
//! | `HH_API_URL` | the older name of `HH_DATA_PLANE_URL`, read after it | |
//! | `HH_API_TIMEOUT` | per-request timeout, in seconds | 10 |
//! | `HH_SOURCE` | `source` of sessions and events | `dev` |
//! | `HH_SESSION_NAME` | name of sessions that give none | the root span's name |
//! | `HH_PROJECT` | recorded as `metadata.project` of sessions (the API key selects the project) | none |
//! | `HH_BATCH_SIZE` | events per batch request | 100 |
//! | `HH_FLUSH_INTERVAL` | longest wait of an event before it is sent, in seconds | 1 |
//! | `HH_VERBOSE` | log the URL and masked key when the exporter starts | off |
//! | `HH_DISABLE_TRACING` | send nothing, start nothing | off |
//! | `HH_LOGS_LEVEL` | the most verbose events kept in `metadata.logs` (`trace` … `error`, `off`) | `info` |
//! | `HH_CAPTURE_CONTENT` | send message content (prompts, answers, tool arguments and results) | on |
//!
//! A value given to a builder wins over the variable; an empty or blank variable counts as
//! unset. The key is `with_api_key`, else `HH_INGESTION_API_KEY`, else `HH_PROJECT_API_KEY`,
//! else `HH_API_KEY`, trimmed; the URL is `with_api_url`, else `HH_DATA_PLANE_URL`, else
//! `HH_API_URL` — the order of HoneyHive's TypeScript SDK and CLI, and of the `honeyhive`
//! command line ([`config::resolve_api_key`]). A key whose prefix declares a kind it does not
//! have (a cut `hh_ingst_` key), a fine-grained key, which cannot send traces (`hh_fgdp_…`), or
//! anything but an ingestion key in `HH_INGESTION_API_KEY` is refused by `build()`, naming the
//! variable and never quoting the key.
//!
//! # Privacy
//!
//! - **Logs.** Only events at `HH_LOGS_LEVEL` (`info` by default) and above are kept in
//!   `metadata.logs`: LLM and HTTP crates log whole request and response bodies at `DEBUG` and
//!   `TRACE`. An `ERROR` event sets the event's error whatever the level.
//! - **Content.** With [`with_capture_content(false)`](layer::Builder::with_capture_content)
//!   every text in inputs and outputs is replaced by `[hidden]`; roles, tool names and call ids,
//!   finish reasons, models, token counts, timings and errors still arrive.
//! - **Redaction.** [`with_redaction`](layer::Builder::with_redaction) runs a function of yours
//!   on every event, session create and session update before it is sent; it may change it or
//!   drop it ([`redact`], counted in [`Dropped::redacted`]).
//!
//! # Delivery
//!
//! - **The application never waits.** Callbacks copy field values; a closing span is handed to
//!   a bounded queue with `try_send`, which never blocks and takes no lock; the exporter is
//!   woken only when an eighth of the capacity is held, else it looks on its own timer. At most
//!   [`with_queue_capacity`](layer::Builder::with_queue_capacity) spans (32,768), taking at most
//!   [`with_queue_bytes`](layer::Builder::with_queue_bytes) (64 MiB), are held, queued or being
//!   sent: those bounds are exact, and a span that closes beyond them is dropped and
//!   counted ([`Dropped::queue_full`], [`Dropped::queue_bytes`]). A slow or unreachable server costs the application
//!   nothing.
//! - **Sessions first, events in batches.** The exporter thread, with its own tokio runtime,
//!   creates each session (`POST /v1/sessions`) before any of its events, and sends events in
//!   batches of `HH_BATCH_SIZE` (and at most 4 MiB), at most `HH_FLUSH_INTERVAL` late. A short
//!   session goes complete in one create; a long one is created with its first events and its
//!   end state (outputs, metrics, end time, duration) is written when its root closes
//!   (`PUT /v1/events/{id}`).
//! - **Retries.** Transport errors, timeouts, 408, 429 and 5xx are retried with exponential
//!   backoff and jitter for up to two minutes. `Retry-After` (seconds or an HTTP date) is a
//!   floor on the backoff, never a replacement, and a 429 or 503 that carries it pauses every
//!   request to the host, not only the one answered. A batch answered 404 re-creates its session
//!   (creation is idempotent) and is sent again. A batch answered 400, 413 or 422 is split until
//!   the refused events stand alone: the others land, and each refusal is reported with the
//!   server's message and the event's id. A 2xx whose body is not the documented JSON is taken
//!   as accepted, and said.
//! - **A refused key stops sending.** After a 401 or 403 the exporter says so once, naming where
//!   the key came from (never the key), and sends nothing: spans are dropped and counted
//!   ([`Dropped::unauthorized`]) but for one probe request every
//!   [`with_auth_retry_interval`](layer::Builder::with_auth_retry_interval) (60 s). Sending
//!   resumes when a probe is accepted, or at once after [`Handle::set_api_key`].
//! - **Sizes are bounded, never refused whole.** A field's text is cut at 256 KiB, an event is
//!   trimmed to 1 MiB (largest values first, each replaced by a marker naming its size), a
//!   structured value keeps 64 levels of nesting, a `children_ids` list keeps 1000 ids (the rest
//!   are counted in `metadata["honeyhive.children_ids_omitted"]`; every event names its parent);
//!   every cut counts in [`Stats::fields_truncated`]. See [`limits`].
//! - **Flush and shutdown.** [`Guard::flush`] and [`Guard::shutdown`] send what was queued
//!   before them and say what was delivered and what was not, for sessions and events apart
//!   ([`Report`]); dropping the [`Guard`] shuts down within a deadline. Both block the calling
//!   thread, and are safe inside any async runtime.
//! - **Everything is counted, exactly.** [`Guard::stats`] gives [`Stats`]: every span produced
//!   is delivered, refused, failed or dropped by reason, or still pending —
//!   `produced = delivered + refused + failed + dropped + pending` on every path, shutdown
//!   included. The exporter's own messages (refusals, drops, failures) are `tracing` events with
//!   target `tracing_honeyhive`, sent to the subscriber the layer is in: they reach the
//!   application's own log. Messages of one kind are given at most every ten seconds; those held
//!   back are summarised (their count and the last one) once the interval has passed, and at
//!   shutdown at the latest.
//! - **The key stays secret.** It is redacted in every `Debug`, never logged (even when a server
//!   echoes it back: anything quoting a server is redacted), sent only to the configured host
//!   (no redirect is followed), and plain `http://` to a host that is not loopback is refused
//!   unless allowed. TLS is rustls.
//! - **No feedback loop.** The layer ignores whatever happens on the exporter's threads, so the
//!   HTTP client's own tracing (hyper, h2) never becomes spans to send.
//!
//! # The client and the local server
//!
//! [`Client`] is a typed async client of HoneyHive's ingestion endpoints, configured the same
//! way, with [`Error`]s a caller can act on. [`emulator::Emulator`] (feature `emulator`) is a
//! local HoneyHive-compatible server that enforces the API's contract, keeps what it receives
//! for inspection, and can be told to fail; every test of this crate talks to it.
//!
//! # Feature flags
//!
//! | feature | what it adds |
//! |---|---|
//! | `macros` (default) | [`trace`](macro@trace) and [`traced!`](macro@traced), from `tracing-honeyhive-macros` |
//! | `emulator` | [`emulator::Emulator`], the local HoneyHive-compatible server |
//! | `opentelemetry` | `otel::HoneyHiveExporter`, an OpenTelemetry `SpanExporter` through the same pipeline and mapping; `propagation::inject_context` and `extract_context` |
//! | `async-openai` | `async_openai::service` and `TraceLayer`: async-openai's chat, Responses and embeddings calls as GenAI spans, streaming included, through its `middleware` feature |
//! | `schemars` | [`schema`]: JSON Schemas of the request bodies, generated from the [`wire`] types |
//! | `cli` | the `honeyhive` command line (`sessions create`, `create-event-batch`, `get`, `serve`); enables `emulator` and `schemars`, which adds `JsonSchema` to the request types and the `schema` module |
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, unreachable_pub)]
#![deny(rustdoc::broken_intra_doc_links)]
#![forbid(unsafe_code)]

#[cfg(feature = "async-openai")]
#[cfg_attr(docsrs, doc(cfg(feature = "async-openai")))]
pub mod async_openai;
pub mod client;
pub mod config;
#[cfg(feature = "emulator")]
#[cfg_attr(docsrs, doc(cfg(feature = "emulator")))]
pub mod emulator;
mod error;
pub mod fields;
#[cfg(all(fuzzing, feature = "emulator"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod ids;
pub mod layer;
pub mod limits;
mod mapping;
#[cfg(feature = "opentelemetry")]
#[cfg_attr(docsrs, doc(cfg(feature = "opentelemetry")))]
pub mod otel;
mod pipeline;
pub mod propagation;
mod recorded;
pub mod redact;
#[cfg(feature = "schemars")]
#[cfg_attr(docsrs, doc(cfg(feature = "schemars")))]
pub mod schema;
mod span_ext;
pub mod traced;
pub mod wire;

pub use client::Client;
pub use config::ApiKey;
pub use error::Error;
pub use layer::{HoneyHiveLayer, SessionRoots};
pub use pipeline::{Dropped, FlushError, Guard, Handle, Outcomes, Report, Stats};
pub use span_ext::{Enrichment, HoneyHiveSpanExt};
#[doc(hidden)]
pub use traced::__private;

// So that the macros' expansion, which names `::tracing_honeyhive`, works in this crate's own
// unit tests too.
extern crate self as tracing_honeyhive;

/// Traces a function the HoneyHive way: its body runs in a `tracing` span, each argument is
/// recorded in `inputs.<name>` (JSON through serde, else its `Debug` text, else named as left
/// out), the return value in `outputs.result`, an `Err` as the event's `error` on the same
/// event, and a panic as the error before it unwinds on.
///
/// ```
/// use tracing_honeyhive::trace;
///
/// #[trace(event_type = "tool", skip(api_key), config.index = "orders")]
/// async fn search(api_key: &str, query: &str, top_k: usize) -> Result<Vec<String>, std::io::Error> {
///     Ok(vec![format!("{query}: shipped")])
/// }
/// ```
///
/// Options: `event_type = "model" | "tool" | "chain"`, `name = "…"`, `skip(a, b)`, `skip_all`,
/// `ret = false`, `level = "debug"`, `target = "…"`, and extra fields with a dotted name
/// (`config.model = …`, `metadata.step = %step`). On `fn`, `async fn` and methods (`self` is not
/// recorded). See [`traced`](mod@traced) for everything it records, what it costs, and a comparison
/// with `#[instrument]`.
#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
pub use tracing_honeyhive_macros::trace;

/// Traces a closure (called at once), an async block (a future to await) or a stream, as
/// [`trace`](macro@trace) traces a function: `traced!("name", options…, inputs(a, b = expr), body)`.
///
/// ```
/// use tracing_honeyhive::traced;
///
/// fn rerank(query: &str, documents: &[String]) -> Vec<String> {
///     traced!("rerank", event_type = "tool", inputs(query, count = documents.len()), || {
///         let mut ranked = documents.to_vec();
///         ranked.sort_by_key(|d| !d.contains(query));
///         ranked
///     })
/// }
/// ```
///
/// The body is `|| expr` (or `move || expr`), `async { … }` (or `async move { … }`), or
/// `stream = expr` for a `Stream`: its items are recorded as they come, and what it yielded when
/// it ends, fails or is dropped. `inputs(...)` names variables, or `name = expression`, evaluated
/// only when the span is enabled. See [`traced`](mod@traced).
#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
pub use tracing_honeyhive_macros::traced;

/// The README's examples, compiled and run as doctests.
#[cfg(all(doctest, feature = "emulator", feature = "opentelemetry"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
