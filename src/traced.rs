//! Tracing an application's own functions the HoneyHive way: [`trace`](macro@crate::trace) on a
//! function, [`traced!`](macro@crate::traced) on a closure, an async block or a stream (feature
//! `macros`, on by default).
//!
//! An agent is mostly the application's own code — plan, retrieve, call a tool, answer — and
//! HoneyHive shows each step as an event with its `inputs` and `outputs`. `#[trace]` records
//! exactly that:
//!
//! ```
//! # #[cfg(feature = "emulator")] {
//! use serde::Serialize;
//! use tracing_honeyhive::{HoneyHiveLayer, trace};
//! use tracing_subscriber::prelude::*;
//!
//! #[derive(Debug, Serialize)]
//! struct Order { id: String, status: &'static str }
//!
//! #[derive(Debug, thiserror::Error)]
//! #[error("no order {0}")]
//! struct NotFound(String);
//!
//! #[trace(event_type = "tool", metadata.source = "orders-db")]
//! fn lookup_order(order_id: &str) -> Result<Order, NotFound> {
//!     if order_id.starts_with('A') {
//!         Ok(Order { id: order_id.to_owned(), status: "shipped" })
//!     } else {
//!         Err(NotFound(order_id.to_owned()))
//!     }
//! }
//!
//! #[trace]
//! fn answer(question: &str) -> String {
//!     match lookup_order("A-17") {
//!         Ok(order) => format!("Order {} has {}.", order.id, order.status),
//!         Err(e) => e.to_string(),
//!     }
//! }
//! # let server = tracing_honeyhive::emulator::Emulator::builder().start().unwrap();
//!
//! let (layer, guard) = HoneyHiveLayer::builder().with_api_url(server.url()).build()?;
//! tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
//!     answer("Where is my order?");
//!     let _ = lookup_order("B-2"); // its own session, with its error
//! });
//! guard.flush(std::time::Duration::from_secs(5)).unwrap();
//! # let sessions = server.sessions();
//! # let answer = sessions.iter().find(|s| s.event_name.as_deref() == Some("answer")).unwrap();
//! # assert_eq!(answer.inputs.as_ref().unwrap()["question"], "Where is my order?");
//! # assert_eq!(answer.outputs.as_ref().unwrap()["result"], "Order A-17 has shipped.");
//! # let events = server.events();
//! # let lookup = events.iter().find(|e| e.event_name.as_deref() == Some("lookup_order")).unwrap();
//! # assert_eq!(lookup.outputs.as_ref().unwrap()["result"]["status"], "shipped");
//! # }
//! # Ok::<(), tracing_honeyhive::Error>(())
//! ```
//!
//! `answer` becomes a session (a root span) with `inputs = {"question": "Where is my order?"}`
//! and `outputs = {"result": "Order A-17 has shipped."}`; `lookup_order` a `tool` event under
//! it with `outputs.result` the order as JSON. The failing call's event has
//! `error = "no order B-2"` and `metadata.error_type` the error's type.
//!
//! # What is recorded
//!
//! | what | where | how |
//! |---|---|---|
//! | each argument (`self` left out) | `inputs.<name>` | JSON through serde where its type is `Serialize`, else its `Debug` text, else left out and named in `metadata.omitted` (`"inputs.client"`) — chosen by the type at compile time, per argument, with nothing to annotate |
//! | the return value | `outputs.result` | the same way; a unit return (`()`, `Ok(())`) records none |
//! | an `Err` | `error`, and `metadata.error_type` | its `Display` text (else `Debug`, else its type) — on the same event, whatever path the function leaves by: a `?`, an early `return` |
//! | a panic | `error = "panicked: …"`, `metadata.error_type = "panic"` | recorded, then the panic goes on unwinding |
//! | a future or stream dropped before its end | `metadata.cancelled = true` | with what a stream had yielded |
//!
//! This is how HoneyHive's own `@trace` decorator records a call (arguments as
//! `honeyhive_inputs.<name>`, the result as `honeyhive_outputs.result`), so a Rust step and a
//! Python step of one session read alike — except that an error stays on its event rather than on
//! a separate `<name>_error` span, and an argument that cannot be recorded is named rather than
//! skipped silently.
//!
//! The values travel on the span as two fields holding JSON text, `honeyhive.inputs` and
//! `honeyhive.outputs` (see [`fields`](crate::fields)): any subscriber sees them, and the layer
//! and [`HoneyHiveExporter`](crate::otel) (through `tracing-opentelemetry`) turn them into
//! structured `inputs` and `outputs`.
//!
//! # Options
//!
//! | option | effect |
//! |---|---|
//! | `event_type = "model"` / `"tool"` / `"chain"` | the event's type (`chain` unless inferred from `gen_ai.*` fields) |
//! | `name = "…"` | the event's name (default: the function's name) |
//! | `skip(a, b)`, `skip_all` | arguments not recorded |
//! | `ret = false` | the result not recorded (an `Err` still is) |
//! | `level = "debug"` | the span's level (default `INFO`), for filters |
//! | `target = "…"` | the span's target (default: the module path) |
//! | `config.model = expr`, `metadata.step = %expr`, … | extra fields, any dotted name, `%`/`?` as in `tracing` |
//!
//! Misuse is a compile error pointing at the offending token: an unknown option, an
//! `event_type` other than the three, a `skip` naming no argument, a field `#[trace]` sets itself.
//!
//! # Spans and nesting
//!
//! The body runs inside an ordinary `tracing` span — entered around a sync body, and around
//! every poll of an async one — so `#[trace]` nests with `#[instrument]`, rig and genai spans and
//! other `#[trace]` functions, across `.await`, and into spawned tasks instrumented with
//! [`Instrument::in_current_span`](tracing::Instrument::in_current_span). It works under any
//! subscriber; with another one (`fmt`, say) the two JSON fields are printed as they are.
//!
//! # Cost
//!
//! The inputs, the result and an error are recorded as `Display` values, written only when a
//! subscriber formats the field — as `#[instrument]`'s `Debug` fields are: a disabled span, a
//! subscriber that ignores the field, or a trace the layer turned away under overload costs no
//! serialisation. When the layer records them, they are written as JSON through a buffer the
//! thread keeps, straight into the span's text. With content capture off
//! ([`with_capture_content(false)`](crate::layer::Builder::with_capture_content) on the
//! layer, or `HH_CAPTURE_CONTENT=false` under another subscriber) nothing is serialised:
//! each recorded argument and the result read `"[hidden]"`, the structure (names, types,
//! errors, times) stays. A value larger than an event may be (1 MiB) is fitted by the size
//! policy, largest parts first ([`limits`](crate::limits)); a `Debug` text is cut at 256 KiB; a
//! `Serialize`, `Debug` or `Display` that fails or panics is recorded as a marker saying so —
//! never a panic. A stream's items are gathered as they come (they are gone afterwards), only
//! while its span is enabled. What a call costs against `#[instrument]`, disabled, enabled and
//! under the layer, is in `BENCHMARKS.md`.
//!
//! # Closures, async blocks and streams
//!
//! [`traced!`](macro@crate::traced) traces code that cannot take an attribute: a block inside a
//! function, a call through a trait object, a streamed answer.
//!
//! ```
//! use tracing_honeyhive::traced;
//!
//! trait Tool { fn call(&self, query: &str) -> Result<String, std::io::Error>; }
//!
//! fn run(tool: &dyn Tool, query: &str) -> Result<String, std::io::Error> {
//!     // A closure is called at once, in its span.
//!     traced!("search", event_type = "tool", inputs(query), || tool.call(query))
//! }
//!
//! async fn answer(question: String) -> String {
//!     // An async block becomes a traced future.
//!     traced!("answer", inputs(question, length = question.len()), async { "It shipped.".to_owned() }).await
//! }
//! ```
//!
//! With `stream = …`, a stream's items are recorded as they come and, when it ends, fails or is
//! dropped, `outputs.result` holds what it yielded: text items joined (a streamed answer reads
//! as one text), other items as an array; an `Err` item is the error; `metadata.stream_items`
//! counts the items, and a stream dropped before its end is `metadata.cancelled`.
//!
//! ```
//! use futures_util::StreamExt;
//! use tracing_honeyhive::traced;
//!
//! async fn stream_answer() -> String {
//!     let chunks = futures_util::stream::iter(["It ", "shipped", "."]);
//!     let answer = traced!("answer", event_type = "model", stream = chunks);
//!     answer.collect::<String>().await
//! }
//! ```

mod call;
mod capture;
mod dispatch;
mod future;
mod stream;

pub use future::TracedFuture;
pub use stream::TracedStream;

/// The fields a traced call records into.
pub(crate) mod fields {
    pub(crate) const INPUTS: &str = "honeyhive.inputs";
    pub(crate) const OUTPUTS: &str = "honeyhive.outputs";
    pub(crate) const ERROR: &str = "error";
    pub(crate) const ERROR_TYPE: &str = "metadata.error_type";
    pub(crate) const OMITTED: &str = "metadata.omitted";
    pub(crate) const CANCELLED: &str = "metadata.cancelled";
    pub(crate) const STREAM_ITEMS: &str = "metadata.stream_items";
}

/// What the expansion of `#[trace]` and `traced!` calls; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use super::call::{Arg, Call, InputArg};
    pub use super::capture::{ErrorText, Outcome, Render, Sink};
    pub use super::dispatch::{
        InputDebug, InputNone, InputSerde, Output01, Output02, Output03, Output04, Output05,
        Output06, Output07, Output08, Output09, Output10, Output11, Output12, Probe, probe,
        probe_item, probe_output, probe_return, returning, returning_future,
    };
    pub use tracing;
}
