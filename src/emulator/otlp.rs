//! OTLP/HTTP trace ingest: `POST /opentelemetry/v1/traces` (HoneyHive's path) and
//! `POST /v1/traces` (OTLP's default), as the OTLP/HTTP specification has a server answer.
//!
//! - Bodies: `application/x-protobuf`, decoded with the OpenTelemetry project's generated types,
//!   and `application/json`, read leniently ([`json`]). `Content-Encoding: gzip` is inflated,
//!   bounded by the server's body limit like the body itself; another encoding is `415`.
//! - Answers: `200` with an `ExportTraceServiceResponse` in the request's encoding, with a
//!   partial success naming how many spans were rejected (malformed ids) and why. Errors carry a
//!   `google.rpc.Status`: `400` for a body that cannot be decoded or inflated, `413` for one that
//!   inflates past the limit (a body sent over it is refused before routing, with the REST
//!   routes' error body), `415` for another content type or encoding. Never a `5xx` for bad
//!   input.
//! - Auth: the same bearer key rule as the REST routes.
//! - Where the spans go: [`sink`], the crate's own exporter pointed at this server, so that an
//!   OTLP span and the same span exported in-process make the same session and event.

mod json;
mod sink;
mod spans;

use std::io::Read as _;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message as _;

pub(crate) use self::sink::Sink;
use super::{Emulator, Shared};

/// HoneyHive's OTLP trace path.
pub const HONEYHIVE_TRACES_PATH: &str = "/opentelemetry/v1/traces";
/// OTLP/HTTP's default trace path.
pub const OTLP_TRACES_PATH: &str = "/v1/traces";

/// `google.rpc.Status`, the body of an OTLP/HTTP error answer (its `details` are not used).
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

/// `google.rpc.Code`s of the answers.
const INVALID_ARGUMENT: i32 = 3;
const RESOURCE_EXHAUSTED: i32 = 8;
const UNAVAILABLE: i32 = 14;

/// The two encodings OTLP/HTTP has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    fn of(headers: &HeaderMap) -> Option<Encoding> {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim();
        match essence.to_ascii_lowercase().as_str() {
            "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
            "application/json" => Some(Encoding::Json),
            _ => None,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// An answer in `encoding`.
fn answer(status: StatusCode, encoding: Encoding, body: Vec<u8>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, encoding.content_type())],
        body,
    )
        .into_response()
}

/// An error answer: `status`, with a `google.rpc.Status` saying what is wrong, in `encoding`, as
/// OTLP/HTTP has every error answer carry.
fn refuse(status: StatusCode, encoding: Encoding, message: String) -> Response {
    let code = match status {
        StatusCode::BAD_REQUEST | StatusCode::UNSUPPORTED_MEDIA_TYPE => INVALID_ARGUMENT,
        StatusCode::PAYLOAD_TOO_LARGE => RESOURCE_EXHAUSTED,
        _ => UNAVAILABLE,
    };
    let body = match encoding {
        Encoding::Protobuf => RpcStatus { code, message }.encode_to_vec(),
        Encoding::Json => serde_json::to_vec(&serde_json::json!({
            "code": code,
            "message": message,
        }))
        .unwrap_or_default(),
    };
    answer(status, encoding, body)
}

/// The body, inflated when it is gzip, at most `limit` bytes either way.
fn inflate(headers: &HeaderMap, body: Bytes, limit: usize) -> Result<Bytes, (StatusCode, String)> {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("" | "identity") => Ok(body),
        Some("gzip") => {
            let mut out = Vec::new();
            let read = flate2::read::GzDecoder::new(&body[..])
                .take(limit as u64 + 1)
                .read_to_end(&mut out);
            match read {
                Err(e) => Err((
                    StatusCode::BAD_REQUEST,
                    format!("the gzip body is broken: {e}"),
                )),
                Ok(_) if out.len() > limit => Err((
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the body inflates to more than {limit} bytes"),
                )),
                Ok(_) => Ok(Bytes::from(out)),
            }
        }
        Some(other) => Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Encoding `{other}` is not supported: send gzip or none"),
        )),
    }
}

/// `POST` of an OTLP trace export.
pub(super) async fn ingest(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(encoding) = Encoding::of(&headers) else {
        // No encoding to answer in: protobuf, OTLP/HTTP's default.
        let message = "send application/x-protobuf or application/json".to_owned();
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Encoding::Protobuf,
            message,
        );
    };
    let body = match inflate(&headers, body, shared.body_limit) {
        Ok(body) => body,
        Err((status, message)) => return refuse(status, encoding, message),
    };
    let request = match encoding {
        Encoding::Protobuf => ExportTraceServiceRequest::decode(body)
            .map_err(|e| format!("not an OTLP ExportTraceServiceRequest: {e}")),
        Encoding::Json => json::decode(&body),
    };
    let request = match request {
        Ok(request) => request,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, encoding, message),
    };
    let mut converted = spans::convert(request);
    for group in &mut converted.groups {
        for span in &mut group.spans {
            mark_if_sessionless(&shared, span);
        }
    }
    if !converted.groups.is_empty() {
        match shared.otlp_sink() {
            Some(sink) => sink.ingest(converted.groups),
            None => {
                let message = "the server could not start its OTLP ingest".to_owned();
                return refuse(StatusCode::SERVICE_UNAVAILABLE, encoding, message);
            }
        }
    }
    let partial_success = (converted.rejected > 0).then(|| ExportTracePartialSuccess {
        rejected_spans: converted.rejected,
        error_message: converted.reason.unwrap_or_default(),
    });
    let response = ExportTraceServiceResponse { partial_success };
    let body = match encoding {
        Encoding::Protobuf => response.encode_to_vec(),
        Encoding::Json => {
            let mut body = serde_json::json!({});
            if let Some(partial) = &response.partial_success {
                body["partialSuccess"] = serde_json::json!({
                    "rejectedSpans": partial.rejected_spans.to_string(),
                    "errorMessage": partial.error_message,
                });
            }
            body.to_string().into_bytes()
        }
    };
    answer(StatusCode::OK, encoding, body)
}

/// The session attributes HoneyHive's OTLP ingestion reads (its Python SDK sets both).
const SESSION_KEYS: [&str; 2] = [
    crate::fields::SESSION_ID,
    "traceloop.association.properties.session_id",
];

/// What the stored event says when HoneyHive would have left its span outside any session.
const SESSIONLESS_NOTE: &str = "honeyhive_metadata.honeyhive_ingest";

/// HoneyHive attaches a span that names its session only to a session that exists, unless the
/// span sets `honeyhive.session_auto_create` (its Python SDK sets that when it did not start the
/// session itself). This server stores such a span all the same, and says so on the event rather
/// than hide it.
fn mark_if_sessionless(shared: &Shared, span: &mut opentelemetry_sdk::trace::SpanData) {
    let text = |key: &str| {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.to_string())
    };
    let Some(given) = SESSION_KEYS.iter().find_map(|key| text(key)) else {
        return;
    };
    let auto_create = text("honeyhive.session_auto_create")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if auto_create || given.trim().is_empty() {
        return;
    }
    // The id the exporter derives from the key, as HoneyHive's SDKs do.
    let session = crate::ids::session_id_for_key(&given).to_string();
    if shared.lock().store.session(&session).is_some() {
        return;
    }
    let note = format!(
        "HoneyHive would leave this span outside any session: session {session} did not exist \
         when the span arrived, and the span does not set honeyhive.session_auto_create"
    );
    span.attributes
        .push(opentelemetry::KeyValue::new(SESSIONLESS_NOTE, note));
}

impl Shared {
    /// The OTLP ingest's exporter, started on first use.
    fn otlp_sink(&self) -> Option<Arc<Sink>> {
        let mut slot = self.otlp.lock().unwrap_or_else(|e| e.into_inner());
        let sink = slot.get_or_insert_with(|| {
            Sink::new(self.url.clone(), self.api_key.as_deref())
                .map(Arc::new)
                .map_err(|e| e.to_string())
        });
        sink.as_ref().ok().cloned()
    }

    /// The OTLP ingest's exporter, if an OTLP request started it.
    fn otlp_sink_if_started(&self) -> Option<Arc<Sink>> {
        let slot = self.otlp.lock().unwrap_or_else(|e| e.into_inner());
        slot.as_ref().and_then(|s| s.as_ref().ok().cloned())
    }
}

impl Emulator {
    /// Waits until every span received over OTLP so far is stored as sessions and events (or
    /// refused), at most `timeout`; true when it is. Spans are stored by the crate's exporter,
    /// which sends them to this server's REST routes in the background.
    pub fn flush_otlp(&self, timeout: Duration) -> bool {
        match self.shared.otlp_sink() {
            Some(sink) => sink.flush(timeout).is_ok(),
            None => true,
        }
    }

    /// What the OTLP ingest handed to the exporter, and what became of it.
    pub fn otlp_stats(&self) -> Option<crate::Stats> {
        self.shared.otlp_sink_if_started().map(|sink| sink.stats())
    }
}
