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
}
