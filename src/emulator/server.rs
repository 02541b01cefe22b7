//! The connection loop and what happens around every request: latency, faults, the body limit,
//! and the record of what was received, when, and how it was answered.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tower::ServiceExt;

use super::{FaultKind, RecordedRequest, Shared, routes};
use crate::wire::ErrorBody;

/// Returned by the request handler to make hyper close the connection without an answer.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for DropConnection {}

/// Serves every listener with the same routes until `stop`.
pub(super) async fn serve(
    listeners: Vec<std::net::TcpListener>,
    shared: Arc<Shared>,
    mut stop: oneshot::Receiver<()>,
) {
    let router = routes::router(Arc::clone(&shared));
    let mut accepting = JoinSet::new();
    for listener in listeners {
        let Ok(listener) = TcpListener::from_std(listener) else {
            continue;
        };
        accepting.spawn(accept(listener, Arc::clone(&shared), router.clone()));
    }
    let _ = (&mut stop).await;
    accepting.shutdown().await;
}

/// Accepts connections on `listener` and serves each, until cancelled.
async fn accept(listener: TcpListener, shared: Arc<Shared>, router: Router) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of file descriptors or similar: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let (shared, router) = (Arc::clone(&shared), router.clone());
                let service = hyper::service::service_fn(move |request| {
                    handle(Arc::clone(&shared), router.clone(), request)
                });
                connections.spawn(async move {
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn handle(
    shared: Arc<Shared>,
    router: Router,
    request: Request<Incoming>,
) -> Result<Response<Body>, DropConnection> {
    // The web view's requests are not the API's: neither delayed, faulted nor recorded.
    if super::web::is_view(request.method(), request.uri().path()) {
        let Ok(response) = router
            .oneshot(request.map(Body::new))
            .await
            .map_err(|e: Infallible| e);
        return Ok(response);
    }
    let received_at = Instant::now();
    let latency = shared.lock().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let (parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
    let mut record = RecordedRequest {
        method: parts.method.to_string(),
        path: path.clone(),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect(),
        body: String::new(),
        status: None,
        received_at,
    };
    let bytes = match axum::body::to_bytes(Body::new(body), shared.body_limit).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let limit = shared.body_limit;
            let response = error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body is larger than {limit} bytes"),
            );
            record.status = Some(response.status().as_u16());
            shared.record(record);
            return Ok(response);
        }
    };
    record.body = String::from_utf8_lossy(&bytes).into_owned();
    let response = match shared.take_fault(parts.uri.path()) {
        Some(FaultKind::DropConnection) => {
            shared.record(record);
            return Err(DropConnection);
        }
        Some(FaultKind::Status {
            status,
            retry_after,
            body,
            truncated,
        }) => fault_response(status, retry_after, body, truncated),
        None => {
            let request = Request::from_parts(parts, Body::from(bytes));
            let Ok(response) = router.oneshot(request).await.map_err(|e: Infallible| e);
            response
        }
    };
    record.status = Some(response.status().as_u16());
    shared.record(record);
    Ok(response)
}

fn fault_response(
    status: u16,
    retry_after: Option<String>,
    body: Option<(String, String)>,
    truncated: bool,
) -> Response<Body> {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = match body {
        Some((content_type, body)) if truncated => {
            let declared = HeaderValue::from(body.len() + 1);
            let mut response = Response::new(Body::new(Truncated::new(body.into())));
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, declared);
            if let Ok(value) = HeaderValue::try_from(content_type) {
                response.headers_mut().insert(header::CONTENT_TYPE, value);
            }
            *response.status_mut() = status;
            response
        }
        Some((content_type, body)) => {
            let mut response = Response::new(Body::from(body));
            if let Ok(value) = HeaderValue::try_from(content_type) {
                response.headers_mut().insert(header::CONTENT_TYPE, value);
            }
            *response.status_mut() = status;
            response
        }
        None => error(status, format!("injected fault: {status}")),
    };
    if let Some(value) = retry_after.and_then(|v| HeaderValue::try_from(v).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// A body that ends before the `Content-Length` of its response. Its size is not known in
/// advance, so hyper frames it by that header: it writes the bytes, and as the body ends short,
/// closes the connection.
struct Truncated {
    data: Option<Bytes>,
    sent: bool,
    waited: bool,
}

impl Truncated {
    fn new(data: Bytes) -> Self {
        Truncated {
            data: (!data.is_empty()).then_some(data),
            sent: false,
            waited: false,
        }
    }
}

impl hyper::body::Body for Truncated {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(data) = self.data.take() {
            // From now on the body is at its end: hyper writes the chunk, finds it shorter than
            // declared, and closes the connection once it is flushed.
            self.sent = true;
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        if !self.waited {
            // No bytes at all: hyper takes an empty body's end as an error and closes without
            // flushing, so first let it flush the head.
            self.waited = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.sent
    }
}

/// An answer with the documented error body.
pub(super) fn error(status: StatusCode, message: impl Into<String>) -> Response<Body> {
    let body = ErrorBody::new(status.as_u16(), message);
    let json = serde_json::to_vec(&body).unwrap_or_default();
    let mut response = Response::new(Body::from(json));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
