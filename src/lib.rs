//! Ship [`tracing`](https://docs.rs/tracing) spans from Rust LLM applications to
//! [HoneyHive](https://www.honeyhive.ai), an LLM-observability service.
//!
//! This release holds the foundation the tracing layer is built on:
//!
//! - [`wire`]: the serde bodies of HoneyHive's data-plane API;
//! - [`client::Client`]: a typed async client of its ingestion endpoints, configured by builder
//!   and by the `HH_*` environment variables HoneyHive's own SDKs read;
//! - [`emulator`] (feature `emulator`): a local HoneyHive-compatible server, for offline
//!   development and tests.
//!
//! # Quick start
//!
//! ```
//! # #[cfg(feature = "emulator")]
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use tracing_honeyhive::client::Client;
//! use tracing_honeyhive::wire::{CreateSession, Event, EventType, UpdateEvent};
//! use tracing_honeyhive::emulator::Emulator;
//!
//! // A local HoneyHive-compatible server; drop `with_api_url` to use HH_API_URL or HoneyHive.
//! let server = Emulator::builder().with_api_key("hh_example").start().unwrap();
//! let client = Client::builder()
//!     .with_api_key("hh_example") // else HH_API_KEY
//!     .with_api_url(server.url()) // else HH_API_URL, else https://api.dp1.us.honeyhive.ai
//!     .build()?;
//!
//! let mut session = CreateSession::default();
//! session.session_name = Some("support chat".into());
//! let session_id = client.create_session(&session).await?.session_id;
//!
//! let mut reply = Event::new(EventType::Model);
//! reply.event_name = Some("chat completion".into());
//! reply.inputs.insert("prompt".into(), "Where is my order?".into());
//! client.create_session_event_batch(session_id, &[reply]).await?;
//!
//! let mut done = UpdateEvent::default();
//! done.duration = Some(1250.0);
//! client.update_event(session_id, &done).await?;
//! # assert_eq!(server.events_of(&session_id.to_string()).len(), 1);
//! # Ok::<(), tracing_honeyhive::Error>(())
//! # }).unwrap();
//! ```
//!
//! # Environment variables
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `HH_API_KEY` | API key, sent as `Authorization: Bearer` | none; required unless the URL is loopback |
//! | `HH_API_URL` | base URL of the data plane | `https://api.dp1.us.honeyhive.ai` |
//! | `HH_API_TIMEOUT` | per-request timeout, in seconds | 10 |
//!
//! A value given to a builder wins over the variable; an empty variable counts as unset.
//!
//! # Feature flags
//!
//! | feature | what it adds |
//! |---|---|
//! | `emulator` | [`emulator::Emulator`], the local HoneyHive-compatible server |
//! | `opentelemetry` | reserved for the OpenTelemetry span exporter |
//! | `cli` | the `honeyhive` command line (`sessions create`, `create-event-batch`, `get`, `serve`); enables `emulator` and `schemars`, which adds `JsonSchema` to the request types and the `schema` module |
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, unreachable_pub)]
#![deny(rustdoc::broken_intra_doc_links)]
#![forbid(unsafe_code)]

pub mod client;
pub mod config;
#[cfg(feature = "emulator")]
#[cfg_attr(docsrs, doc(cfg(feature = "emulator")))]
pub mod emulator;
mod error;
#[cfg(feature = "schemars")]
#[cfg_attr(docsrs, doc(cfg(feature = "schemars")))]
pub mod schema;
pub mod wire;

pub use client::Client;

/// The README's examples, compiled and run as doctests.
#[cfg(all(doctest, feature = "emulator"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
pub use config::ApiKey;
pub use error::Error;
