//! Distributed sessions: one HoneyHive session across services, Rust, Python or TypeScript.
//!
//! A service calling another puts its session in the request's headers — the W3C `baggage`
//! header, with the entries HoneyHive's SDKs read — and the service called joins it: its events
//! land in the caller's session, under the caller's event.
//!
//! | baggage entry | written | read (first present wins) |
//! |---|---|---|
//! | session id | `session_id`, `honeyhive.session_id` | `honeyhive.session_id`, `honeyhive_session_id`, `session_id` |
//! | the calling span's event | `parent_id` | `honeyhive.parent_id`, `honeyhive_parent_id`, `parent_id` |
//! | session name | `session_name`, `honeyhive.session_name` | `honeyhive.session_name`, `honeyhive_session_name`, `session_name` |
//! | source | `source`, `honeyhive.source` | `honeyhive.source`, `honeyhive_source`, `source` |
//! | project | `project`, `honeyhive.project` | `honeyhive.project`, `honeyhive_project`, `project` |
//!
//! The plain names are the ones HoneyHive's Python SDK sends and reads (`session_id`,
//! `project`, `source`, `session_name`, `parent_id`); `honeyhive.session_id` and
//! `honeyhive.session_name` are what HoneyHive's guide for other languages uses; its Python
//! extractor also accepts `honeyhive_session_id`. Writing both spellings reaches every reader.
//!
//! With the layer, [`SessionContext::current`] gives the session of the current span, and
//! [`SessionContext::inject`] writes it into an outgoing request's headers; in the service
//! called, [`SessionContext::extract`] reads it back, and the handler's span joins it with the
//! control fields `honeyhive.session_id` and `honeyhive.parent_id` (see [`fields`](crate::fields)):
//!
//! ```
//! # #[cfg(feature = "emulator")] {
//! use std::time::Duration;
//! use tracing_subscriber::prelude::*;
//! use tracing_honeyhive::HoneyHiveLayer;
//! use tracing_honeyhive::propagation::SessionContext;
//! # let server = tracing_honeyhive::emulator::Emulator::builder().start().unwrap();
//!
//! let (layer, guard) = HoneyHiveLayer::builder().with_api_url(server.url()).build()?;
//! # // Both services in one process here, to run; each has its own layer in life.
//! tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
//!     // Service A, in the span that makes the request. The headers are `http::HeaderMap`
//!     // (reqwest's, axum's and hyper's).
//!     let _chat = tracing::info_span!("support chat").entered();
//!     let _ask = tracing::info_span!("ask the order service").entered();
//!     let mut headers = reqwest::header::HeaderMap::new();
//!     SessionContext::current().inject(&mut headers);
//!
//!     // Service B, in the handler of that request.
//!     let caller = SessionContext::extract(&headers);
//!     let _answer = tracing::info_span!(
//!         "look up the order",
//!         honeyhive.session_id = caller.session_id.as_deref(),
//!         honeyhive.parent_id = caller.parent_id.map(tracing::field::display),
//!         honeyhive.session_name = caller.session_name.as_deref(),
//!     )
//!     .entered();
//! });
//! guard.flush(Duration::from_secs(5)).unwrap();
//! let sessions = server.sessions();
//! assert_eq!(sessions.len(), 1);
//! let tree = server.tree(sessions[0].session_id.as_deref().unwrap()).unwrap();
//! let ask = &tree.children[0];
//! assert_eq!(ask.children[0].event.parent_id, ask.event.event_id, "B's span under A's");
//! # }
//! # Ok::<(), tracing_honeyhive::Error>(())
//! ```
//!
//! A request without a session gives an empty context, whose fields record nothing: the
//! handler's span then starts a session of its own, as without propagation.
//!
//! With OpenTelemetry (feature `opentelemetry`), `inject_context` writes `traceparent` and the
//! same baggage for an `opentelemetry::Context`, and `extract_context` gives the context of an
//! incoming request, which `otel::BaggageSessionProcessor` turns into the session on every span
//! of the service called. `SessionContext::from_context` is what `inject_context` writes.
//!
//! The service whose spans reach HoneyHive first creates the session, with its name: the layer
//! sends the name of its session along, and the handler's span above passes it on with
//! `honeyhive.session_name`. With OpenTelemetry, put `honeyhive.session_name` in the baggage
//! where the session starts.
//!
//! Reading is lenient and safe on any input: whitespace around keys, values and properties is
//! ignored, values are percent-decoded (a `+` in the session name, source and project is a
//! space, as HoneyHive's Python SDK encodes them), a sequence that is not UTF-8 becomes U+FFFD,
//! properties (`;prop`) are ignored, and members that do not parse — or lie past 8 KiB, the
//! specification's limit — are passed over. Writing merges with the `baggage` headers already
//! there (into one header, which is all HoneyHive's Python SDK reads), replacing the HoneyHive
//! entries it finds and keeping the others, within the specification's limits.

mod baggage;
#[cfg(feature = "opentelemetry")]
mod otel;

use reqwest::header::{HeaderMap, HeaderValue};
use uuid::Uuid;

use crate::HoneyHiveLayer;
use crate::layer::Target;
use baggage::Member;

#[cfg(feature = "opentelemetry")]
#[cfg_attr(docsrs, doc(cfg(feature = "opentelemetry")))]
pub use otel::{extract_context, inject_context};

/// The header HoneyHive's session travels in.
const BAGGAGE: &str = "baggage";

/// The spellings of each entry read, first present wins: HoneyHive's namespaced name, the
/// Python SDK's `honeyhive_` attribute name, the Python SDK's plain baggage key.
pub(crate) const SESSION_ID_KEYS: [&str; 3] =
    ["honeyhive.session_id", "honeyhive_session_id", "session_id"];
pub(crate) const PARENT_ID_KEYS: [&str; 3] =
    ["honeyhive.parent_id", "honeyhive_parent_id", "parent_id"];
pub(crate) const SESSION_NAME_KEYS: [&str; 3] = [
    "honeyhive.session_name",
    "honeyhive_session_name",
    "session_name",
];
pub(crate) const SOURCE_KEYS: [&str; 3] = ["honeyhive.source", "honeyhive_source", "source"];
pub(crate) const PROJECT_KEYS: [&str; 3] = ["honeyhive.project", "honeyhive_project", "project"];

/// The longest session name, source or project written, in bytes (cut at a character).
const MAX_TEXT_BYTES: usize = 256;

/// The HoneyHive session a request belongs to: what [`inject`](Self::inject) writes into its
/// headers and [`extract`](Self::extract) reads back. Every part is optional; an empty context
/// (no session id) writes nothing.
///
/// The fields are ready for a span's control fields: `honeyhive.session_id =
/// caller.session_id.as_deref()`, `honeyhive.parent_id =
/// caller.parent_id.map(tracing::field::display)` (a `None` records nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionContext {
    /// The session's id, or a key naming it (as `honeyhive.session_id` takes it).
    pub session_id: Option<String>,
    /// The event of the span that made the request: the parent of the event that joins.
    pub parent_id: Option<Uuid>,
    /// The session's name.
    pub session_name: Option<String>,
    /// The caller's `source`, such as `production`.
    pub source: Option<String>,
    /// The caller's project. HoneyHive takes the project from the API key; this is for
    /// information.
    pub project: Option<String>,
}

impl SessionContext {
    /// The session `span` belongs to in [`HoneyHiveLayer`], and its event as the parent: what a
    /// request made inside `span` carries. Empty when the span is disabled, outside any session,
    /// or its subscriber has no `HoneyHiveLayer`.
    ///
    /// The source is the one the session's first span gave with `honeyhive.source`, if any (the
    /// configured one is left to each service); the project is not known to the layer.
    pub fn from_span(span: &tracing::Span) -> SessionContext {
        let mut found = SessionContext::default();
        span.with_subscriber(|(id, dispatch)| {
            let Some(layer) = dispatch.downcast_ref::<HoneyHiveLayer>() else {
                return;
            };
            let Some(with_span) = layer.span_access() else {
                return;
            };
            with_span(dispatch, id, Target::Span, &mut |data| {
                let session = &data.span.session;
                found.session_id = Some(session.id.to_string());
                found.parent_id = Some(data.span.event_id);
                found.session_name = Some(session.name.to_string());
                found.source.clone_from(&session.source);
            });
        });
        found
    }

    /// [`from_span`](Self::from_span) of [`tracing::Span::current`].
    pub fn current() -> SessionContext {
        SessionContext::from_span(&tracing::Span::current())
    }

    /// The session a request's headers name in its `baggage` headers, under any of the
    /// spellings in the [module table](self). Empty when they name none.
    ///
    /// ```
    /// use tracing_honeyhive::propagation::SessionContext;
    ///
    /// let mut headers = reqwest::header::HeaderMap::new();
    /// // As HoneyHive's Python SDK sends it.
    /// let baggage = "session_id=0b7a6b1c-5d4e-4f3a-9b2c-1d0e9f8a7b6c,project=support,\
    ///                source=production,honeyhive_tracer_id=140234,session_name=support+chat";
    /// headers.insert("baggage", baggage.parse().unwrap());
    /// let caller = SessionContext::extract(&headers);
    /// assert_eq!(caller.session_id.as_deref(), Some("0b7a6b1c-5d4e-4f3a-9b2c-1d0e9f8a7b6c"));
    /// assert_eq!(caller.source.as_deref(), Some("production"));
    /// assert_eq!(caller.session_name.as_deref(), Some("support chat"));
    /// assert_eq!(caller.parent_id, None);
    /// ```
    pub fn extract(headers: &HeaderMap) -> SessionContext {
        let values = headers
            .get_all(BAGGAGE)
            .into_iter()
            .map(HeaderValue::as_bytes);
        SessionContext::from_members(&baggage::members(values))
    }

    fn from_members(members: &[Member<'_>]) -> SessionContext {
        let text = |keys: &[&str]| {
            pick(members, keys, |value| {
                Some(baggage::decode_plus(value).trim().to_owned()).filter(|t| !t.is_empty())
            })
        };
        SessionContext {
            session_id: pick(members, &SESSION_ID_KEYS, |value| {
                Some(baggage::decode(value).trim().to_owned()).filter(|id| !id.is_empty())
            }),
            parent_id: pick(members, &PARENT_ID_KEYS, |value| {
                Uuid::parse_str(baggage::decode(value).trim()).ok()
            }),
            session_name: text(&SESSION_NAME_KEYS),
            source: text(&SOURCE_KEYS),
            project: text(&PROJECT_KEYS),
        }
    }

    /// Writes this session into `headers`' `baggage` header, under both spellings of each entry
    /// (see the [module table](self)), merged with the baggage already there: HoneyHive entries
    /// found are replaced, the others kept. Nothing is written without a session id.
    ///
    /// A session id that is not a UUID is written as the UUID it names
    /// ([`ids::session_id_for_key`](crate::ids::session_id_for_key)), which every HoneyHive SDK
    /// reads as a session id. Session name, source and project are cut to 256 bytes.
    ///
    /// ```
    /// use tracing_honeyhive::propagation::SessionContext;
    ///
    /// let mut headers = reqwest::header::HeaderMap::new();
    /// headers.insert("baggage", "user=alice".parse().unwrap());
    /// let mut session = SessionContext::default();
    /// session.session_id = Some("0b7a6b1c-5d4e-4f3a-9b2c-1d0e9f8a7b6c".into());
    /// session.session_name = Some("support chat".into());
    /// session.inject(&mut headers);
    /// assert_eq!(
    ///     headers["baggage"],
    ///     "user=alice,session_id=0b7a6b1c-5d4e-4f3a-9b2c-1d0e9f8a7b6c,\
    ///      honeyhive.session_id=0b7a6b1c-5d4e-4f3a-9b2c-1d0e9f8a7b6c,\
    ///      session_name=support%20chat,honeyhive.session_name=support%20chat",
    /// );
    /// assert_eq!(SessionContext::extract(&headers), session);
    /// ```
    pub fn inject(&self, headers: &mut HeaderMap) {
        let Some(entries) = self.entries() else {
            return;
        };
        let existing = headers
            .get_all(BAGGAGE)
            .into_iter()
            .map(HeaderValue::as_bytes);
        let merged = baggage::merge(existing, |key| !is_honeyhive_key(key), &entries);
        // Printable ASCII by construction; a failure would only mean nothing is written.
        if let Ok(value) = HeaderValue::from_str(&merged) {
            headers.insert(BAGGAGE, value);
        }
    }

    /// The members [`inject`](Self::inject) writes, or `None` without a session id.
    fn entries(&self) -> Option<Vec<String>> {
        let key = self.session_id.as_deref().map(str::trim);
        let id = crate::ids::session_id_for_key(key.filter(|k| !k.is_empty())?).to_string();
        let parent = self.parent_id.map(|p| p.to_string());
        let pairs: [(&[&str], Option<&str>); 5] = [
            (&["session_id", "honeyhive.session_id"], Some(id.as_str())),
            (&["parent_id"], parent.as_deref()),
            (
                &["session_name", "honeyhive.session_name"],
                self.session_name.as_deref().map(cut),
            ),
            (
                &["source", "honeyhive.source"],
                self.source.as_deref().map(cut),
            ),
            (
                &["project", "honeyhive.project"],
                self.project.as_deref().map(cut),
            ),
        ];
        let entries = pairs
            .into_iter()
            .filter_map(|(keys, value)| Some((keys, value.filter(|v| !v.trim().is_empty())?)))
            .flat_map(|(keys, value)| keys.iter().filter_map(move |k| baggage::encode(k, value)))
            .collect();
        Some(entries)
    }
}

/// The value under the first of `keys` present that `parse` accepts; of several members with
/// one key, the last (as OpenTelemetry's propagators and HoneyHive's Python extractor keep it).
fn pick<T>(members: &[Member<'_>], keys: &[&str], parse: impl Fn(&str) -> Option<T>) -> Option<T> {
    keys.iter().find_map(|key| {
        members
            .iter()
            .rev()
            .filter(|m| m.key == *key)
            .find_map(|m| parse(m.value))
    })
}

/// Whether `key` is one of the entries a HoneyHive session is written with, under any spelling:
/// those an injection replaces.
fn is_honeyhive_key(key: &str) -> bool {
    [
        &SESSION_ID_KEYS,
        &PARENT_ID_KEYS,
        &SESSION_NAME_KEYS,
        &SOURCE_KEYS,
        &PROJECT_KEYS,
    ]
    .iter()
    .any(|keys| keys.contains(&key))
}

/// Whether `key` is a text entry HoneyHive's Python SDK writes (`quote_plus`: a `+` is a space).
#[cfg_attr(not(feature = "opentelemetry"), allow(dead_code))]
fn is_honeyhive_text_key(key: &str) -> bool {
    [&SESSION_NAME_KEYS, &SOURCE_KEYS, &PROJECT_KEYS]
        .iter()
        .any(|keys| keys.contains(&key))
}

/// `text`, cut to [`MAX_TEXT_BYTES`] at a character boundary.
fn cut(text: &str) -> &str {
    if text.len() <= MAX_TEXT_BYTES {
        return text;
    }
    let mut end = MAX_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests;
