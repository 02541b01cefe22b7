//! Misbehaviour on request: what a fault does, how many requests it applies to, and on which
//! paths.

/// A misbehaviour to apply to the next requests, in the order faults were injected.
#[derive(Debug, Clone)]
#[must_use = "a fault does nothing until it is given to Emulator::inject"]
pub struct Fault {
    pub(super) kind: FaultKind,
    pub(super) times: usize,
    pub(super) path_prefix: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) enum FaultKind {
    Status {
        status: u16,
        retry_after: Option<String>,
        body: Option<(String, String)>,
        /// Declare one byte more than `body`, write `body`, close the connection.
        truncated: bool,
    },
    DropConnection,
}

impl Fault {
    /// Answer with `status` and the documented JSON error body, without touching the store. Any
    /// status, 200 included: with [`with_body`](Fault::with_body), a success whose body is not
    /// what the client expects.
    pub fn status(status: u16) -> Self {
        Fault {
            kind: FaultKind::Status {
                status,
                retry_after: None,
                body: None,
                truncated: false,
            },
            times: 1,
            path_prefix: None,
        }
    }

    /// Answer with `status` and a body cut short, without touching the store: a
    /// `Content-Length` one byte more than `body`, the bytes of `body`, then the connection
    /// closes, as when a server crashes or a proxy gives up mid-answer. The client gets the
    /// status and headers, then an error reading the body.
    ///
    /// The body is labelled `application/json`; [`with_body`](Fault::with_body) replaces it (still
    /// cut short) and [`with_retry_after`](Fault::with_retry_after) adds the header.
    pub fn truncated_body(status: u16, body: impl Into<String>) -> Self {
        Fault {
            kind: FaultKind::Status {
                status,
                retry_after: None,
                body: Some(("application/json".into(), body.into())),
                truncated: true,
            },
            times: 1,
            path_prefix: None,
        }
    }

    /// Close the connection without answering, as a crashed server or a reset proxy would.
    pub fn drop_connection() -> Self {
        Fault {
            kind: FaultKind::DropConnection,
            times: 1,
            path_prefix: None,
        }
    }

    /// Adds a `Retry-After` header with this value (seconds or an HTTP date) to a status fault.
    pub fn with_retry_after(mut self, value: impl Into<String>) -> Self {
        if let FaultKind::Status { retry_after, .. } = &mut self.kind {
            *retry_after = Some(value.into());
        }
        self
    }

    /// Answers a status fault with this body and content type instead of the JSON error body,
    /// such as a proxy's HTML page, or `not json` with a 200.
    pub fn with_body(mut self, content_type: impl Into<String>, body: impl Into<String>) -> Self {
        if let FaultKind::Status { body: slot, .. } = &mut self.kind {
            *slot = Some((content_type.into(), body.into()));
        }
        self
    }

    /// Applies to this many requests. Default: 1.
    pub fn times(mut self, n: usize) -> Self {
        self.times = n;
        self
    }

    /// Applies only to requests whose path starts with `prefix`, such as `/v1/sessions/`.
    pub fn on_path(mut self, prefix: impl Into<String>) -> Self {
        self.path_prefix = Some(prefix.into());
        self
    }
}
