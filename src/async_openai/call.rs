//! One traced call, from its first attempt's request to its answer: the span is made when the
//! first attempt's request is built (only then is it known to be a call worth a span), each
//! attempt is counted, and the answer's body is handed to a [`Watch`].

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use async_openai::middleware::HttpRequestFactory;
use serde_json::Value;
use tracing::Span;

use super::body::{Watch, Watched};
use super::request::{self, Api};
use super::response;
use super::span::{self, Attr, record};

/// A call whose span was made: what its answer needs.
#[derive(Debug)]
struct Open {
    span: Span,
    api: Api,
    streaming: bool,
    content: bool,
    started: Instant,
}

/// A call on its way: the span the caller was in, and, once the first attempt's request is
/// built, the call's own span.
#[derive(Debug)]
pub(crate) struct Traced {
    parent: Span,
    content: Option<bool>,
    attempts: AtomicU32,
    open: Mutex<Option<Open>>,
}

impl Traced {
    /// A call made now, in the current span.
    pub(crate) fn new(content: Option<bool>) -> Traced {
        Traced {
            parent: Span::current(),
            content,
            attempts: AtomicU32::new(0),
            open: Mutex::new(None),
        }
    }

    /// An attempt's request was built: the first opens the span when the request is one of the
    /// traced APIs.
    fn attempt(&self, request: &reqwest::Request) {
        if self.attempts.fetch_add(1, Ordering::Relaxed) > 0 {
            return;
        }
        let Some(api) = Api::of(request.method(), request.url().path()) else {
            return;
        };
        let span = span::new_span(&self.parent);
        let content = self.content.unwrap_or_else(|| content_default(&span));
        let body = request
            .body()
            .and_then(reqwest::Body::as_bytes)
            .and_then(|bytes| serde_json::from_slice::<Value>(bytes).ok());
        let call = request::call(api, request.url(), body.as_ref(), content);
        record(&span, &call.attrs);
        let open = Open {
            span,
            api,
            streaming: call.streaming,
            content,
            started: Instant::now(),
        };
        *self.open.lock().unwrap_or_else(PoisonError::into_inner) = Some(open);
    }

    /// The open call, taken (once), with its resends recorded.
    fn take(&self) -> Option<Open> {
        let open = self
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        let resends = self.attempts.load(Ordering::Relaxed).saturating_sub(1);
        if resends > 0 {
            record(
                &open.span,
                &[("http.request.resend_count", Attr::I64(resends.into()))],
            );
        }
        Some(open)
    }
}

/// Whether content is recorded when the layer does not say: not when
/// `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` says no, else as the crate's switch
/// says for `span`'s subscriber.
fn content_default(span: &Span) -> bool {
    static OTEL: std::sync::OnceLock<Option<bool>> = std::sync::OnceLock::new();
    let otel = OTEL.get_or_init(|| {
        crate::config::flag(
            &crate::config::process_env,
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
        )
        .ok()
        .flatten()
    });
    *otel != Some(false) && crate::config::captures_content(span)
}

/// `factory`, counting each attempt's request as it is built.
pub(crate) fn counted(call: &Arc<Traced>, factory: HttpRequestFactory) -> HttpRequestFactory {
    let call = Arc::clone(call);
    HttpRequestFactory::new(move || {
        let call = Arc::clone(&call);
        let factory = factory.clone();
        async move {
            let request = factory.build().await?;
            call.attempt(&request);
            Ok(request)
        }
    })
}

/// Ends a call dropped before its answer came: the span reads as cancelled.
struct Unanswered(Arc<Traced>);

impl Drop for Unanswered {
    fn drop(&mut self) {
        if let Some(open) = self.0.take() {
            record(&open.span, &[("metadata.cancelled", Attr::Bool(true))]);
        }
    }
}

/// Waits for the answer, and hands its body to a watch that ends the span.
pub(crate) async fn answer<F, E>(call: Arc<Traced>, attempts: F) -> Result<reqwest::Response, E>
where
    F: Future<Output = Result<reqwest::Response, E>>,
    E: std::fmt::Display + 'static,
{
    let unanswered = Unanswered(call);
    let result = attempts.await;
    let Some(open) = unanswered.0.take() else {
        return result;
    };
    match result {
        Ok(response) => Ok(watched(response, open)),
        Err(error) => {
            record(&open.span, &error_attrs(&error));
            Err(error)
        }
    }
}

/// An error instead of an answer. async-openai's retry hands back a rate limit it gave up on
/// as an API error, with the status and OpenAI's error; otherwise the class is what reqwest
/// says failed (`timeout`, `connection`, `request`), else the error's kind or type.
fn error_attrs<E: std::fmt::Display + 'static>(error: &E) -> Vec<(&'static str, Attr)> {
    use async_openai::error::OpenAIError;
    let openai = (error as &dyn std::any::Any).downcast_ref::<OpenAIError>();
    if let Some(OpenAIError::ApiError(answer)) = openai {
        let api = &answer.api_error;
        let fields =
            serde_json::json!({"message": api.message, "type": api.r#type, "code": api.code});
        let status = http::StatusCode::from_u16(answer.status_code.as_u16()).ok();
        let mut attrs = response::api_error(status, &fields);
        if let Some(status) = status {
            attrs.push((
                "http.response.status_code",
                Attr::I64(status.as_u16().into()),
            ));
        }
        return attrs;
    }
    let kind = match openai {
        Some(OpenAIError::Reqwest(e)) if e.is_timeout() => "timeout",
        Some(OpenAIError::Reqwest(e)) if e.is_connect() => "connection",
        Some(OpenAIError::Reqwest(_)) => "request",
        Some(OpenAIError::Boxed(_)) => "middleware",
        Some(OpenAIError::InvalidArgument(_)) => "invalid_argument",
        Some(_) => "OpenAIError",
        None => std::any::type_name::<E>(),
    };
    vec![
        ("otel.status_code", "ERROR".into()),
        ("otel.status_description", error.to_string().into()),
        ("error.type", kind.into()),
    ]
}

/// The answer, its body watched. Its URL goes with it, as reqwest keeps it.
fn watched(response: reqwest::Response, open: Open) -> reqwest::Response {
    use reqwest::ResponseBuilderExt as _;
    let status = response.status();
    let url = response.url().clone();
    let watch = Watch::new(
        open.span,
        open.api,
        open.streaming,
        status,
        open.content,
        open.started,
    );
    let (mut parts, body) = http::Response::<reqwest::Body>::from(response).into_parts();
    if let Ok(with_url) = http::Response::builder().url(url).body(()) {
        parts.extensions.extend(with_url.into_parts().0.extensions);
    }
    let body = reqwest::Body::wrap(Watched::new(body, watch));
    reqwest::Response::from(http::Response::from_parts(parts, body))
}
