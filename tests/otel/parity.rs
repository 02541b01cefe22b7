//! One mapping for both front doors: the same span, given as `tracing` fields to the layer and
//! as OpenTelemetry attributes to the exporter, becomes the same HoneyHive event.

use opentelemetry::KeyValue;
use serde_json::{Value, json};
use tracing_honeyhive::HoneyHiveLayer;
use tracing_honeyhive::wire::EventRecord;
use tracing_subscriber::layer::SubscriberExt;

use super::*;

/// A case: its name, the span as the layer records it, the same span's attributes.
type Case = (&'static str, fn(), Vec<KeyValue>);

/// Writes one case as both a `tracing` span named `child` (inside a root `turn`) and the
/// attribute list of an OpenTelemetry span, from one list of `name = value`.
macro_rules! case {
    ($label:literal, { $($($key:ident).+ = $value:expr),* $(,)? }) => {{
        fn layer_span() {
            let _turn = tracing::info_span!("turn").entered();
            let _child = tracing::info_span!("child", $($($key).+ = $value),*).entered();
        }
        let attributes = vec![$(KeyValue::new(stringify!($($key).+), $value)),*];
        ($label, layer_span as fn(), attributes) as Case
    }};
}

fn cases() -> Vec<Case> {
    vec![
        case!("a model call in the GenAI conventions", {
            gen_ai.operation.name = "chat",
            gen_ai.provider.name = "openai",
            gen_ai.request.model = "gpt-4o-mini",
            gen_ai.request.temperature = 0.2,
            gen_ai.usage.input_tokens = 12_i64,
            gen_ai.usage.output_tokens = 5_i64,
            gen_ai.response.id = "chatcmpl-1",
            gen_ai.input.messages =
                r#"[{"role":"user","parts":[{"type":"text","content":"Where is my order?"}]}]"#,
            gen_ai.output.messages =
                r#"[{"role":"assistant","parts":[{"type":"text","content":"It shipped."}]}]"#,
        }),
        case!("a model call in the newest GenAI names", {
            gen_ai.operation.name = "chat",
            gen_ai.provider.name = "anthropic",
            gen_ai.request.model = "claude-sonnet",
            gen_ai.request.reasoning.level = "high",
            gen_ai.usage.input_tokens = 40_i64,
            gen_ai.usage.output_tokens = 8_i64,
            gen_ai.usage.cache_read.input_tokens = 16_i64,
            gen_ai.usage.cache_write.input_tokens = 24_i64,
            gen_ai.usage.reasoning.output_tokens = 3_i64,
            gen_ai.response.finish_reasons = r#"["stop"]"#,
            gen_ai.response.time_to_first_chunk = 0.25,
            gen_ai.prompt.name = "support",
            gen_ai.prompt.variable.user_name = "Alice",
            gen_ai.output.messages = r#"[{"role":"assistant","parts":[{"type":"reasoning","content":"Look it up."},{"type":"text","content":"Shipped."}]}]"#,
        }),
        case!("a failed tool call", {
            gen_ai.operation.name = "execute_tool",
            gen_ai.tool.name = "orders",
            gen_ai.tool.call.id = "call_7",
            gen_ai.tool.call.arguments = r#"{"order_id":7}"#,
            gen_ai.tool.call.result = r#"{"status":"unknown"}"#,
            error = "orders service answered 503",
        }),
        case!("HoneyHive's SDK attribute names", {
            honeyhive_event_type = "tool",
            honeyhive_event_name = "search",
            honeyhive_inputs.query = "shipping times",
            honeyhive_config.model = "ranker-v2",
            honeyhive_metadata.customer.tier = "gold",
            honeyhive_metrics.score = 0.5,
            honeyhive_feedback.helpful = true,
            honeyhive_user_properties.user_id = "u-1",
        }),
        case!("buckets, controls and plain fields", {
            honeyhive.event_type = "chain",
            honeyhive.event_name = "plan",
            honeyhive.source = "batch-job",
            inputs.question = "What next?",
            outputs.answer = "Ship it.",
            config.retries = 3_i64,
            metrics.latency_ms = 12.5,
            feedback.rating = 4_i64,
            user_properties.plan = "pro",
            cache_hit = true,
        }),
    ]
}

/// What each case must map to, as JSON pointers into [`decided`].
fn expected(label: &str) -> Vec<(&'static str, Value)> {
    match label {
        "a model call in the GenAI conventions" => vec![
            ("/event_type", json!("model")),
            ("/config/model", json!("gpt-4o-mini")),
            ("/config/temperature", json!(0.2)),
            ("/metadata/prompt_tokens", json!(12)),
            ("/metadata/total_tokens", json!(17)),
            (
                "/inputs/chat_history/0/content",
                json!("Where is my order?"),
            ),
            ("/outputs/content", json!("It shipped.")),
        ],
        "a model call in the newest GenAI names" => vec![
            ("/event_type", json!("model")),
            ("/config/reasoning_effort", json!("high")),
            ("/metadata/cache_read_input_tokens", json!(16)),
            ("/metadata/cache_write_input_tokens", json!(24)),
            ("/metadata/reasoning_tokens", json!(3)),
            ("/metadata/total_tokens", json!(48)),
            ("/metadata/time_to_first_token_ms", json!(250.0)),
            ("/metadata/prompt_name", json!("support")),
            ("/inputs/template_variables/user_name", json!("Alice")),
            ("/outputs/content", json!("Shipped.")),
            ("/outputs/finish_reason", json!("stop")),
            ("/outputs/messages/0/reasoning", json!("Look it up.")),
        ],
        "a failed tool call" => vec![
            ("/event_type", json!("tool")),
            ("/inputs/arguments/order_id", json!(7)),
            ("/outputs/result/status", json!("unknown")),
            ("/error", json!("orders service answered 503")),
        ],
        "HoneyHive's SDK attribute names" => vec![
            ("/event_type", json!("tool")),
            ("/event_name", json!("search")),
            ("/inputs/query", json!("shipping times")),
            ("/metadata/customer/tier", json!("gold")),
            ("/metrics/score", json!(0.5)),
        ],
        "buckets, controls and plain fields" => vec![
            ("/event_name", json!("plan")),
            ("/source", json!("batch-job")),
            ("/outputs/answer", json!("Ship it.")),
            ("/feedback/rating", json!(4)),
            ("/metadata/cache_hit", json!(true)),
        ],
        other => panic!("no expectations for {other}"),
    }
}

/// The parts of an event the mapping decides, with metadata the exporter adds about the
/// OpenTelemetry span itself (`otel.*`, the resource's `service.*`/`telemetry.*`) left out.
fn decided(event: &EventRecord) -> Value {
    let mut metadata = event.metadata.clone().unwrap_or_else(|| json!({}));
    if let Value::Object(map) = &mut metadata {
        map.retain(|key, _| {
            !["otel.", "service.", "telemetry."]
                .iter()
                .any(|p| key.starts_with(p))
        });
    }
    json!({
        "event_type": event.event_type,
        "event_name": event.event_name,
        "source": event.source,
        "error": event.error,
        "inputs": event.inputs,
        "outputs": event.outputs,
        "config": event.config,
        "metadata": metadata,
        "metrics": event.metrics,
        "feedback": event.feedback,
        "user_properties": event.user_properties,
    })
}

/// The one event below the session on `server`.
fn child(server: &Emulator) -> EventRecord {
    let events = server.events();
    assert_eq!(events.len(), 1, "{events:#?}");
    events.into_iter().next().unwrap()
}

#[test]
fn the_same_span_through_the_layer_and_the_exporter_yields_the_same_event() {
    for (label, layer_span, attributes) in cases() {
        let through_layer = server();
        let (layer, guard) = HoneyHiveLayer::builder()
            .with_api_key(KEY)
            .with_api_url(through_layer.url())
            .with_source("test")
            .build()
            .unwrap();
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), layer_span);
        guard.flush(PATIENCE).expect("the layer delivers");

        let through_exporter = server();
        let exporter = exporter(&through_exporter, |b| b);
        let mut span = Made::new(1, 2, 1, "child");
        span.attributes = attributes;
        export(
            &exporter,
            vec![vec![span.data(), Made::new(1, 1, 0, "turn").data()]],
        );
        flushed(&exporter.handle());

        let (from_layer, from_exporter) = (child(&through_layer), child(&through_exporter));
        assert_eq!(
            decided(&from_layer),
            decided(&from_exporter),
            "{label}: the layer's event (left) and the exporter's (right) differ"
        );
        // Equal could mean equally empty: the case's values must be where the mapping puts them.
        let decided = decided(&from_exporter);
        for (pointer, value) in expected(label) {
            assert_eq!(
                decided.pointer(pointer),
                Some(&value),
                "{label}: {pointer} in {decided:#}"
            );
        }
    }
}
