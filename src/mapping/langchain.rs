//! langchain-rust's own `tracing` spans (its `observability` module, 7.x): known by their exact
//! name *and* their target, a module path under `langchain_rust`, so that a span of the same
//! name from any other crate maps as before. Pure: the span's name and target in, its event type
//! and where each of its fields goes out.
//!
//! langchain-rust records no prompts or answers on its spans (they go to `debug!` events, which
//! the span's `metadata.logs` keeps when the logs level lets them through); what it records:
//!
//! | span (target `langchain_rust::…`) | event type | fields → HoneyHive |
//! |---|---|---|
//! | `llm.generate` | `model` | `model`, `provider`, `stream` → `config.model`, `config.provider`, `config.stream`; `prompt_tokens`, `completion_tokens`, `total_tokens` → `metadata.*` (numbers); `tool_calls` (a count) → `metadata.tool_calls` |
//! | `embed.documents`, `embed.query` | `model` (as the GenAI `embeddings` operation) | `model`, `provider` → `config.model`, `config.provider`; `count` → `metadata.count` |
//! | `tool.call` | `tool` | `tool` → `config.tool_name` |
//! | `agent.run` | `chain` | `max_iterations` → `config.max_iterations`; `steps`, `total_tokens` → `metadata.*` |
//! | `agent.plan` | `chain` | `step` → `metadata.step` |
//! | `chain.call` | `chain` | `chain` (`llm_chain`, `router`), `destination` → `metadata.*`, as any field |
//! | every one | | `error` → the event's `error` (a control field) |
//!
//! Counts arrive as numbers from the layer and as text through tracing-opentelemetry (which
//! records a `u64` as text); both become numbers. A field not in the table maps as any field.

use serde_json::Value;

use crate::recorded::Bucket;
use crate::wire::EventType;

/// The crate's own module paths: `langchain_rust` and those below it.
const CRATE: &str = "langchain_rust";

/// One of langchain-rust's spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Span {
    /// `llm.generate`: a model call, streamed or not.
    Generate,
    /// `embed.documents`, `embed.query`.
    Embed,
    /// `tool.call`: an agent calling one of its tools.
    Tool,
    /// `agent.run`: an agent's whole run.
    Agent,
    /// `agent.plan`: one planning step of a run.
    Plan,
    /// `chain.call`: `LLMChain` or the router chain.
    Chain,
}

impl Span {
    /// The langchain-rust span named `name` with target `target`, if it is one.
    pub(crate) fn of(target: &str, name: &str) -> Option<Span> {
        let ours = target
            .strip_prefix(CRATE)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"));
        if !ours {
            return None;
        }
        Some(match name {
            "llm.generate" => Span::Generate,
            "embed.documents" | "embed.query" => Span::Embed,
            "tool.call" => Span::Tool,
            "agent.run" => Span::Agent,
            "agent.plan" => Span::Plan,
            "chain.call" => Span::Chain,
            _ => return None,
        })
    }

    /// The event type the span is: HoneyHive has no embedding type, and an embedding call is a
    /// model event, as the GenAI `embeddings` operation is.
    pub(crate) fn event_type(self) -> EventType {
        match self {
            Span::Generate | Span::Embed => EventType::Model,
            Span::Tool => EventType::Tool,
            Span::Agent | Span::Plan | Span::Chain => EventType::Chain,
        }
    }

    /// Where the span's field `field` goes: bucket, key and value, or the value back when the
    /// field is not one the table names for this span.
    pub(crate) fn place(
        self,
        field: &str,
        value: Value,
    ) -> Result<(Bucket, &'static str, Value), Value> {
        use Bucket::{Config, Metadata};
        let (bucket, key, count) = match (self, field) {
            (Span::Generate | Span::Embed, "model") => (Config, "model", false),
            (Span::Generate | Span::Embed, "provider") => (Config, "provider", false),
            (Span::Generate, "stream") => (Config, "stream", false),
            (Span::Generate, "prompt_tokens") => (Metadata, "prompt_tokens", true),
            (Span::Generate, "completion_tokens") => (Metadata, "completion_tokens", true),
            (Span::Generate | Span::Agent, "total_tokens") => (Metadata, "total_tokens", true),
            (Span::Generate, "tool_calls") => (Metadata, "tool_calls", true),
            (Span::Embed, "count") => (Metadata, "count", true),
            (Span::Tool, "tool") => (Config, "tool_name", false),
            (Span::Agent, "max_iterations") => (Config, "max_iterations", true),
            (Span::Agent, "steps") => (Metadata, "steps", true),
            (Span::Plan, "step") => (Metadata, "step", true),
            _ => return Err(value),
        };
        let value = if count {
            super::gen_ai::number_from_text(value)
        } else {
            value
        };
        Ok((bucket, key, value))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn spans_are_known_by_exact_name_and_a_target_in_the_crate() {
        use Span::{Agent, Chain, Embed, Generate, Plan, Tool};
        let cases: [(&str, &str, Option<Span>); 16] = [
            (
                "langchain_rust::observability",
                "llm.generate",
                Some(Generate),
            ),
            (
                "langchain_rust::observability",
                "embed.documents",
                Some(Embed),
            ),
            ("langchain_rust::observability", "embed.query", Some(Embed)),
            ("langchain_rust::agent::executor", "tool.call", Some(Tool)),
            ("langchain_rust::agent::executor", "agent.run", Some(Agent)),
            ("langchain_rust::agent::executor", "agent.plan", Some(Plan)),
            (
                "langchain_rust::chain::llm_chain",
                "chain.call",
                Some(Chain),
            ),
            (
                "langchain_rust::chain::router::chain",
                "chain.call",
                Some(Chain),
            ),
            ("langchain_rust", "llm.generate", Some(Generate)),
            // The same names from other crates, and near misses.
            ("my_app::llm", "llm.generate", None),
            ("langchain_rusty::llm", "llm.generate", None),
            ("langchain", "llm.generate", None),
            ("", "tool.call", None),
            ("langchain_rust::observability", "llm.generate.stream", None),
            ("langchain_rust::observability", "llm", None),
            ("langchain_rust::observability", "LLM.generate", None),
        ];
        for (target, name, expected) in cases {
            assert_eq!(Span::of(target, name), expected, "{target} {name}");
        }
    }

    #[test]
    fn models_and_embeddings_are_model_events_tools_tools_and_the_rest_chains() {
        use EventType::{Chain, Model, Tool};
        for (span, expected) in [
            (Span::Generate, Model),
            (Span::Embed, Model),
            (Span::Tool, Tool),
            (Span::Agent, Chain),
            (Span::Plan, Chain),
            (Span::Chain, Chain),
        ] {
            assert_eq!(span.event_type(), expected, "{span:?}");
        }
    }

    #[test]
    fn each_field_goes_to_its_honeyhive_key() {
        use Bucket::{Config, Metadata};
        let cases: [(Span, &str, Value, Bucket, &str, Value); 15] = [
            (
                Span::Generate,
                "model",
                json!("gpt-4o"),
                Config,
                "model",
                json!("gpt-4o"),
            ),
            (
                Span::Generate,
                "provider",
                json!("openai"),
                Config,
                "provider",
                json!("openai"),
            ),
            (
                Span::Generate,
                "stream",
                json!(true),
                Config,
                "stream",
                json!(true),
            ),
            (
                Span::Generate,
                "prompt_tokens",
                json!(7),
                Metadata,
                "prompt_tokens",
                json!(7),
            ),
            // Through tracing-opentelemetry a `u64` is text.
            (
                Span::Generate,
                "completion_tokens",
                json!("3"),
                Metadata,
                "completion_tokens",
                json!(3),
            ),
            (
                Span::Generate,
                "total_tokens",
                json!("10"),
                Metadata,
                "total_tokens",
                json!(10),
            ),
            (
                Span::Generate,
                "tool_calls",
                json!(2),
                Metadata,
                "tool_calls",
                json!(2),
            ),
            (
                Span::Embed,
                "model",
                json!("emb"),
                Config,
                "model",
                json!("emb"),
            ),
            (
                Span::Embed,
                "provider",
                json!("ollama"),
                Config,
                "provider",
                json!("ollama"),
            ),
            (
                Span::Embed,
                "count",
                json!("3"),
                Metadata,
                "count",
                json!(3),
            ),
            (
                Span::Tool,
                "tool",
                json!("search"),
                Config,
                "tool_name",
                json!("search"),
            ),
            (
                Span::Agent,
                "max_iterations",
                json!(10),
                Config,
                "max_iterations",
                json!(10),
            ),
            (
                Span::Agent,
                "steps",
                json!("2"),
                Metadata,
                "steps",
                json!(2),
            ),
            (
                Span::Agent,
                "total_tokens",
                json!(40),
                Metadata,
                "total_tokens",
                json!(40),
            ),
            (Span::Plan, "step", json!(0), Metadata, "step", json!(0)),
        ];
        for (span, field, value, bucket, key, expected) in cases {
            assert_eq!(
                span.place(field, value),
                Ok((bucket, key, expected)),
                "{span:?} {field}"
            );
        }
    }

    #[test]
    fn fields_the_table_does_not_name_for_the_span_are_given_back() {
        for (span, field) in [
            (Span::Chain, "chain"),
            (Span::Chain, "destination"),
            (Span::Chain, "model"),
            (Span::Tool, "model"),
            (Span::Tool, "tool_name"),
            (Span::Embed, "stream"),
            (Span::Plan, "steps"),
            (Span::Generate, "tool"),
            (Span::Generate, "count"),
            (Span::Generate, "temperature"),
        ] {
            assert_eq!(
                span.place(field, json!("x")),
                Err(json!("x")),
                "{span:?} {field}"
            );
        }
    }
}
