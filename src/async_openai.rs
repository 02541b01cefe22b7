//! async-openai's calls as OpenTelemetry GenAI spans, streaming included (feature
//! `async-openai`).
//!
//! async-openai emits no spans of its own. Its `middleware` feature lets a tower stack carry its
//! requests ([`Client::with_http_service`](async_openai::Client::with_http_service)); the
//! [`TraceLayer`] here is such a layer. Each chat completion, Responses API call and embeddings
//! call becomes one span named as the GenAI conventions name it (`chat gpt-4o-mini`), with the
//! conventions' fields. It is the child of the span the call was made in. The crate's layer and
//! exporter map it like any GenAI span, into a `model` event. Other subscribers see a standard
//! span, for example tracing-opentelemetry exporting to any backend.
//!
//! ```no_run
//! use async_openai::{Client, config::OpenAIConfig};
//!
//! // async-openai's own transport and retries, traced: the one line to add.
//! let client = Client::with_config(OpenAIConfig::new())
//!     .with_http_service(tracing_honeyhive::async_openai::service());
//! ```
//!
//! With a stack of your own, put the layer outermost:
//!
//! ```no_run
//! use async_openai::middleware::{ReqwestService, retry::OpenAIRetryLayer};
//! use async_openai::{Client, config::OpenAIConfig};
//! use tracing_honeyhive::async_openai::TraceLayer;
//!
//! let service = tower::ServiceBuilder::new()
//!     .layer(TraceLayer::new())
//!     .layer(OpenAIRetryLayer::new(3))
//!     .service(ReqwestService::new(reqwest::Client::new()));
//! let client = Client::with_config(OpenAIConfig::new()).with_http_service(service);
//! ```
//!
//! # Retries
//!
//! `with_http_service` replaces the whole transport, and with it async-openai's default retry
//! (its `OpenAIRetryLayer`: rate limits, 5xx and connection errors, with backoff and
//! `Retry-After`). [`service`] puts it back inside the trace. With the trace outside the retry,
//! a call that was retried is still one span covering every attempt, as the GenAI conventions
//! ask. `http.request.resend_count` counts the attempts after the first.
//!
//! # What a span records
//!
//! | | fields |
//! |---|---|
//! | the request | `gen_ai.operation.name` (`chat`, `embeddings`), `gen_ai.provider.name` (`openai`, or `azure.ai.openai` for Azure's hosts), `openai.api.type`, `gen_ai.request.model`, `.temperature`, `.top_p`, `.max_tokens`, `.frequency_penalty`, `.presence_penalty`, `.stop_sequences`, `.seed`, `.choice.count`, `.stream`, `.reasoning.level`, `.previous_response.id`, `gen_ai.conversation.id`, `gen_ai.output.type`, `openai.request.service_tier`, `server.address`, `server.port` |
//! | content | `gen_ai.input.messages`, `gen_ai.system_instructions` (the Responses API's `instructions`), `gen_ai.output.messages`, in the conventions' `{role, parts}` form, with text, tool calls, tool results, reasoning and media parts; `gen_ai.tool.definitions` |
//! | the answer | `gen_ai.response.id`, `.model`, `.finish_reasons`, `.time_to_first_chunk` (streams), `openai.response.service_tier`, `.system_fingerprint`, `gen_ai.usage.input_tokens`, `.output_tokens`, `.cache_read.input_tokens`, `.reasoning.output_tokens` |
//! | embeddings | `gen_ai.request.encoding_formats`, `gen_ai.embeddings.dimension.count`, the inputs in `honeyhive.inputs`, and `honeyhive.outputs` with how many vectors of what dimension (never the vectors) |
//! | an error | `otel.status_code = "ERROR"`, `otel.status_description` (`HTTP 429 Too Many Requests: Rate limit reached…`), `error.type` (OpenAI's error type or code, else the status), `http.response.status_code` |
//! | a stream the caller dropped | `metadata.cancelled = true`, with what had arrived |
//!
//! A streamed answer is read as the caller reads it: the deltas (text, tool call arguments)
//! build the same output a whole answer records. Nothing is read ahead of the caller, and the
//! span ends at `[DONE]` (the Responses API's last event), at the end of the body, on an error,
//! or when the caller drops the stream.
//!
//! Other requests (files, models, audio, images, the legacy completions API) pass through
//! untraced.
//!
//! # Content
//!
//! Messages, instructions and embedding inputs are recorded unless content is off:
//! [`TraceLayer::with_capture_content`], else `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=false`,
//! else the crate's own switch (the layer's
//! [`with_capture_content`](crate::layer::Builder::with_capture_content), or `HH_CAPTURE_CONTENT`
//! under another subscriber). With content off a message keeps its role and the types, ids and
//! tool names of its parts, and nothing anyone wrote.
//!
//! # Versions and cost
//!
//! async-openai 0.37 to 0.43, whose middleware API (`HttpRequestFactory`,
//! `with_http_service`) is the same. CI tests the newest. When no subscriber wants the span (the
//! target `tracing_honeyhive::async_openai`, level `INFO`), a call costs a check and nothing is
//! parsed. Otherwise the request is built once for the trace and reused for the first attempt,
//! and its JSON body is parsed once.

mod body;
#[cfg(test)]
mod body_tests;
mod call;
mod messages;
mod request;
mod response;
mod span;
mod stream;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_openai::middleware::retry::{OpenAIRetry, OpenAIRetryLayer};
use async_openai::middleware::{HttpRequestFactory, ReqwestService};

/// async-openai's default transport, with its default retry, traced: give it to
/// [`Client::with_http_service`](async_openai::Client::with_http_service).
pub fn service() -> Trace<OpenAIRetry<ReqwestService>> {
    TraceLayer::new().layer_default()
}

/// A tower layer that traces async-openai's calls (see the [module docs](self)).
#[derive(Debug, Clone, Default)]
pub struct TraceLayer {
    content: Option<bool>,
}

impl TraceLayer {
    /// A layer that records content as the environment and the crate's layer say.
    pub fn new() -> TraceLayer {
        TraceLayer::default()
    }

    /// Records messages, instructions and embedding inputs (`true`), or only their shape
    /// (`false`), whatever the environment says.
    pub fn with_capture_content(mut self, capture: bool) -> TraceLayer {
        self.content = Some(capture);
        self
    }

    /// The layer around async-openai's default transport and retry.
    fn layer_default(self) -> Trace<OpenAIRetry<ReqwestService>> {
        use tower::Layer as _;
        let transport = ReqwestService::new(reqwest::Client::new());
        self.layer(OpenAIRetryLayer::default().layer(transport))
    }
}

impl<S> tower::Layer<S> for TraceLayer {
    type Service = Trace<S>;

    fn layer(&self, inner: S) -> Trace<S> {
        Trace {
            inner,
            content: self.content,
        }
    }
}

/// The service [`TraceLayer`] makes: traces each call, then hands it to `S`.
#[derive(Debug, Clone)]
pub struct Trace<S> {
    inner: S,
    content: Option<bool>,
}

impl<S> tower::Service<HttpRequestFactory> for Trace<S>
where
    S: tower::Service<HttpRequestFactory, Response = reqwest::Response> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: std::fmt::Display + Send + 'static,
{
    type Response = reqwest::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<reqwest::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, factory: HttpRequestFactory) -> Self::Future {
        if !span::enabled() {
            return Box::pin(self.inner.call(factory));
        }
        let call = Arc::new(call::Traced::new(self.content));
        let future = self.inner.call(call::counted(&call, factory));
        Box::pin(call::answer(call, future))
    }
}
