//! The loopback sink: a minimal HTTP/1.1 server on `127.0.0.1` (port 0) that answers the routes
//! this crate's client calls, and OTLP's `POST /v1/traces`, with the smallest answers the clients
//! accept, keeps nothing, and counts what it received.
//!
//! One thread accepts, one thread serves each connection; connections are kept alive (HTTP/1.1)
//! and request bodies are read by `Content-Length` or `Transfer-Encoding: chunked`. Bodies are
//! not decompressed. The JSON bodies are parsed with `serde_json`, in the sink's process, to
//! count the events they carry.
//!
//! Its answers:
//! - `POST /v1/sessions`: 200 `{"event_id", "session_id", "org_id", "workspace_id",
//!   "project_id"}`, the ids being the body's `session_id` (or its `session` object's) when it is
//!   a UUID, else a new one;
//! - `POST /v1/sessions/{id}/events/batch` and `PUT /v1/events/{id}`: 200 `{"success": true}`;
//! - `POST /v1/events/batch`: 200 `{"event_ids": [...], "success": true}`, with the events' own
//!   ids, or new ones;
//! - `POST /v1/traces` (OTLP/HTTP): 200 with an empty `application/x-protobuf` body;
//! - a JSON route whose body is not the JSON expected: 400 with the documented error body;
//! - anything else: 404 with the documented error body.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;

use serde::Deserialize;
use serde::de::IgnoredAny;
use uuid::Uuid;

/// The longest request line or header line read.
const MAX_LINE: u64 = 64 * 1024;
/// The largest request body read; a larger one is answered 413 and the connection closed.
const MAX_BODY: usize = 256 * 1024 * 1024;

/// What the sink received since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Connections accepted.
    pub connections: u64,
    /// Requests read, whatever their route.
    pub requests: u64,
    /// Request body bytes, as sent (chunked bodies without their framing).
    pub bytes: u64,
    /// `POST /v1/sessions` answered 200.
    pub sessions: u64,
    /// `PUT /v1/events/{id}` answered 200.
    pub session_updates: u64,
    /// Batch requests answered 200, of both batch routes.
    pub event_batches: u64,
    /// Of those, `POST /v1/events/batch`.
    pub cross_session_batches: u64,
    /// Items of the `events` arrays of the batches answered 200.
    pub events: u64,
    /// `POST /v1/traces` answered 200.
    pub otlp_requests: u64,
    /// Their body bytes.
    pub otlp_bytes: u64,
    /// Requests answered 404.
    pub not_found: u64,
    /// Requests answered 400 (a JSON route whose body is not the JSON expected) or 413.
    pub malformed: u64,
}

impl Counts {
    /// What was received between `earlier` and `self`.
    pub fn since(&self, earlier: &Counts) -> Counts {
        Counts {
            connections: self.connections - earlier.connections,
            requests: self.requests - earlier.requests,
            bytes: self.bytes - earlier.bytes,
            sessions: self.sessions - earlier.sessions,
            session_updates: self.session_updates - earlier.session_updates,
            event_batches: self.event_batches - earlier.event_batches,
            cross_session_batches: self.cross_session_batches - earlier.cross_session_batches,
            events: self.events - earlier.events,
            otlp_requests: self.otlp_requests - earlier.otlp_requests,
            otlp_bytes: self.otlp_bytes - earlier.otlp_bytes,
            not_found: self.not_found - earlier.not_found,
            malformed: self.malformed - earlier.malformed,
        }
    }

    /// The sum of `self` and `other`.
    pub fn plus(&self, other: &Counts) -> Counts {
        Counts {
            connections: self.connections + other.connections,
            requests: self.requests + other.requests,
            bytes: self.bytes + other.bytes,
            sessions: self.sessions + other.sessions,
            session_updates: self.session_updates + other.session_updates,
            event_batches: self.event_batches + other.event_batches,
            cross_session_batches: self.cross_session_batches + other.cross_session_batches,
            events: self.events + other.events,
            otlp_requests: self.otlp_requests + other.otlp_requests,
            otlp_bytes: self.otlp_bytes + other.otlp_bytes,
            not_found: self.not_found + other.not_found,
            malformed: self.malformed + other.malformed,
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    connections: AtomicU64,
    requests: AtomicU64,
    bytes: AtomicU64,
    sessions: AtomicU64,
    session_updates: AtomicU64,
    event_batches: AtomicU64,
    cross_session_batches: AtomicU64,
    events: AtomicU64,
    otlp_requests: AtomicU64,
    otlp_bytes: AtomicU64,
    not_found: AtomicU64,
    malformed: AtomicU64,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl Counters {
    fn snapshot(&self) -> Counts {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Counts {
            connections: get(&self.connections),
            requests: get(&self.requests),
            bytes: get(&self.bytes),
            sessions: get(&self.sessions),
            session_updates: get(&self.session_updates),
            event_batches: get(&self.event_batches),
            cross_session_batches: get(&self.cross_session_batches),
            events: get(&self.events),
            otlp_requests: get(&self.otlp_requests),
            otlp_bytes: get(&self.otlp_bytes),
            not_found: get(&self.not_found),
            malformed: get(&self.malformed),
        }
    }
}

/// A running sink; dropping it stops accepting connections.
#[derive(Debug)]
pub struct Sink {
    addr: SocketAddr,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Sink {
    /// Starts the sink on `127.0.0.1`, on a port the system picks.
    pub fn start() -> io::Result<Sink> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let counters = Arc::clone(&counters);
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("sink-accept".into())
                .spawn(move || accept(&listener, &counters, &stop))?
        };
        Ok(Sink {
            addr,
            counters,
            stop,
            accept: Some(accept),
        })
    }

    /// The base URL, `http://127.0.0.1:<port>`: this crate's `with_api_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The OTLP/HTTP traces endpoint, `http://127.0.0.1:<port>/v1/traces`.
    pub fn otlp_traces_url(&self) -> String {
        format!("http://{}/v1/traces", self.addr)
    }

    /// What the sink received so far.
    pub fn counts(&self) -> Counts {
        self.counters.snapshot()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accepting thread so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn accept(listener: &TcpListener, counters: &Arc<Counters>, stop: &AtomicBool) {
    for stream in listener.incoming() {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let Ok(stream) = stream else { continue };
        add(&counters.connections, 1);
        let counters = Arc::clone(counters);
        let spawned = std::thread::Builder::new()
            .name("sink-connection".into())
            .spawn(move || {
                // A client that goes away mid-request is no concern of the sink's.
                let _ = serve(stream, &counters);
            });
        if spawned.is_err() {
            // Out of threads: the connection is dropped, and the client sees it closed.
            continue;
        }
    }
}

/// The parts of a request head the sink uses.
struct Head {
    method: String,
    path: String,
    content_length: Option<usize>,
    chunked: bool,
    expect_continue: bool,
    close: bool,
}

/// Serves one connection's requests until the client closes it or asks to.
fn serve(stream: TcpStream, counters: &Counters) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::with_capacity(64 * 1024, stream.try_clone()?);
    let mut writer = stream;
    let mut line = Vec::with_capacity(256);
    let mut body = Vec::new();
    let mut response = Vec::with_capacity(512);
    loop {
        let Some(head) = read_head(&mut reader, &mut line)? else {
            return Ok(());
        };
        add(&counters.requests, 1);
        if head.expect_continue {
            writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        body.clear();
        let fits = if head.chunked {
            read_chunked(&mut reader, &mut line, &mut body)?
        } else {
            read_sized(&mut reader, head.content_length.unwrap_or(0), &mut body)?
        };
        add(&counters.bytes, body.len() as u64);
        response.clear();
        let close = if fits {
            answer(&head, &body, counters, &mut response);
            head.close
        } else {
            add(&counters.malformed, 1);
            let message = "request body too large";
            respond(
                &mut response,
                413,
                "application/json",
                &error_body(413, message),
                true,
            );
            true
        };
        writer.write_all(&response)?;
        if close {
            return Ok(());
        }
    }
}

/// Reads one line, CRLF or LF ended, into `line` without its end; `false` at the end of the
/// stream.
fn read_line(reader: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<bool> {
    line.clear();
    let n = reader.by_ref().take(MAX_LINE).read_until(b'\n', line)?;
    if n == 0 {
        return Ok(false);
    }
    if line.last() != Some(&b'\n') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "line too long or cut",
        ));
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(true)
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

/// Reads a request line and its headers; `None` when the client closed the connection between
/// requests.
fn read_head(reader: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<Option<Head>> {
    // Empty lines before a request line are allowed (RFC 9112, 2.2).
    loop {
        if !read_line(reader, line)? {
            return Ok(None);
        }
        if !line.is_empty() {
            break;
        }
    }
    let text = String::from_utf8_lossy(line);
    let mut parts = text.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("not a request line"));
    };
    let path = target.split('?').next().unwrap_or(target).to_owned();
    let mut head = Head {
        method: method.to_owned(),
        path,
        content_length: None,
        chunked: false,
        expect_continue: false,
        // HTTP/1.0 closes unless asked to keep the connection alive.
        close: version == "HTTP/1.0",
    };
    loop {
        if !read_line(reader, line)? {
            return Err(invalid("the connection closed in the headers"));
        }
        if line.is_empty() {
            return Ok(Some(head));
        }
        let text = String::from_utf8_lossy(line);
        let Some((name, value)) = text.split_once(':') else {
            return Err(invalid("a header line without a colon"));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            head.content_length = Some(value.parse().map_err(|_| invalid("Content-Length"))?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            head.chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|coding| coding.trim().eq_ignore_ascii_case("chunked"));
        } else if name.eq_ignore_ascii_case("connection") {
            for token in value.split(',').map(str::trim) {
                if token.eq_ignore_ascii_case("close") {
                    head.close = true;
                } else if token.eq_ignore_ascii_case("keep-alive") {
                    head.close = false;
                }
            }
        } else if name.eq_ignore_ascii_case("expect") {
            head.expect_continue = value.eq_ignore_ascii_case("100-continue");
        }
    }
}

/// Reads a `Content-Length` body; `false` (and nothing read) when it is larger than the sink
/// takes.
fn read_sized(reader: &mut impl BufRead, length: usize, body: &mut Vec<u8>) -> io::Result<bool> {
    if length > MAX_BODY {
        return Ok(false);
    }
    body.resize(length, 0);
    reader.read_exact(body)?;
    Ok(true)
}

/// Reads a chunked body and its trailers; `false` when it grows larger than the sink takes.
fn read_chunked(
    reader: &mut impl BufRead,
    line: &mut Vec<u8>,
    body: &mut Vec<u8>,
) -> io::Result<bool> {
    loop {
        if !read_line(reader, line)? {
            return Err(invalid("the connection closed in a chunked body"));
        }
        let text = String::from_utf8_lossy(line);
        let size = text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| invalid("chunk size"))?;
        if size == 0 {
            // Trailers, up to the empty line.
            loop {
                if !read_line(reader, line)? || line.is_empty() {
                    return Ok(true);
                }
            }
        }
        if body.len() + size > MAX_BODY {
            return Ok(false);
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        if !read_line(reader, line)? || !line.is_empty() {
            return Err(invalid("a chunk not followed by CRLF"));
        }
    }
}

/// `POST /v1/sessions`: the session's own id, at the top level or in a `session` object.
#[derive(Deserialize)]
struct SessionBody {
    #[serde(default)]
    session_id: Option<serde_json::Value>,
    #[serde(default)]
    session: Option<InnerSession>,
    #[serde(default)]
    start_time: Option<f64>,
    #[serde(default)]
    end_time: Option<f64>,
}

#[derive(Deserialize)]
struct InnerSession {
    #[serde(default)]
    session_id: Option<serde_json::Value>,
}

/// A batch of either route, counted and otherwise skipped.
#[derive(Deserialize)]
struct Batch {
    #[serde(default)]
    events: Vec<IgnoredAny>,
}

/// `POST /v1/events/batch`, whose answer names each event.
#[derive(Deserialize)]
struct CrossSessionBatch {
    #[serde(default)]
    events: Vec<EventId>,
}

#[derive(Deserialize)]
struct EventId {
    #[serde(default)]
    event_id: Option<serde_json::Value>,
}

/// The UUID in `value`, as text, else a new one.
fn uuid_or_new(value: Option<&serde_json::Value>) -> String {
    value
        .and_then(serde_json::Value::as_str)
        .and_then(|id| Uuid::parse_str(id).ok())
        .unwrap_or_else(Uuid::new_v4)
        .to_string()
}

/// The documented error body.
fn error_body(status: u16, message: &str) -> String {
    format!(r#"{{"statusCode":{status},"message":"{message}","success":false}}"#)
}

fn respond(response: &mut Vec<u8>, status: u16, content_type: &str, body: &str, close: bool) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        413 => "Content Too Large",
        _ => "",
    };
    let connection = if close { "connection: close\r\n" } else { "" };
    let _ = write!(
        response,
        "HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n{connection}\r\n{body}",
        body.len()
    );
}

/// Writes the answer to one request into `response`, and counts it.
fn answer(head: &Head, body: &[u8], counters: &Counters, response: &mut Vec<u8>) {
    const JSON: &str = "application/json";
    let close = head.close;
    let success = r#"{"success":true}"#;
    let malformed = |response: &mut Vec<u8>, error: serde_json::Error| {
        add(&counters.malformed, 1);
        let message = format!("request body is not the JSON expected: {error}").replace('"', "'");
        respond(response, 400, JSON, &error_body(400, &message), close);
    };
    let path = head.path.as_str();
    match head.method.as_str() {
        "POST" if path == "/v1/sessions" => match serde_json::from_slice::<SessionBody>(body) {
            Ok(session) => {
                let given = session
                    .session_id
                    .as_ref()
                    .or_else(|| session.session.as_ref()?.session_id.as_ref());
                let id = uuid_or_new(given);
                add(&counters.sessions, 1);
                // A new session as HoneyHive stores it: its times are the create's own, which
                // is how the client tells a new session from one that existed already (and then
                // sends the final state again as an update).
                let time = |t: Option<f64>| t.map_or_else(|| "null".to_owned(), |t| t.to_string());
                let answer = format!(
                    r#"{{"event_id":"{id}","session_id":"{id}","org_id":"sink","workspace_id":"sink","project_id":"sink","start_time":{},"end_time":{}}}"#,
                    time(session.start_time),
                    time(session.end_time),
                );
                respond(response, 200, JSON, &answer, close);
            }
            Err(error) => malformed(response, error),
        },
        "POST" if path == "/v1/events/batch" => {
            match serde_json::from_slice::<CrossSessionBatch>(body) {
                Ok(batch) => {
                    add(&counters.event_batches, 1);
                    add(&counters.cross_session_batches, 1);
                    add(&counters.events, batch.events.len() as u64);
                    let ids: Vec<String> = batch
                        .events
                        .iter()
                        .map(|event| format!("\"{}\"", uuid_or_new(event.event_id.as_ref())))
                        .collect();
                    let answer = format!(r#"{{"event_ids":[{}],"success":true}}"#, ids.join(","));
                    respond(response, 200, JSON, &answer, close);
                }
                Err(error) => malformed(response, error),
            }
        }
        "POST" if is_session_batch(path) => match serde_json::from_slice::<Batch>(body) {
            Ok(batch) => {
                add(&counters.event_batches, 1);
                add(&counters.events, batch.events.len() as u64);
                respond(response, 200, JSON, success, close);
            }
            Err(error) => malformed(response, error),
        },
        "PUT" if is_event(path) => match serde_json::from_slice::<IgnoredAny>(body) {
            Ok(_) => {
                add(&counters.session_updates, 1);
                respond(response, 200, JSON, success, close);
            }
            Err(error) => malformed(response, error),
        },
        "POST" if path == "/v1/traces" => {
            add(&counters.otlp_requests, 1);
            add(&counters.otlp_bytes, body.len() as u64);
            respond(response, 200, "application/x-protobuf", "", close);
        }
        _ => {
            add(&counters.not_found, 1);
            respond(
                response,
                404,
                JSON,
                &error_body(404, "Route not found"),
                close,
            );
        }
    }
}

/// `/v1/sessions/{id}/events/batch`.
fn is_session_batch(path: &str) -> bool {
    path.strip_prefix("/v1/sessions/")
        .and_then(|rest| rest.strip_suffix("/events/batch"))
        .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

/// `/v1/events/{id}`.
fn is_event(path: &str) -> bool {
    path.strip_prefix("/v1/events/")
        .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}
