//! The span of one async-openai call: a callsite of our own, because a GenAI span names more
//! fields than `tracing`'s macros take (32), and the values recorded on it.

use tracing::callsite::DefaultCallsite;
use tracing::field::FieldSet;
use tracing::metadata::Kind;
use tracing::{Level, Metadata, Span};

/// The `tracing` target of the spans: filter them with `tracing_honeyhive::async_openai=info`.
pub(crate) const TARGET: &str = "tracing_honeyhive::async_openai";

/// Every field a call's span may record: the OpenTelemetry GenAI conventions (inference and
/// embeddings spans, and OpenAI's own attributes), HTTP and error attributes, and the two
/// HoneyHive buckets that have no convention (an embedding's inputs and outputs).
pub(crate) const FIELDS: &[&str] = &[
    "otel.name",
    "otel.kind",
    "otel.status_code",
    "otel.status_description",
    "gen_ai.operation.name",
    "gen_ai.provider.name",
    "openai.api.type",
    "gen_ai.request.model",
    "gen_ai.request.temperature",
    "gen_ai.request.top_p",
    "gen_ai.request.max_tokens",
    "gen_ai.request.frequency_penalty",
    "gen_ai.request.presence_penalty",
    "gen_ai.request.stop_sequences",
    "gen_ai.request.seed",
    "gen_ai.request.choice.count",
    "gen_ai.request.stream",
    "gen_ai.request.reasoning.level",
    "gen_ai.request.encoding_formats",
    "gen_ai.request.previous_response.id",
    "gen_ai.conversation.id",
    "openai.request.service_tier",
    "gen_ai.output.type",
    "gen_ai.embeddings.dimension.count",
    "gen_ai.system_instructions",
    "gen_ai.input.messages",
    "gen_ai.tool.definitions",
    "gen_ai.output.messages",
    "gen_ai.response.id",
    "gen_ai.response.model",
    "gen_ai.response.finish_reasons",
    "gen_ai.response.time_to_first_chunk",
    "openai.response.service_tier",
    "openai.response.system_fingerprint",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.reasoning.output_tokens",
    "server.address",
    "server.port",
    "http.response.status_code",
    "http.request.resend_count",
    "error.type",
    "metadata.cancelled",
    "honeyhive.inputs",
    "honeyhive.outputs",
];

static CALLSITE: DefaultCallsite = DefaultCallsite::new(&META);

static META: Metadata<'static> = Metadata::new(
    "openai",
    TARGET,
    Level::INFO,
    Some(file!()),
    Some(line!()),
    Some(module_path!()),
    FieldSet::new(FIELDS, tracing_core::identify_callsite!(&CALLSITE)),
    Kind::SPAN,
);

/// A value for a field of the span.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Attr {
    Str(String),
    I64(i64),
    F64(f64),
    Bool(bool),
}

impl From<&str> for Attr {
    fn from(text: &str) -> Attr {
        Attr::Str(text.to_owned())
    }
}

impl From<String> for Attr {
    fn from(text: String) -> Attr {
        Attr::Str(text)
    }
}

/// The fields a part of the call gives, in the order they were found.
pub(crate) type Attrs = Vec<(&'static str, Attr)>;

/// Whether a subscriber wants the spans (a check against the callsite's cached interest).
pub(crate) fn enabled() -> bool {
    if tracing::level_filters::LevelFilter::current() < Level::INFO {
        return false;
    }
    let interest = CALLSITE.interest();
    !interest.is_never()
        && (interest.is_always() || tracing::dispatcher::get_default(|d| d.enabled(&META)))
}

/// A new span for a call, the child of `parent` (a root when `parent` is none). Its fields are
/// recorded afterwards ([`record`]): the callsite has more than a value set built at once may
/// hold.
pub(crate) fn new_span(parent: &Span) -> Span {
    Span::child_of(parent, &META, &META.fields().value_set(&[]))
}

/// Records `attrs` on `span`; a name the callsite does not declare is a bug, caught in tests
/// ([`declared`]).
pub(crate) fn record(span: &Span, attrs: &[(&'static str, Attr)]) {
    for (name, value) in attrs {
        match value {
            Attr::Str(text) => span.record(*name, text.as_str()),
            Attr::I64(n) => span.record(*name, *n),
            Attr::F64(n) => span.record(*name, *n),
            Attr::Bool(b) => span.record(*name, *b),
        };
    }
}

/// Whether the span declares `name`.
#[cfg(test)]
pub(crate) fn declared(name: &str) -> bool {
    use tracing::callsite::Callsite as _;
    CALLSITE.metadata().fields().field(name).is_some()
}
