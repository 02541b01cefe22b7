//! The typed async client of HoneyHive's ingestion endpoints.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;
use uuid::Uuid;

use crate::config::{ApiKey, KeySource};
use crate::error::Error;
use crate::wire::{
    CreateSession, CreateSessionResponse, ErrorBody, Event, EventBatch, EventBatchResponse,
    EventRecord, LegacySession, SessionTree, Success, UpdateEvent,
};

/// `User-Agent` of every request: the crate and its version.
pub const USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

/// Longest excerpt of a non-JSON error body kept in [`Error::Status`].
const EXCERPT_CHARS: usize = 200;

/// An async client of the HoneyHive data-plane API.
///
/// Cheap to clone: clones share one connection pool.
///
/// ```
/// # #[cfg(feature = "emulator")]
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use tracing_honeyhive::client::Client;
/// use tracing_honeyhive::wire::{CreateSession, Event, EventType};
/// # let server = tracing_honeyhive::emulator::Emulator::builder().with_api_key("hh_doc").start().unwrap();
///
/// let client = Client::builder()
///     .with_api_key("hh_doc")
///     .with_api_url(server.url()) // else HH_DATA_PLANE_URL, HH_API_URL, HoneyHive's data plane
///     .build()?;
///
/// let mut session = CreateSession::default();
/// session.session_name = Some("support chat".into());
/// let created = client.create_session(&session).await?;
///
/// let mut event = Event::new(EventType::Model);
/// event.event_name = Some("chat completion".into());
/// client.create_session_event_batch(created.session_id, &[event]).await?;
/// # assert_eq!(server.events().len(), 1);
/// # Ok::<(), tracing_honeyhive::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    api_key: Option<ApiKey>,
    /// Where the key came from, to say so without showing it.
    key_source: Option<KeySource>,
    timeout: Duration,
    client_headers: bool,
    /// What every request carries, built once ([`Client::headers`]); `None` when the key cannot
    /// be sent in a header, which every request then reports.
    headers: Option<HeaderMap>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("api_key", &self.api_key)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder; see [`ClientBuilder`] for the settings and their environment variables.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The API key requests carry, if any; it shows only masked.
    pub fn api_key(&self) -> Option<&ApiKey> {
        self.api_key.as_ref()
    }

    /// Where the API key came from: `with_api_key`, or which of `HH_INGESTION_API_KEY`,
    /// `HH_PROJECT_API_KEY` and `HH_API_KEY` (see [`ClientBuilder`]); `None` without a key.
    pub fn api_key_source(&self) -> Option<KeySource> {
        self.key_source
    }

    /// Where the API key came from, in words for a log line: `from HH_PROJECT_API_KEY`, `given
    /// with with_api_key`, … — never the key.
    pub(crate) fn key_source(&self) -> &'static str {
        self.key_source
            .map_or("none was given", KeySource::describe)
    }

    /// The same client sending `key` (checked with [`ApiKey::is_sendable`]), given later by the
    /// application.
    pub(crate) fn with_replaced_key(&self, key: ApiKey) -> Client {
        Client {
            headers: Client::headers(Some(&key), self.client_headers),
            api_key: Some(key),
            key_source: Some(KeySource::Replaced),
            ..self.clone()
        }
    }

    /// The headers every request carries: the user agent, the key's `Authorization` (marked
    /// sensitive, so that no debug output shows it) and, unless turned off, the client headers
    /// HoneyHive's SDKs send. `None` when the key cannot be sent in a header.
    pub(crate) fn headers(key: Option<&ApiKey>, client_headers: bool) -> Option<HeaderMap> {
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::USER_AGENT,
            HeaderValue::from_static(USER_AGENT),
        );
        if let Some(key) = key {
            let mut value = HeaderValue::try_from(format!("Bearer {}", key.expose())).ok()?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        if client_headers {
            for (name, value) in [
                ("hh-client-package", env!("CARGO_PKG_NAME")),
                ("hh-client-version", env!("CARGO_PKG_VERSION")),
                ("hh-client-language", "rust"),
            ] {
                headers.insert(name, HeaderValue::from_static(value));
            }
        }
        Some(headers)
    }

    /// `text` with the API key replaced by its masked form: for anything that quotes a server,
    /// which may echo the key back.
    fn redact(&self, text: String) -> String {
        match &self.api_key {
            Some(key) if !key.expose().is_empty() && text.contains(key.expose()) => {
                text.replace(key.expose(), &key.masked())
            }
            _ => text,
        }
    }

    /// The per-request timeout.
    #[cfg(test)]
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The base URL requests go to.
    pub fn api_url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// `POST /v1/sessions`: creates a session, or, for an existing `session_id`, merges
    /// `metadata` and `user_properties` into it. Returns the id the server settled on.
    pub async fn create_session(
        &self,
        session: &CreateSession,
    ) -> Result<CreateSessionResponse, Error> {
        self.session_response(Method::POST, "/v1/sessions".into(), session)
            .await
    }

    /// `POST /v1/sessions/{session_id}/events/batch`: adds events, in order, to an existing
    /// session. The path's `session_id` overrides any in the events.
    pub async fn create_session_event_batch(
        &self,
        session_id: Uuid,
        events: &[Event],
    ) -> Result<(), Error> {
        #[derive(Serialize)]
        struct Batch<'a> {
            events: &'a [Event],
        }
        let path = format!("/v1/sessions/{session_id}/events/batch");
        let body = encode(&Method::POST, &path, &Batch { events })?;
        self.create_session_event_batch_encoded(session_id, body)
            .await
    }

    /// [`Client::create_session_event_batch`] with the body already encoded
    /// (`{"events":[…]}`), as the exporter builds it: each event serialised once, and the same
    /// bytes sent again on a retry.
    pub(crate) async fn create_session_event_batch_encoded(
        &self,
        session_id: Uuid,
        body: Bytes,
    ) -> Result<(), Error> {
        let path = format!("/v1/sessions/{session_id}/events/batch");
        let success: Success = self.call(Method::POST, path.clone(), Some(body)).await?;
        refused_if_unsuccessful(success, "POST", path)
    }

    /// `PUT /v1/events/{event_id}`: updates an event, or a session through its `session_id`.
    /// The answer's body is not specified, so it is not read.
    pub async fn update_event(&self, event_id: Uuid, update: &UpdateEvent) -> Result<(), Error> {
        let path = format!("/v1/events/{event_id}");
        let body = encode(&Method::PUT, &path, update)?;
        self.send(Method::PUT, path, Some(body)).await.map(drop)
    }

    /// Deprecated `POST /session/start`, for servers that predate `/v1/sessions`.
    pub async fn start_session_legacy(
        &self,
        session: &LegacySession,
    ) -> Result<CreateSessionResponse, Error> {
        #[derive(Serialize)]
        struct Body<'a> {
            session: &'a LegacySession,
        }
        self.session_response(Method::POST, "/session/start".into(), &Body { session })
            .await
    }

    /// `POST /v1/events/batch`: events of any sessions, or of one new session with
    /// `single_session`.
    pub async fn create_event_batch(
        &self,
        batch: &EventBatch,
    ) -> Result<EventBatchResponse, Error> {
        let body = encode(&Method::POST, "/v1/events/batch", batch)?;
        self.call(Method::POST, "/v1/events/batch".into(), Some(body))
            .await
    }

    /// `POST /v1/events/batch` with the body already encoded (`{"events":[…]}`, each event
    /// naming its session): the events of several sessions in one request. An answer with
    /// `success: false` is a refusal.
    pub(crate) async fn create_event_batch_encoded(&self, body: Bytes) -> Result<(), Error> {
        let path = "/v1/events/batch".to_owned();
        let answer: EventBatchResponse = self.call(Method::POST, path.clone(), Some(body)).await?;
        refused_if_unsuccessful(
            Success {
                success: answer.success,
            },
            "POST",
            path,
        )
    }

    /// `GET /v1/sessions/{session_id}`: the session as a tree of its events, each node with
    /// numeric times. Only the local server (feature `emulator`) and older HoneyHive servers
    /// serve this route; HoneyHive's current data plane answers 404.
    pub async fn session_tree(&self, session_id: Uuid) -> Result<SessionTree, Error> {
        let path = format!("/v1/sessions/{session_id}");
        self.call(Method::GET, path, None).await
    }

    async fn session_response(
        &self,
        method: Method,
        path: String,
        body: &impl Serialize,
    ) -> Result<CreateSessionResponse, Error> {
        let body = encode(&method, &path, body)?;
        let record: EventRecord = self.call(method.clone(), path.clone(), Some(body)).await?;
        let session_id = record
            .session_id
            .as_deref()
            .ok_or("missing field `session_id`".to_owned())
            .and_then(|id| {
                Uuid::parse_str(id).map_err(|e| self.redact(format!("`{id}` is not a UUID: {e}")))
            })
            .map_err(|reason| Error::Decode {
                method: method_name(&method),
                path,
                json_path: "session_id".into(),
                reason,
            })?;
        Ok(CreateSessionResponse { session_id, record })
    }

    /// Sends and decodes the success body as `T`.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: String,
        body: Option<Bytes>,
    ) -> Result<T, Error> {
        let bytes = self.send(method.clone(), path.clone(), body).await?;
        // Read plainly first; only a body that does not decode is read again to say where.
        if let Ok(value) = serde_json::from_slice(&bytes) {
            return Ok(value);
        }
        let deserializer = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(deserializer).map_err(|e| Error::Decode {
            method: method_name(&method),
            path,
            json_path: self.redact(e.path().to_string()),
            reason: self.redact(e.into_inner().to_string()),
        })
    }

    /// Sends one request, with a JSON body if any; a success answer yields its body, any other
    /// an [`Error`].
    async fn send(
        &self,
        method: Method,
        path: String,
        body: Option<Bytes>,
    ) -> Result<Vec<u8>, Error> {
        let name = method_name(&method);
        let mut url = self.base.clone();
        url.set_path(&format!("{}{path}", self.base.path().trim_end_matches('/')));
        let headers = self.headers.clone().ok_or_else(|| {
            Error::config("api_key", "contains characters not allowed in a header")
        })?;
        let mut request = self
            .http
            .request(method, url)
            .timeout(self.timeout)
            .headers(headers);
        if self.client_headers {
            // As HoneyHive's Python SDK stamps every request, so that the backend can order
            // the requests of one client (an update applied before its create is lost).
            request = request.header(CLIENT_TIMESTAMP, unix_nanos().to_string());
        }
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body);
        }
        let transport = |e: reqwest::Error, path: String| {
            if e.is_timeout() {
                Error::Timeout {
                    method: name,
                    path,
                    timeout: self.timeout,
                }
            } else {
                Error::Transport {
                    method: name,
                    path,
                    source: Box::new(e),
                }
            }
        };
        let response = request
            .send()
            .await
            .map_err(|e| transport(e, path.clone()))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let bytes = response
            .bytes()
            .await
            .map_err(|e| transport(e, path.clone()))?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        let (message, error_code) = describe_error_body(status, &bytes);
        Err(Error::Status {
            method: name,
            path,
            status: status.as_u16(),
            message: self.redact(message),
            error_code: error_code.map(|code| self.redact(code)),
            retry_after,
        })
    }
}

/// A request body as JSON. The wire types always serialise (their maps have string keys); a
/// failure would be reported as the transport error the HTTP client gives for a body it cannot
/// build.
/// The header with the time a request was made, in Unix nanoseconds.
const CLIENT_TIMESTAMP: &str = "hh-client-timestamp";

/// Now, in nanoseconds since the Unix epoch.
fn unix_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos())
}

fn encode(method: &Method, path: &str, body: &impl Serialize) -> Result<Bytes, Error> {
    serde_json::to_vec(body)
        .map(Bytes::from)
        .map_err(|e| Error::Transport {
            method: method_name(method),
            path: path.to_owned(),
            source: Box::new(e),
        })
}

/// A `{"success": false}` answer is a refusal even with a 200 status.
fn refused_if_unsuccessful(
    success: Success,
    method: &'static str,
    path: String,
) -> Result<(), Error> {
    if success.success {
        return Ok(());
    }
    Err(Error::Status {
        method,
        path,
        status: 200,
        message: "the server answered {\"success\": false}".into(),
        error_code: None,
        retry_after: None,
    })
}

fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::PUT => "PUT",
        Method::GET => "GET",
        _ => "POST",
    }
}

/// The message of an error answer: the `message` of the documented JSON error body, else a short,
/// single-line excerpt of whatever came back (a proxy's HTML page, plain text), else the status's
/// reason phrase.
pub(crate) fn describe_error_body(status: StatusCode, body: &[u8]) -> (String, Option<String>) {
    if let Ok(error) = serde_json::from_slice::<ErrorBody>(body) {
        return (error.message, error.error_code);
    }
    let text = String::from_utf8_lossy(body);
    let title = text.find("<title>").and_then(|start| {
        let rest = &text[start + "<title>".len()..];
        rest.find("</title>").map(|end| &rest[..end])
    });
    let excerpt: String = title
        .unwrap_or(&text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(EXCERPT_CHARS)
        .collect();
    let reason = status.canonical_reason().unwrap_or("error");
    let message = match (excerpt.is_empty(), title.is_some()) {
        (true, _) => format!("{reason} (empty body)"),
        (false, true) => format!("{reason} (HTML page: {excerpt})"),
        (false, false) => format!("{reason} (non-JSON body: {excerpt})"),
    };
    (message, None)
}

/// `Retry-After` as delay-seconds or an HTTP date, relative to `now`; a date in the past is no
/// wait. Unparseable values are ignored.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0)
            .then(|| Duration::from_secs_f64(seconds.min(1e9)));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

mod builder;
#[cfg(test)]
mod tests;

pub use builder::ClientBuilder;
