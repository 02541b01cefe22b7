//! The redaction hook: a function of the application's that sees every event and session before
//! it leaves the process, and may change it or drop it
//! ([`Builder::with_redaction`](crate::layer::Builder::with_redaction)).
//!
//! ```
//! # #[cfg(feature = "emulator")] {
//! use tracing_subscriber::prelude::*;
//! use tracing_honeyhive::redact::{Outgoing, Verdict};
//! use tracing_honeyhive::HoneyHiveLayer;
//! # let server = tracing_honeyhive::emulator::Emulator::builder().start().unwrap();
//!
//! let (layer, guard) = HoneyHiveLayer::builder()
//!     .with_api_url(server.url())
//!     .with_redaction(|outgoing: Outgoing<'_>| match outgoing {
//!         // Health checks are not worth sending.
//!         Outgoing::Event(event) if event.event_name.as_deref() == Some("health") => Verdict::Drop,
//!         // E-mail addresses stay here.
//!         Outgoing::Event(event) => {
//!             if let Some(metadata) = &mut event.metadata {
//!                 metadata.remove("email");
//!             }
//!             Verdict::Send
//!         }
//!         _ => Verdict::Send,
//!     })
//!     .build()?;
//! tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
//!     let _turn = tracing::info_span!("turn").entered();
//!     drop(tracing::info_span!("health").entered());
//!     drop(tracing::info_span!("lookup", email = "a@example.com").entered());
//! });
//! let report = guard.shutdown(std::time::Duration::from_secs(5));
//! assert_eq!(report.stats.dropped.redacted, 1);
//! assert_eq!(server.events().len(), 1);
//! # }
//! # Ok::<(), tracing_honeyhive::Error>(())
//! ```

use std::sync::Arc;

use crate::wire::{CreateSession, Event, UpdateEvent};

/// What is about to be sent, shown to the hook, which may change it in place.
#[derive(Debug)]
#[non_exhaustive]
pub enum Outgoing<'a> {
    /// An event of a session (`POST /v1/sessions/{id}/events/batch`).
    Event(&'a mut Event),
    /// A session's create (`POST /v1/sessions`): when a session is sent whole, its final state.
    /// Dropping it drops the session and everything in it.
    Session(&'a mut CreateSession),
    /// A session's final state as an update (`PUT /v1/events/{session_id}`), for a session
    /// created earlier, or values given for it after it ended.
    SessionUpdate(&'a mut UpdateEvent),
    /// Values given for an event after it ended
    /// ([`Handle::enrich_event`](crate::Handle::enrich_event)): `PUT /v1/events/{event_id}`.
    EventUpdate(&'a mut UpdateEvent),
}

/// What the hook decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Send it, as the hook left it.
    Send,
    /// Do not send it; the span is counted in [`Dropped::redacted`](crate::Dropped::redacted).
    Drop,
}

/// The hook, shared by the builder's clones and the exporter.
#[derive(Clone)]
pub(crate) struct Hook(Arc<dyn Fn(Outgoing<'_>) -> Verdict + Send + Sync>);

impl Hook {
    pub(crate) fn new(f: impl Fn(Outgoing<'_>) -> Verdict + Send + Sync + 'static) -> Self {
        Hook(Arc::new(f))
    }

    /// The hook's verdict on `outgoing`. A hook that panics drops what it was shown: what it
    /// would have removed must not leave by accident.
    pub(crate) fn judge(&self, outgoing: Outgoing<'_>) -> Verdict {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.0)(outgoing)))
            .unwrap_or(Verdict::Drop)
    }
}

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hook(..)")
    }
}
