//! Public errors.

use std::time::Duration;

/// The boxed source of a transport failure, kept opaque so that no third-party type is part of
/// the public API.
type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong in a call to the HoneyHive API, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a non-success status.
    ///
    /// `message` is the server's own (`message` of the JSON error body) or, for a body that is not
    /// the documented JSON (an HTML page from a proxy, say), a short excerpt of it.
    #[error("{method} {path} answered {status}: {message}")]
    Status {
        /// The request method.
        method: &'static str,
        /// The request path.
        path: String,
        /// The HTTP status code.
        status: u16,
        /// The server's message, or an excerpt of a non-JSON body.
        message: String,
        /// The `errorCode` of the body, when the server gave one.
        error_code: Option<String>,
        /// How long the server asked the client to wait (`Retry-After`, in seconds or as an HTTP
        /// date), when it did.
        retry_after: Option<Duration>,
    },
    /// A success answer whose body did not have the documented shape.
    #[error("{method} {path}: could not decode the response at `{json_path}`: {reason}")]
    Decode {
        /// The request method.
        method: &'static str,
        /// The request path.
        path: String,
        /// Where in the body decoding failed, such as `session_id` or `events[2].inputs`
        /// (`.` for the body itself).
        json_path: String,
        /// Why it failed.
        reason: String,
    },
    /// The request did not complete: connection refused or reset, DNS, TLS, a body cut short.
    #[error("{method} {path}: transport error: {source}")]
    Transport {
        /// The request method.
        method: &'static str,
        /// The request path.
        path: String,
        /// The underlying failure.
        #[source]
        source: BoxError,
    },
    /// No answer within the configured request timeout.
    #[error("{method} {path}: no answer within {timeout:?}")]
    Timeout {
        /// The request method.
        method: &'static str,
        /// The request path.
        path: String,
        /// The timeout that expired.
        timeout: Duration,
    },
    /// The configuration cannot work; nothing was sent.
    #[error("invalid configuration of `{field}`: {reason}")]
    InvalidConfig {
        /// The setting at fault, named as its builder method or environment variable.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

impl Error {
    /// The HTTP status of a [`Error::Status`], else `None`.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether sending the same request again may succeed: transport errors, timeouts, 408, 429
    /// and 5xx answers. A 4xx other than 408 and 429 will fail again unchanged.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Status { status, .. } => matches!(status, 408 | 429 | 500..=599),
            Error::Transport { .. } | Error::Timeout { .. } => true,
            Error::Decode { .. } | Error::InvalidConfig { .. } => false,
        }
    }

    /// The wait the server asked for with `Retry-After`, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub(crate) fn config(field: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidConfig {
            field,
            reason: reason.into(),
        }
    }
}
