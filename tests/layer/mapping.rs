//! What a span's fields, recorded values, events and structured values become.

use serde_json::json;
use tracing::field::Empty;
use tracing::{error, info, info_span, warn};
use tracing_honeyhive::{Enrichment, HoneyHiveSpanExt, fields};

use crate::{Harness, object};

#[test]
fn fields_route_by_prefix_and_keep_their_json_types() {
    let harness = Harness::new();
    harness.run(|| {
        let _root = info_span!("root").entered();
        let _step = info_span!(
            "step",
            inputs.query = "shoes",
            inputs.limit = 3_u64,
            outputs.hits = -2_i64,
            config.temperature = 0.25,
            metadata.cached = true,
            metrics.score = 0.5,
            feedback.rating = 4,
            user_properties.user_id = "u-1",
            retries = 2,
            note = ?vec!["a", "b"],
            shown = %"display",
        )
        .entered();
    });
    harness.flush();
    let step = harness.event("step");
    assert_eq!(object(&step.inputs), json!({"query": "shoes", "limit": 3}));
    assert_eq!(object(&step.outputs), json!({"hits": -2}));
    assert_eq!(object(&step.config), json!({"temperature": 0.25}));
    assert_eq!(
        object(&step.metadata),
        json!({"cached": true, "retries": 2, "note": "[\"a\", \"b\"]", "shown": "display"})
    );
    assert_eq!(object(&step.metrics), json!({"score": 0.5}));
    assert_eq!(object(&step.feedback), json!({"rating": 4}));
    assert_eq!(object(&step.user_properties), json!({"user_id": "u-1"}));
    assert_eq!(step.event_type.as_deref(), Some("chain"));
}

#[test]
fn values_recorded_later_count_including_control_fields() {
    let harness = Harness::new();
    harness.run(|| {
        let _root = info_span!("root").entered();
        let step = info_span!(
            "step",
            outputs.answer = Empty,
            metrics.latency_ok = Empty,
            honeyhive.event_type = Empty,
            honeyhive.event_name = Empty,
        );
        let _step = step.enter();
        step.record("outputs.answer", "42");
        step.record("metrics.latency_ok", true);
        step.record(fields::EVENT_TYPE, "tool");
        step.record(fields::EVENT_NAME, "calculator");
        step.record("outputs.answer", "43");
    });
    harness.flush();
    let step = harness.event("calculator");
    assert_eq!(step.event_type.as_deref(), Some("tool"));
    assert_eq!(object(&step.outputs), json!({"answer": "43"}));
    assert_eq!(object(&step.metrics), json!({"latency_ok": true}));
}

#[test]
fn every_event_type_comes_from_the_reserved_field_or_gen_ai_fields() {
    let harness = Harness::new();
    harness.run(|| {
        let _root = info_span!("root").entered();
        for (name, kind) in [
            ("m", "model"),
            ("t", "tool"),
            ("c", "chain"),
            ("x", "MODEL"),
        ] {
            let _s = info_span!(
                "explicit",
                honeyhive.event_name = name,
                honeyhive.event_type = kind
            )
            .entered();
        }
        let _a = info_span!("chat op", gen_ai.operation.name = "chat").entered();
        drop(_a);
        let _b = info_span!("tool op", gen_ai.operation.name = "execute_tool").entered();
        drop(_b);
        let _c = info_span!(
            "agent op",
            gen_ai.operation.name = "invoke_agent",
            gen_ai.request.model = "m"
        )
        .entered();
        drop(_c);
        let _d = info_span!("embed", gen_ai.operation.name = "embeddings").entered();
        drop(_d);
        let _e = info_span!("just a model", gen_ai.request.model = "gpt-4o").entered();
        drop(_e);
        let _f = info_span!("just a tool", gen_ai.tool.name = "search").entered();
        drop(_f);
        let _g = info_span!("bad type", honeyhive.event_type = "banana").entered();
    });
    harness.flush();
    let kind = |name: &str| harness.event(name).event_type.unwrap();
    assert_eq!(kind("m"), "model");
    assert_eq!(kind("t"), "tool");
    assert_eq!(kind("c"), "chain");
    assert_eq!(kind("x"), "model");
    assert_eq!(kind("chat op"), "model");
    assert_eq!(kind("tool op"), "tool");
    assert_eq!(kind("agent op"), "chain");
    assert_eq!(kind("embed"), "model");
    assert_eq!(kind("just a model"), "model");
    assert_eq!(kind("just a tool"), "tool");
    let bad = harness.event("bad type");
    assert_eq!(bad.event_type.as_deref(), Some("chain"));
    assert_eq!(
        object(&bad.metadata)["honeyhive.invalid_event_type"],
        json!("banana")
    );
}

#[test]
fn gen_ai_fields_map_onto_honeyhive_names() {
    let harness = Harness::new();
    let messages = r#"[{"role":"system","content":"Be brief."},{"role":"user","parts":[{"type":"text","content":"Hi"}]}]"#;
    let output = r#"[{"role":"assistant","parts":[{"type":"text","content":"Hello!"}],"finish_reason":"stop"}]"#;
    harness.run(|| {
        let _root = info_span!("root").entered();
        let _llm = info_span!(
            "chat gpt-4o",
            gen_ai.operation.name = "chat",
            gen_ai.provider.name = "openai",
            gen_ai.request.model = "gpt-4o",
            gen_ai.request.temperature = 0.7,
            gen_ai.request.max_tokens = 256,
            gen_ai.response.model = "gpt-4o-2024-08-06",
            gen_ai.usage.input_tokens = 21,
            gen_ai.usage.output_tokens = 4,
            gen_ai.input.messages = messages,
            gen_ai.output.messages = output,
            gen_ai.conversation.id = "conv-9",
        )
        .entered();
    });
    harness.flush();
    let llm = harness.event("chat gpt-4o");
    assert_eq!(llm.event_type.as_deref(), Some("model"));
    assert_eq!(
        object(&llm.config),
        json!({"provider": "openai", "model": "gpt-4o", "temperature": 0.7, "max_tokens": 256})
    );
    let metadata = object(&llm.metadata);
    assert_eq!(metadata["prompt_tokens"], json!(21));
    assert_eq!(metadata["completion_tokens"], json!(4));
    assert_eq!(metadata["total_tokens"], json!(25));
    assert_eq!(metadata["response_model"], json!("gpt-4o-2024-08-06"));
    assert_eq!(metadata["operation"], json!("chat"));
    assert_eq!(metadata["conversation_id"], json!("conv-9"));
    let inputs = object(&llm.inputs);
    assert_eq!(inputs["chat_history"][0]["content"], json!("Be brief."));
    assert_eq!(inputs["chat_history"][1]["content"], json!("Hi"));
    let outputs = object(&llm.outputs);
    assert_eq!(outputs["role"], json!("assistant"));
    assert_eq!(outputs["content"], json!("Hello!"));
    assert_eq!(outputs["finish_reason"], json!("stop"));
    assert_eq!(outputs["messages"][0]["finish_reason"], json!("stop"));
}

#[test]
fn the_extension_trait_attaches_json_to_the_span_and_to_its_session() {
    let harness = Harness::new();
    harness.run(|| {
        let root = info_span!("conversation", inputs.topic = "billing");
        let _root = root.enter();
        let llm = info_span!("llm", honeyhive.event_type = "model", inputs.extra = 1);
        let _llm = llm.enter();
        llm.set_inputs(
            json!({"chat_history": [{"role": "user", "content": "Refund \"order\" #7?"}]}),
        );
        llm.set_outputs(json!({"role": "assistant", "content": "Done."}));
        llm.set_config(json!({"model": "m-1", "stop": ["\n\n"]}));
        llm.set_metadata(json!({"nested": {"deep": [1, 2.5, null]}}));
        llm.set_metrics(json!({"faithfulness": 0.93}));
        llm.set_feedback(json!({"thumbs_up": true}));
        llm.set_user_properties(json!({"tier": "gold"}));
        llm.set_inputs(json!("a bare string"));
        llm.enrich_session(
            Enrichment::new()
                .with_user_properties(json!({"user_id": "u-42"}))
                .with_metadata(json!({"channel": "web"}))
                .with_metrics(json!({"resolved": true}))
                .with_feedback(json!({"csat": 5}))
                .with_outputs(json!({"summary": "refunded"})),
        );
    });
    harness.flush();
    let llm = harness.event("llm");
    assert_eq!(
        object(&llm.inputs),
        json!({
            "extra": 1,
            "chat_history": [{"role": "user", "content": "Refund \"order\" #7?"}],
            "value": "a bare string",
        })
    );
    assert_eq!(
        object(&llm.outputs),
        json!({"role": "assistant", "content": "Done."})
    );
    assert_eq!(
        object(&llm.config),
        json!({"model": "m-1", "stop": ["\n\n"]})
    );
    assert_eq!(
        object(&llm.metadata),
        json!({"nested": {"deep": [1, 2.5, null]}})
    );
    assert_eq!(object(&llm.metrics), json!({"faithfulness": 0.93}));
    assert_eq!(object(&llm.feedback), json!({"thumbs_up": true}));
    assert_eq!(object(&llm.user_properties), json!({"tier": "gold"}));
    let session = &harness.server.sessions()[0];
    assert_eq!(object(&session.inputs), json!({"topic": "billing"}));
    assert_eq!(object(&session.user_properties), json!({"user_id": "u-42"}));
    assert_eq!(object(&session.metadata)["channel"], json!("web"));
    assert_eq!(object(&session.metrics), json!({"resolved": true}));
    assert_eq!(object(&session.feedback), json!({"csat": 5}));
    assert_eq!(object(&session.outputs), json!({"summary": "refunded"}));
}

#[test]
fn errors_come_from_the_error_field_error_events_and_the_extension_trait() {
    let harness = Harness::new();
    harness.run(|| {
        let root = info_span!("root");
        let _root = root.enter();
        {
            let _a = info_span!("field", error = "timeout after 3 tries").entered();
        }
        {
            let io = std::io::Error::other("disk full");
            let _b = info_span!("error value", error = &io as &dyn std::error::Error).entered();
        }
        {
            let _c = info_span!("event").entered();
            info!("looking up");
            error!(code = 503, "upstream refused");
            error!("a second error does not replace the first");
        }
        {
            let d = info_span!("trait");
            let _d = d.enter();
            d.set_error("tool crashed");
        }
        {
            let _e = info_span!(
                "otel",
                otel.status_code = "ERROR",
                otel.status_message = "bad input"
            )
            .entered();
        }
        {
            let _f = info_span!(
                "fine",
                otel.status_code = "OK",
                otel.status_message = "all good"
            )
            .entered();
        }
        root.set_error("the turn failed");
    });
    harness.flush();
    let error = |name: &str| harness.event(name).error;
    assert_eq!(error("field").as_deref(), Some("timeout after 3 tries"));
    assert_eq!(error("error value").as_deref(), Some("disk full"));
    assert_eq!(error("event").as_deref(), Some("upstream refused"));
    assert_eq!(error("trait").as_deref(), Some("tool crashed"));
    assert_eq!(error("otel").as_deref(), Some("bad input"));
    assert_eq!(error("fine"), None);
    let session = &harness.server.sessions()[0];
    assert_eq!(object(&session.metadata)["error"], json!("the turn failed"));
}

#[test]
fn events_inside_a_span_are_kept_bounded_in_its_metadata() {
    let harness = Harness::with(|b| b.with_max_events_per_span(3));
    harness.run(|| {
        let _root = info_span!("root").entered();
        let _step = info_span!("step").entered();
        info!(attempt = 1, "first try");
        warn!(attempt = 2, ok = false, "second try");
        for i in 0..10 {
            info!(i, "noise");
        }
    });
    harness.flush();
    let metadata = object(&harness.event("step").metadata);
    let logs = metadata["logs"].as_array().unwrap();
    assert_eq!(logs.len(), 3);
    assert_eq!(logs[0]["message"], json!("first try"));
    assert_eq!(logs[0]["level"], json!("INFO"));
    assert_eq!(logs[0]["fields"], json!({"attempt": 1}));
    assert_eq!(logs[1]["level"], json!("WARN"));
    assert_eq!(logs[1]["fields"], json!({"attempt": 2, "ok": false}));
    assert!(logs[0]["time"].as_i64().unwrap() > 1_700_000_000_000);
    assert_eq!(metadata["logs_dropped"], json!(9));
}

#[test]
fn only_events_at_the_logs_level_are_kept_and_errors_always_count() {
    use tracing::level_filters::LevelFilter;
    use tracing::{debug, error, trace};
    let run = |harness: &Harness| {
        harness.run(|| {
            let _root = info_span!("root").entered();
            let _step = info_span!("step").entered();
            trace!(body = "{\"prompt\": \"secret\"}", "request body");
            debug!("connection reused");
            info!("calling the model");
            error!("the model timed out");
        });
        harness.flush();
        let step = harness.event("step");
        let logs = object(&step.metadata)["logs"].clone();
        let messages: Vec<String> = logs
            .as_array()
            .map(|l| {
                l.iter()
                    .map(|e| e["message"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        (
            messages,
            step.error,
            object(&step.metadata).get("logs_dropped").cloned(),
        )
    };
    // By default, INFO and above: the TRACE body never leaves the process.
    let (messages, error, dropped) = run(&Harness::new());
    assert_eq!(messages, ["calling the model", "the model timed out"]);
    assert_eq!(error.as_deref(), Some("the model timed out"));
    assert_eq!(dropped, None, "events below the level are not losses");
    let (messages, _, _) = run(&Harness::with(|b| b.with_logs_level(LevelFilter::TRACE)));
    assert_eq!(messages.len(), 4);
    let (messages, error, _) = run(&Harness::with(|b| b.with_logs_level(LevelFilter::OFF)));
    assert!(messages.is_empty());
    assert_eq!(
        error.as_deref(),
        Some("the model timed out"),
        "errors always count"
    );
}

#[test]
fn langfuse_fields_on_events_inside_a_span_are_the_spans_own() {
    use tracing::debug;
    let harness = Harness::new();
    harness.run(|| {
        let _root = info_span!("agent").entered();
        // As swiftide records a completion: the type on the span, the rest on DEBUG events.
        let _llm = info_span!("complete", langfuse.r#type = "GENERATION").entered();
        debug!(langfuse.model = "gpt-4o-mini");
        debug!(langfuse.input = r#"[{"role":"user","content":"Hi"}]"#);
        debug!(
            langfuse.output = r#"{"role":"assistant","content":"Hello"}"#,
            langfuse.usage = r#"{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}"#,
        );
    });
    harness.flush();
    let llm = harness.event("complete");
    assert_eq!(llm.event_type.as_deref(), Some("model"));
    assert_eq!(object(&llm.config)["model"], json!("gpt-4o-mini"));
    assert_eq!(
        object(&llm.inputs)["chat_history"],
        json!([{"role": "user", "content": "Hi"}])
    );
    let metadata = object(&llm.metadata);
    assert_eq!(metadata["prompt_tokens"], json!(3));
    assert_eq!(metadata["total_tokens"], json!(5));
    assert_eq!(
        metadata.get("logs"),
        None,
        "DEBUG events are not kept by default"
    );
}

#[test]
fn with_content_off_the_structure_stays_and_the_text_does_not_leave() {
    let harness = Harness::with(|b| b.with_capture_content(false));
    let history = r#"[{"role":"user","parts":[{"type":"text","content":"My card is 4111"}]},{"role":"assistant","parts":[{"type":"tool_call","id":"c1","name":"refund","arguments":{"card":"4111"}}]}]"#;
    let answer = r#"[{"role":"assistant","parts":[{"type":"text","content":"Refunded 4111"}],"finish_reason":"stop"}]"#;
    harness.run(|| {
        let _root = info_span!("support", inputs.question = "refund my card 4111").entered();
        let _llm = info_span!(
            "chat",
            gen_ai.operation.name = "chat",
            gen_ai.request.model = "gpt-4o-mini",
            gen_ai.usage.input_tokens = 30,
            gen_ai.input.messages = history,
            gen_ai.output.messages = answer,
        )
        .entered();
        let _tool = info_span!(
            "execute_tool",
            gen_ai.operation.name = "execute_tool",
            gen_ai.tool.name = "refund",
            gen_ai.tool.call.arguments = r#"{"card":"4111"}"#,
            gen_ai.tool.call.result = "refunded 4111",
            error = "card declined",
        )
        .entered();
    });
    harness.flush();
    let sent = harness.server.received_bodies();
    assert!(!sent.contains("4111"), "content left the process: {sent}");
    let llm = harness.event("chat gpt-4o-mini");
    assert_eq!(
        object(&llm.inputs)["chat_history"],
        json!([
            {"role": "user", "content": "[hidden]"},
            {"role": "assistant", "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "refund", "arguments": "[hidden]"}}
            ]},
        ])
    );
    let outputs = object(&llm.outputs);
    assert_eq!(outputs["content"], json!("[hidden]"));
    assert_eq!(outputs["role"], json!("assistant"));
    assert_eq!(outputs["finish_reason"], json!("stop"));
    assert_eq!(object(&llm.config)["model"], json!("gpt-4o-mini"));
    assert_eq!(object(&llm.metadata)["prompt_tokens"], json!(30));
    let tool = harness.event("execute_tool refund");
    assert_eq!(
        object(&tool.inputs)["arguments"],
        json!({"card": "[hidden]"})
    );
    assert_eq!(object(&tool.outputs)["result"], json!("[hidden]"));
    assert_eq!(
        tool.error.as_deref(),
        Some("card declined"),
        "errors are kept"
    );
    let session = harness.only_tree().event;
    assert_eq!(object(&session.inputs)["question"], json!("[hidden]"));
}

#[test]
fn huge_fields_are_cut_with_a_marker_and_counted_and_non_finite_floats_become_strings() {
    let harness = Harness::with(|b| b.with_max_field_bytes(1024));
    let huge = "x".repeat(100_000);
    harness.run(|| {
        let _root = info_span!("root").entered();
        let step = info_span!(
            "step",
            inputs.document = huge.as_str(),
            metrics.nan = f64::NAN,
            metrics.inf = f64::INFINITY,
            metrics.neg = f64::NEG_INFINITY,
            blob = ?vec![0u8; 50_000],
        );
        let _step = step.enter();
        step.set_outputs(json!({"echo": huge}));
    });
    let report = harness.flush();
    let step = harness.event("step");
    let document = object(&step.inputs)["document"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(document.len() < 1100, "{}", document.len());
    assert!(
        document.ends_with("…[truncated 98976 bytes]"),
        "{}",
        &document[1000..]
    );
    let echo = object(&step.outputs)["echo"].as_str().unwrap().to_owned();
    assert!(
        echo.len() < 1100 && echo.contains("…[truncated"),
        "{}",
        echo.len()
    );
    let blob = object(&step.metadata)["blob"].as_str().unwrap().to_owned();
    assert!(
        blob.ends_with("…[truncated]") && blob.len() < 1100,
        "{}",
        blob.len()
    );
    assert_eq!(
        object(&step.metrics),
        json!({"nan": "NaN", "inf": "inf", "neg": "-inf"})
    );
    assert_eq!(report.stats.fields_truncated, 3);
}

#[test]
fn honeyhive_sdk_control_names_set_the_type_name_and_error() {
    let harness = Harness::new();
    harness.run(|| {
        let _root = info_span!("root").entered();
        drop(
            info_span!(
                "span",
                honeyhive_event_type = "tool",
                honeyhive_event_name = "lookup_order",
                honeyhive_error = "order service timed out",
                honeyhive_inputs.order.id = 42,
            )
            .entered(),
        );
    });
    harness.flush();
    let event = harness.event("lookup_order");
    assert_eq!(event.event_type.as_deref(), Some("tool"));
    assert_eq!(event.error.as_deref(), Some("order service timed out"));
    assert_eq!(event.inputs, Some(serde_json::json!({"order": {"id": 42}})));
}

#[test]
fn langchain_rust_spans_become_typed_events_with_the_figures_in_canonical_keys() {
    let harness = Harness::new();
    harness.run(|| {
        let _turn = info_span!("turn").entered();
        crate::common::langchain_agent_run();
    });
    harness.flush();
    let tree = harness.only_tree();
    assert_eq!(
        tree.children.len(),
        1,
        "{:?}",
        crate::common::outline(&tree)
    );
    crate::common::assert_langchain_agent_run(&tree.children[0]);
}

#[test]
fn langchain_rusts_span_names_from_another_target_map_as_any_span() {
    let harness = Harness::new();
    harness.run(|| {
        let _turn = info_span!("turn").entered();
        crate::common::other_crates_llm_generate();
    });
    harness.flush();
    let llm = harness.event("llm.generate");
    assert_eq!(llm.event_type.as_deref(), Some("chain"));
    assert_eq!(object(&llm.config), json!({}));
    assert_eq!(
        object(&llm.metadata),
        json!({"provider": "openai", "model": "gpt-4o-mini", "prompt_tokens": 21})
    );
}
