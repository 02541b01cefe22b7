//! The local server's request handling driven in-process, for the `cargo fuzz` target
//! `emulator_request` (built only with `--cfg fuzzing`, which cargo-fuzz sets).

use std::sync::{Arc, Condvar, Mutex};

use axum::body::Body;
use axum::http::{Method, Request, header};
use tower::ServiceExt;

use super::{Shared, State, routes};
use crate::wire::ErrorBody;

/// The stack the thread calling [`Handler::check`] needs.
pub const STACK_SIZE: usize = super::json::STACK_SIZE;

/// The key the handler requires.
pub const KEY: &str = "hh_fuzz_0123456789abcdef";

/// The routes of the local server with a fresh store for every request.
pub struct Handler {
    runtime: tokio::runtime::Runtime,
    shared: Arc<Shared>,
}

impl Default for Handler {
    fn default() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime");
        let shared = Arc::new(Shared {
            api_key: Some(KEY.to_owned()),
            key_refusal: super::KeyRefusal::default(),
            body_limit: super::DEFAULT_BODY_LIMIT,
            state: Mutex::default(),
            changed: Condvar::new(),
            url: "http://127.0.0.1:9".to_owned(),
            // Ingested spans are decoded and converted, and then sent nowhere.
            otlp: Mutex::new(Some(
                super::otlp::Sink::discarding()
                    .map(Arc::new)
                    .map_err(|e| e.to_string()),
            )),
            // Keyed: the web view's JSON admits the key as a bearer, refuses anything else.
            access: super::web::Access::new(Some(KEY), &[]),
            live: tokio::sync::watch::Sender::new(0),
        });
        Handler { runtime, shared }
    }
}

impl Handler {
    /// Sends one request and checks what the contract promises of any answer: never a 5xx, an
    /// error status always with the documented error body, a success always with JSON. Panics
    /// otherwise. Call it on a thread with a stack of [`STACK_SIZE`]:
    /// deep bodies recurse once per level.
    pub fn check(&self, method: &str, path: &str, authorized: bool, body: &[u8]) {
        let Ok(method) = Method::from_bytes(method.as_bytes()) else {
            return;
        };
        let mut request = Request::builder().method(method).uri(path);
        if authorized {
            request = request.header(header::AUTHORIZATION, format!("Bearer {KEY}"));
        }
        let Ok(request) = request.body(Body::from(body.to_vec())) else {
            return;
        };
        let router = routes::router(Arc::clone(&self.shared));
        let (status, bytes) = self.runtime.block_on(async move {
            let response = router.oneshot(request).await.expect("infallible");
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("an in-memory body");
            (status, bytes)
        });
        assert!(!status.is_server_error(), "{status} for {path}: {bytes:?}");
        if status.is_success() {
            assert!(
                serde_json::from_slice::<serde_json::Value>(&bytes).is_ok(),
                "{status} for {path} with a body that is not JSON: {bytes:?}"
            );
        } else {
            let error: ErrorBody = serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{status} for {path}: not the error body ({e})"));
            assert_eq!(error.status_code, status.as_u16());
        }
        // Forget what was stored, so memory stays flat over millions of inputs.
        *self.shared.lock() = State::default();
    }

    /// Sends one OTLP trace export (`content_type` as given, gzipped when `gzip`) and checks what
    /// OTLP/HTTP promises: never a 5xx; a success with an `ExportTraceServiceResponse`, an error
    /// with a `google.rpc.Status` in the request's encoding (or the REST routes' error body for a
    /// refused key). Panics otherwise.
    pub fn check_otlp(
        &self,
        path: &str,
        authorized: bool,
        content_type: &str,
        gzip: bool,
        body: &[u8],
    ) {
        use prost::Message as _;
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, content_type);
        if authorized {
            request = request.header(header::AUTHORIZATION, format!("Bearer {KEY}"));
        }
        if gzip {
            request = request.header(header::CONTENT_ENCODING, "gzip");
        }
        let Ok(request) = request.body(Body::from(body.to_vec())) else {
            return;
        };
        let router = routes::router(Arc::clone(&self.shared));
        let (status, answered_type, bytes) = self.runtime.block_on(async move {
            let response = router.oneshot(request).await.expect("infallible");
            let status = response.status();
            let answered_type = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("an in-memory body");
            (status, answered_type, bytes)
        });
        assert!(!status.is_server_error(), "{status} for {path}: {bytes:?}");
        let json = answered_type == "application/json";
        if status.is_success() {
            let decoded = if json {
                serde_json::from_slice::<serde_json::Value>(&bytes).is_ok()
            } else {
                opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse::decode(
                    bytes.clone(),
                )
                .is_ok()
            };
            assert!(decoded, "{status} for {path}: {answered_type} {bytes:?}");
        } else if status.as_u16() == 401 {
            let error: ErrorBody = serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{status} for {path}: not the error body ({e})"));
            assert_eq!(error.status_code, status.as_u16());
        } else if json {
            let status_body: serde_json::Value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{status} for {path}: not a JSON Status ({e})"));
            assert!(status_body["code"].is_i64(), "{status_body}");
        } else {
            assert_eq!(
                answered_type, "application/x-protobuf",
                "{status} for {path}"
            );
        }
        *self.shared.lock() = State::default();
    }
}
